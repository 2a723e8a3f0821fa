// TURN credentials are checked against an independent HMAC implementation (Node's), not against
// this module's own WebCrypto code: a test may use node:*, the module may not.
// eslint-disable-next-line no-restricted-imports -- independent reference implementation
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { iceServers, turnCredentials, type TurnConfig } from './ice.js';

/** What coturn computes for `use-auth-secret`: base64(HMAC-SHA1(secret, username)). */
const reference = (secret: string, username: string): string =>
  createHmac('sha1', Buffer.from(secret, 'utf8')).update(username, 'utf8').digest('base64');

const EXPIRY = 1_767_225_600;
const TURN: TurnConfig = {
  secret: 'coturn-static-auth-secret',
  urls: ['turn:turn.example.com:3478?transport=udp', 'turns:turn.example.com:5349?transport=tcp'],
};

describe('turnCredentials', () => {
  it('returns username "<expiry>:<peer>" and base64 HMAC-SHA1 of it', async () => {
    const c = await turnCredentials('s3cret', 'alice', EXPIRY);
    expect(c.username).toBe('1767225600:alice');
    expect(c.credential).toBe(reference('s3cret', '1767225600:alice'));
    // standard base64 with padding (20 bytes → 28 characters ending in '='), as coturn expects
    expect(c.credential).toMatch(/^[A-Za-z0-9+/]{27}=$/);
  });

  it('keys the HMAC with the UTF-8 bytes of a non-ASCII secret', async () => {
    const secret = 'ñandú-✓-secret';
    const c = await turnCredentials(secret, 'bob', EXPIRY);
    expect(c.credential).toBe(reference(secret, `${EXPIRY}:bob`));
  });

  it('floors a fractional expiry to whole seconds', async () => {
    const c = await turnCredentials('s3cret', 'alice', EXPIRY + 0.9);
    expect(c.username).toBe(`${EXPIRY}:alice`);
    expect(c.credential).toBe(reference('s3cret', `${EXPIRY}:alice`));
  });

  it('differs with the secret, the peer and the expiry', async () => {
    const base = await turnCredentials('s3cret', 'alice', EXPIRY);
    const others = await Promise.all([
      turnCredentials('other', 'alice', EXPIRY),
      turnCredentials('s3cret', 'alicf', EXPIRY),
      turnCredentials('s3cret', 'alice', EXPIRY + 1),
    ]);
    for (const o of others) expect(o.credential).not.toBe(base.credential);
  });
});

describe('iceServers', () => {
  it('is empty with no STUN and no TURN', async () => {
    expect(await iceServers({ stun: null, turn: undefined, peer: 'a', expiresAt: EXPIRY })).toEqual(
      [],
    );
  });

  it('lists Punch STUN alone when there is no TURN', async () => {
    const out = await iceServers({
      stun: { host: 'punch.example', port: 3478 },
      turn: undefined,
      peer: 'alice',
      expiresAt: EXPIRY,
    });
    expect(out).toEqual([{ urls: ['stun:punch.example:3478'] }]);
  });

  it('brackets an IPv6 STUN host and leaves IPv4 alone', async () => {
    const v6 = await iceServers({
      stun: { host: '2001:db8::1', port: 3479 },
      turn: undefined,
      peer: 'alice',
      expiresAt: EXPIRY,
    });
    expect(v6).toEqual([{ urls: ['stun:[2001:db8::1]:3479'] }]);
    const v4 = await iceServers({
      stun: { host: '203.0.113.7', port: 3478 },
      turn: undefined,
      peer: 'alice',
      expiresAt: EXPIRY,
    });
    expect(v4).toEqual([{ urls: ['stun:203.0.113.7:3478'] }]);
  });

  it('adds TURN with credentials that expire exactly at expiresAt', async () => {
    const out = await iceServers({
      stun: { host: 'punch.example', port: 3478 },
      turn: TURN,
      peer: 'alice',
      expiresAt: EXPIRY,
    });
    expect(out).toEqual([
      { urls: ['stun:punch.example:3478'] },
      {
        urls: [...TURN.urls],
        username: `${EXPIRY}:alice`,
        credential: reference(TURN.secret, `${EXPIRY}:alice`),
      },
    ]);
    // the URLs are a copy: a caller mutating the answer cannot change the config
    expect(out[1]?.urls).not.toBe(TURN.urls);
  });

  it('lists TURN alone when there is no STUN', async () => {
    const out = await iceServers({ stun: null, turn: TURN, peer: 'bob', expiresAt: EXPIRY + 60 });
    expect(out).toHaveLength(1);
    expect(out[0]?.username).toBe(`${EXPIRY + 60}:bob`);
    expect(out[0]?.credential).toBe(reference(TURN.secret, `${EXPIRY + 60}:bob`));
  });

  it('skips TURN configured with no URLs', async () => {
    const out = await iceServers({
      stun: null,
      turn: { secret: 'x', urls: [] },
      peer: 'bob',
      expiresAt: EXPIRY,
    });
    expect(out).toEqual([]);
  });
});
