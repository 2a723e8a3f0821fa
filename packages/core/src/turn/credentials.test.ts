import { describe, expect, it } from 'vitest';
import { hex } from '../encoding.js';
import { turnCredentials } from '../signal/ice.js';
import { longTermKey, turnRestPassword } from './credentials.js';
import { encodeSignedMessage, verifyIntegrity } from './integrity.js';
import { STUN_METHOD, parseMessage } from './message.js';
import { RFC5769_LONG_TERM, fromHex } from '../stun/test/vectors.js';
import { findAttribute } from './attributes.js';

describe('longTermKey', () => {
  it('is MD5(username:realm:password) on the RFC 5769 §2.4 credentials', () => {
    const { username, realm, password } = RFC5769_LONG_TERM;
    // Digest from an independent MD5 (OpenSSL) over the same UTF-8 bytes.
    expect(hex(longTermKey(username, realm, password))).toBe('e8ca7ad59d5eb0518e312911d2dab2a9');
  });

  it('takes prepared strings: the RFC password is SASLprep of a form it does not hash as is', () => {
    // RFC 5769 §2.4 gives the password as "The<U+00AD>M<U+00AA>tr<U+2168>" before SASLprep
    // (which maps the soft hyphen to nothing and applies NFKC). The key is over the prepared
    // form; longTermKey does no preparation, so the raw form gives another key.
    const raw = 'The\u00adM\u00aatr\u2168';
    const prepared = raw.replace(/\u00ad/g, '').normalize('NFKC');
    expect(prepared).toBe(RFC5769_LONG_TERM.password);
    const { username, realm } = RFC5769_LONG_TERM;
    expect(hex(longTermKey(username, realm, raw))).not.toBe(
      hex(longTermKey(username, realm, prepared)),
    );
  });
});

describe('turnRestPassword', () => {
  const secret = 's3cret';
  const expiry = 1767225600;

  it('derives the password turnCredentials handed out, until the expiry', async () => {
    const minted = await turnCredentials(secret, 'alice', expiry);
    for (const now of [0, expiry - 1, expiry]) {
      expect(await turnRestPassword(secret, minted.username, now)).toEqual({
        ok: true,
        password: minted.credential,
        expiresAt: expiry,
        id: 'alice',
      });
    }
    expect(await turnRestPassword(secret, minted.username, expiry + 1)).toEqual({
      ok: false,
      reason: 'expired',
    });
  });

  it('keeps colons in the id, and derives another password under another secret', async () => {
    const minted = await turnCredentials(secret, 'room:alice', expiry);
    const verdict = await turnRestPassword(secret, minted.username, expiry);
    expect(verdict).toMatchObject({ ok: true, id: 'room:alice', password: minted.credential });
    const other = await turnRestPassword('other', minted.username, expiry);
    expect(other.ok && other.password).not.toBe(minted.credential);
  });

  it('refuses usernames that are not <expiry>:<id> in canonical decimal', async () => {
    for (const username of [
      '',
      'alice',
      ':alice',
      '1767225600',
      '01767225600:alice',
      '+1767225600:alice',
      '-1:alice',
      '1e9:alice',
      '1767225600.0:alice',
      ' 1767225600:alice',
      '1234567890123456:alice',
      'alice:1767225600',
    ]) {
      expect(await turnRestPassword(secret, username, 0), username).toEqual({
        ok: false,
        reason: 'malformed',
      });
    }
  });

  it('lets a server check a client request signed with REST credentials, end to end', async () => {
    const realm = 'punch';
    const { username, credential } = await turnCredentials(secret, 'alice', expiry);
    const request = await encodeSignedMessage(
      {
        method: STUN_METHOD.allocate,
        class: 'request',
        transactionId: fromHex('0102030405060708090a0b0c'),
        attributes: [
          { type: 'REQUESTED-TRANSPORT', protocol: 17 },
          { type: 'USERNAME', value: username },
          { type: 'REALM', value: realm },
          { type: 'NONCE', value: 'n' },
        ],
      },
      longTermKey(username, realm, credential),
      { fingerprint: true },
    );

    const parsed = parseMessage(request);
    if (!parsed.ok) throw new Error(parsed.reason);
    const sent = findAttribute(parsed.message.attributes, 'USERNAME')?.value ?? '';
    const verdict = await turnRestPassword(secret, sent, expiry - 60);
    if (!verdict.ok) throw new Error(verdict.reason);
    const key = longTermKey(sent, realm, verdict.password);
    expect(await verifyIntegrity(parsed.message, key)).toBe(true);
    const forged = longTermKey(
      sent,
      realm,
      (await turnCredentials('guess', 'alice', expiry)).credential,
    );
    expect(await verifyIntegrity(parsed.message, forged)).toBe(false);
  });
});
