import { describe, expect, it } from 'vitest';
import { utf8 } from '../encoding.js';
import { checkNonce, issueNonce, nonceKey } from './nonce.js';

describe('stateless nonces', () => {
  const now = 1767225600;

  it('is valid until its expiry, then stale', async () => {
    const key = await nonceKey(utf8('turn secret'));
    const nonce = await issueNonce(key, now + 600, '198.51.100.7:4242');
    for (const t of [now, now + 600]) {
      expect(await checkNonce(key, nonce, t, '198.51.100.7:4242')).toBe('valid');
    }
    expect(await checkNonce(key, nonce, now + 601, '198.51.100.7:4242')).toBe('stale');
  });

  it('fits NONCE and does not look like an RFC 8489 nonce cookie', async () => {
    const nonce = await issueNonce(await nonceKey(utf8('k')), now);
    expect(nonce).toMatch(/^\d+\.[A-Za-z0-9_-]{22}$/);
    expect(nonce.length).toBeLessThan(128);
    expect(nonce.startsWith('obMatJos2')).toBe(false);
  });

  it('is invalid under another key, for another context, or when altered', async () => {
    const key = await nonceKey(utf8('turn secret'));
    const nonce = await issueNonce(key, now + 600, 'a');
    expect(await checkNonce(await nonceKey(utf8('rotated')), nonce, now, 'a')).toBe('invalid');
    expect(await checkNonce(key, nonce, now, 'b')).toBe('invalid');
    expect(await checkNonce(key, nonce, now)).toBe('invalid');
    // Extending the expiry breaks the MAC: stale nonces cannot be revived.
    const [, mac] = nonce.split('.');
    expect(await checkNonce(key, `${now + 6000}.${mac}`, now, 'a')).toBe('invalid');
    const flipped = nonce.slice(0, -1) + (nonce.endsWith('A') ? 'B' : 'A');
    expect(await checkNonce(key, flipped, now, 'a')).toBe('invalid');
  });

  it('is invalid for anything not shaped like one, without throwing', async () => {
    const key = await nonceKey(utf8('turn secret'));
    for (const nonce of [
      '',
      '.',
      'f//499k954d6OL34oL9FSTvy64sA',
      `${now}.`,
      `0${now}.AAAAAAAAAAAAAAAAAAAAAA`,
      `${now}.AAAAAAAAAAAAAAAAAAAAA`,
      `${now}.AAAAAAAAAAAAAAAAAAAAAAA`,
      `${now}.AAAAAAAAAAAAAAAAAAAAA/`,
      `${now}.AAAAAAAAAAAAAAAAAAAAAB`, // non-canonical base64url: stray low bits
      `${now}.AAAAAAAAAAAAAAAAAAAAAA\n`,
      '9'.repeat(16) + '.AAAAAAAAAAAAAAAAAAAAAA',
    ]) {
      expect(await checkNonce(key, nonce, now), nonce).toBe('invalid');
    }
  });

  it('refuses to issue a nonce without a whole expiry', async () => {
    const key = await nonceKey(utf8('k'));
    await expect(issueNonce(key, 1.5)).rejects.toThrow(RangeError);
    await expect(issueNonce(key, -1)).rejects.toThrow(RangeError);
  });
});
