// The wire format is checked against an independent HMAC implementation (Node's), not against
// this module's own WebCrypto code: a test may use node:*, the module may not.
// eslint-disable-next-line no-restricted-imports -- independent reference implementation
import { createHmac } from 'node:crypto';
import { describe, it, expect } from 'vitest';
import { PunchError, type ErrorCode } from '../errors.js';
import type { TokenClaims } from './claims.js';
import {
  KeyRing,
  MAX_TOKEN_LENGTH,
  WS_PROTOCOL,
  bearer,
  signToken,
  tokenFromProtocols,
  verifyToken,
} from './token.js';

// Non-ASCII on purpose: the key must be the UTF-8 bytes of the secret, not Latin-1 or UTF-16.
const SECRET = 'ñandú-secret-for-unit-tests-0123456789-ß-✓';
const OTHER_SECRET = 'another-secret-that-is-long-enough-0123456789';
const NOW = 1_741_234_000;

const claims = (over: Partial<TokenClaims> = {}): TokenClaims => ({
  session: 'nab-floor-cam1',
  role: 'admin',
  stream: null,
  exp: NOW + 1800,
  ...over,
});

/** Builds a token with Node's crypto only: `p_` + b64url(payload) + `.` + b64url(HMAC). */
function reference(payload: string, secret = SECRET): string {
  const head = 'p_' + Buffer.from(payload, 'utf8').toString('base64url');
  const sig = createHmac('sha256', Buffer.from(secret, 'utf8')).update(head, 'ascii').digest();
  return `${head}.${sig.toString('base64url')}`;
}

async function codeOf(p: Promise<unknown>): Promise<ErrorCode | 'resolved'> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    if (err instanceof PunchError) return err.code;
    throw err;
  }
}

const ring = (): Promise<KeyRing> => KeyRing.fromSecrets(SECRET);

describe('signToken / verifyToken', () => {
  it('round-trips the claims, including optional iat and jti', async () => {
    const keys = await ring();
    const c = claims({ role: 'peer', stream: 'cam-wide', iat: NOW - 5, jti: 'abc123' });
    const token = await signToken(keys, c);
    const v = await verifyToken(keys, token, { session: 'nab-floor-cam1', now: NOW });
    expect(v.claims).toEqual(c);
    expect(v.stale).toBe(false);
  });

  it('produces exactly p_ + base64url(JSON) + "." + base64url(HMAC-SHA256 over the head)', async () => {
    const keys = await ring();
    const c = claims({ stream: 'cam-close', role: 'peer' });
    const token = await signToken(keys, c);

    expect(token).toMatch(/^p_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/); // no padding, no + or /
    const dot = token.indexOf('.');
    const head = token.slice(0, dot);
    expect(head.startsWith('p_')).toBe(true);

    const payload: unknown = JSON.parse(Buffer.from(head.slice(2), 'base64url').toString('utf8'));
    expect(payload).toEqual(c);

    const expectedSig = createHmac('sha256', Buffer.from(SECRET, 'utf8'))
      .update(head, 'ascii')
      .digest('base64url');
    expect(token.slice(dot + 1)).toBe(expectedSig);

    // The MAC covers the `p_` prefix too: a MAC over the payload alone is something else.
    const withoutPrefix = createHmac('sha256', Buffer.from(SECRET, 'utf8'))
      .update(head.slice(2), 'ascii')
      .digest('base64url');
    expect(token.slice(dot + 1)).not.toBe(withoutPrefix);
  });

  it('verifies a token built independently with node:crypto', async () => {
    const keys = await ring();
    const c = claims({ role: 'peer', stream: 'cam-wide' });
    const token = reference(JSON.stringify(c));
    const v = await verifyToken(keys, token, { session: c.session, now: NOW });
    expect(v.claims).toEqual(c);
  });

  it('accepts the payload from the seed example shape (JSON with whitespace)', async () => {
    const keys = await ring();
    const token = reference(
      '{ "session": "nab-floor-cam1", "role": "admin", "stream": null, "exp": 1741234567}',
    );
    const v = await verifyToken(keys, token, { now: 1741234566 });
    expect(v.claims).toEqual({
      session: 'nab-floor-cam1',
      role: 'admin',
      stream: null,
      exp: 1741234567,
    });
  });
});

describe('verifyToken failures have distinct codes', () => {
  it('ERR_TOKEN_MALFORMED: no prefix, no dot, bad base64, empty', async () => {
    const keys = await ring();
    const good = await signToken(keys, claims());
    const opts = { now: NOW };
    expect(await codeOf(verifyToken(keys, good, opts))).toBe('resolved');

    expect(await codeOf(verifyToken(keys, good.slice(2), opts))).toBe('ERR_TOKEN_MALFORMED');
    expect(await codeOf(verifyToken(keys, 'x_' + good.slice(2), opts))).toBe('ERR_TOKEN_MALFORMED');
    expect(await codeOf(verifyToken(keys, good.replace('.', ''), opts))).toBe(
      'ERR_TOKEN_MALFORMED',
    );
    expect(await codeOf(verifyToken(keys, good + '.x', opts))).toBe('ERR_TOKEN_MALFORMED');
    expect(await codeOf(verifyToken(keys, '', opts))).toBe('ERR_TOKEN_MALFORMED');
    // Standard base64 characters and padding are not base64url.
    const [head, sig] = good.split('.') as [string, string];
    expect(await codeOf(verifyToken(keys, `${head}+/.${sig}`, opts))).toBe('ERR_TOKEN_MALFORMED');
    expect(await codeOf(verifyToken(keys, `${head}.${sig}=`, opts))).toBe('ERR_TOKEN_MALFORMED');
  });

  it('ERR_TOKEN_MALFORMED: base64url of impossible length or non-canonical, even when signed', async () => {
    const keys = await ring();
    // Length 1 mod 4 cannot be base64: signed over anyway, so only decoding can catch it.
    const sign = (head: string): string =>
      `${head}.${createHmac('sha256', Buffer.from(SECRET, 'utf8')).update(head).digest('base64url')}`;
    expect(await codeOf(verifyToken(keys, sign('p_eyJhI'), { now: NOW }))).toBe(
      'ERR_TOKEN_MALFORMED',
    );
    // "QR" has stray low bits ("QQ" is the canonical encoding of "A").
    expect(await codeOf(verifyToken(keys, sign('p_QR'), { now: NOW }))).toBe('ERR_TOKEN_MALFORMED');
  });

  it('ERR_TOKEN_MALFORMED for non-canonical base64url: one token text per value', async () => {
    const keys = await ring();
    const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // Setting the lowest bit of the last character touches only the unused trailing bits.
    const bump = (b64: string): string =>
      b64.slice(0, -1) + ALPHABET.charAt(ALPHABET.indexOf(b64.slice(-1)) + 1);

    // A valid payload whose encoding has trailing bits (length not a multiple of 4).
    let payload = JSON.stringify(claims());
    while (Buffer.from(payload).toString('base64url').length % 4 === 0) payload += ' ';
    const canonical = reference(payload);
    expect(await codeOf(verifyToken(keys, canonical, { now: NOW }))).toBe('resolved');
    const head = 'p_' + bump(Buffer.from(payload).toString('base64url'));
    expect(Buffer.from(head.slice(2), 'base64url').toString()).toBe(payload); // same bytes
    const sig = createHmac('sha256', Buffer.from(SECRET, 'utf8')).update(head).digest('base64url');
    expect(await codeOf(verifyToken(keys, `${head}.${sig}`, { now: NOW }))).toBe(
      'ERR_TOKEN_MALFORMED',
    );

    // The same for the signature: 43 characters carry 2 unused bits.
    const [cHead, cSig] = canonical.split('.') as [string, string];
    expect(Buffer.from(bump(cSig), 'base64url').equals(Buffer.from(cSig, 'base64url'))).toBe(true);
    expect(await codeOf(verifyToken(keys, `${cHead}.${bump(cSig)}`, { now: NOW }))).toBe(
      'ERR_TOKEN_MALFORMED',
    );
  });

  it(`ERR_TOKEN_MALFORMED above ${MAX_TOKEN_LENGTH} characters, even when validly signed`, async () => {
    const keys = await ring();
    // JSON whitespace pads a valid payload to any length, so only the length rule can refuse it.
    const ofLength = (n: number): string => {
      for (let pad = 0; pad < 2000; pad++) {
        const t = reference(
          `{"session":"nab-floor-cam1","role":"admin","stream":null,"exp":${NOW + 60}${' '.repeat(pad)}}`,
        );
        if (t.length === n) return t;
      }
      throw new Error(`no token of length ${n}`);
    };
    const atLimit = ofLength(MAX_TOKEN_LENGTH);
    const overLimit = ofLength(MAX_TOKEN_LENGTH + 1);
    expect(MAX_TOKEN_LENGTH).toBe(1024);
    expect(await codeOf(verifyToken(keys, atLimit, { now: NOW }))).toBe('resolved');
    expect(await codeOf(verifyToken(keys, overLimit, { now: NOW }))).toBe('ERR_TOKEN_MALFORMED');
  });

  it('ERR_TOKEN_MALFORMED for a validly signed payload that is not JSON or has the wrong shape', async () => {
    const keys = await ring();
    const bad = [
      'not json',
      '[]',
      'null',
      '{"session":"nab-floor-cam1","role":"root","stream":null,"exp":9999999999}',
      '{"session":"nab-floor-cam1","role":"admin","exp":9999999999}', // stream missing
      '{"session":"nab-floor-cam1","role":"admin","stream":null,"exp":"9999999999"}',
      '{"session":"nab-floor-cam1","role":"admin","stream":null,"exp":9999999999.5}',
      '{"session":"NAB","role":"admin","stream":null,"exp":9999999999}',
      '{"session":"nab-floor-cam1","role":"peer","stream":"Cam_1","exp":9999999999}',
      '{"session":"nab-floor-cam1","role":"admin","stream":null,"exp":9999999999,"sudo":true}',
    ];
    for (const payload of bad) {
      expect(await codeOf(verifyToken(keys, reference(payload), { now: NOW })), payload).toBe(
        'ERR_TOKEN_MALFORMED',
      );
    }
  });

  it('ERR_TOKEN_SIGNATURE: payload tampered, signature tampered, other secret', async () => {
    const keys = await ring();
    const token = await signToken(keys, claims({ role: 'peer', stream: 'cam-wide' }));
    const [head, sig] = token.split('.') as [string, string];

    // Payload swapped for an admin one, old signature kept.
    const forgedHead =
      'p_' + Buffer.from(JSON.stringify(claims({ role: 'admin' }))).toString('base64url');
    expect(await codeOf(verifyToken(keys, `${forgedHead}.${sig}`, { now: NOW }))).toBe(
      'ERR_TOKEN_SIGNATURE',
    );

    // One bit of the signature flipped (still canonical base64url of 32 bytes).
    const sigBytes = Buffer.from(sig, 'base64url');
    sigBytes[0] = sigBytes[0]! ^ 1;
    expect(
      await codeOf(verifyToken(keys, `${head}.${sigBytes.toString('base64url')}`, { now: NOW })),
    ).toBe('ERR_TOKEN_SIGNATURE');

    const other = await KeyRing.fromSecrets(OTHER_SECRET);
    expect(await codeOf(verifyToken(other, token, { now: NOW }))).toBe('ERR_TOKEN_SIGNATURE');
  });

  it('checks the signature before the payload: a forged expired token is a signature error', async () => {
    const keys = await ring();
    const forged = reference(JSON.stringify(claims({ exp: NOW - 10 })), OTHER_SECRET);
    expect(await codeOf(verifyToken(keys, forged, { now: NOW }))).toBe('ERR_TOKEN_SIGNATURE');
    const forgedJunk = reference('not json', OTHER_SECRET);
    expect(await codeOf(verifyToken(keys, forgedJunk, { now: NOW }))).toBe('ERR_TOKEN_SIGNATURE');
  });

  it('ERR_TOKEN_EXPIRED at exp == now, with no leeway; exp = now + 1 is fine', async () => {
    const keys = await ring();
    const token = await signToken(keys, claims({ exp: NOW }));
    expect(await codeOf(verifyToken(keys, token, { now: NOW }))).toBe('ERR_TOKEN_EXPIRED');
    expect(await codeOf(verifyToken(keys, token, { now: NOW + 3600 }))).toBe('ERR_TOKEN_EXPIRED');
    expect(await codeOf(verifyToken(keys, token, { now: NOW - 0.001 }))).toBe('resolved');
    expect(await codeOf(verifyToken(keys, token, { now: NOW - 1 }))).toBe('resolved');

    const later = await signToken(keys, claims({ exp: NOW + 1 }));
    expect(await codeOf(verifyToken(keys, later, { now: NOW }))).toBe('resolved');
    expect(await codeOf(verifyToken(keys, later, { now: NOW + 1 }))).toBe('ERR_TOKEN_EXPIRED');
  });

  it('ERR_TOKEN_WRONG_SESSION for a valid token of another session', async () => {
    const keys = await ring();
    const token = await signToken(keys, claims({ session: 'show-a' }));
    expect(await codeOf(verifyToken(keys, token, { session: 'show-b', now: NOW }))).toBe(
      'ERR_TOKEN_WRONG_SESSION',
    );
    expect(await codeOf(verifyToken(keys, token, { session: 'show-a', now: NOW }))).toBe(
      'resolved',
    );
    // Without a session to check against (session creation), any session is fine.
    expect(await codeOf(verifyToken(keys, token, { now: NOW }))).toBe('resolved');
  });

  it('the failure codes are all different and all HTTP 401', async () => {
    const keys = await ring();
    const good = await signToken(keys, claims());
    const codes = [
      await codeOf(verifyToken(keys, 'junk', { now: NOW })),
      await codeOf(
        verifyToken(keys, reference(JSON.stringify(claims()), OTHER_SECRET), { now: NOW }),
      ),
      await codeOf(verifyToken(keys, good, { now: NOW + 999_999 })),
      await codeOf(verifyToken(keys, good, { session: 'other-show', now: NOW })),
    ];
    expect(codes).toEqual([
      'ERR_TOKEN_MALFORMED',
      'ERR_TOKEN_SIGNATURE',
      'ERR_TOKEN_EXPIRED',
      'ERR_TOKEN_WRONG_SESSION',
    ]);
    for (const code of codes) {
      expect(new PunchError(code as ErrorCode).status).toBe(401);
    }
  });
});

describe('KeyRing', () => {
  it('a previous secret still verifies, flagged stale; the current one signs', async () => {
    const before = await KeyRing.fromSecrets(OTHER_SECRET);
    const oldToken = await signToken(before, claims());
    const rotated = await KeyRing.fromSecrets(SECRET, [OTHER_SECRET]);

    const v = await verifyToken(rotated, oldToken, { now: NOW });
    expect(v.stale).toBe(true);
    expect(v.claims).toEqual(claims());

    const fresh = await signToken(rotated, claims());
    const vf = await verifyToken(rotated, fresh, { now: NOW });
    expect(vf.stale).toBe(false);
    // Signed with the new secret only: the old ring does not accept it, the reference agrees.
    expect(await codeOf(verifyToken(before, fresh, { now: NOW }))).toBe('ERR_TOKEN_SIGNATURE');
    expect(fresh).toBe(reference(payloadOf(fresh), SECRET));

    // After the rotation window the old token is refused.
    const after = await KeyRing.fromSecrets(SECRET);
    expect(await codeOf(verifyToken(after, oldToken, { now: NOW }))).toBe('ERR_TOKEN_SIGNATURE');
  });

  it('refuses secrets shorter than 32 bytes (counted in UTF-8 bytes)', async () => {
    await expect(KeyRing.fromSecrets('a'.repeat(31))).rejects.toThrow(RangeError);
    await expect(KeyRing.fromSecrets('a'.repeat(32))).resolves.toBeInstanceOf(KeyRing);
    // 16 characters but 32 bytes.
    await expect(KeyRing.fromSecrets('é'.repeat(16))).resolves.toBeInstanceOf(KeyRing);
    // 16 characters but 31 bytes.
    await expect(KeyRing.fromSecrets('é'.repeat(15) + 'a')).rejects.toThrow(RangeError);
    // A short previous secret is refused too.
    await expect(KeyRing.fromSecrets(SECRET, ['short'])).rejects.toThrow(RangeError);
  });
});

function payloadOf(token: string): string {
  return Buffer.from(token.slice(2, token.indexOf('.')), 'base64url').toString('utf8');
}

describe('bearer()', () => {
  it('extracts the token from an Authorization header', () => {
    expect(bearer('Bearer p_abc.def')).toBe('p_abc.def');
    expect(bearer('bearer p_abc.def')).toBe('p_abc.def');
    expect(bearer('BEARER   p_abc.def  ')).toBe('p_abc.def');
  });

  it('returns undefined for anything else', () => {
    expect(bearer(null)).toBeUndefined();
    expect(bearer(undefined)).toBeUndefined();
    expect(bearer('')).toBeUndefined();
    expect(bearer('Bearer')).toBeUndefined();
    expect(bearer('Bearer ')).toBeUndefined();
    expect(bearer('Basic dXNlcjpwYXNz')).toBeUndefined();
    expect(bearer('p_abc.def')).toBeUndefined();
    expect(bearer('Bearer p_abc.def extra')).toBeUndefined();
    expect(bearer('XBearer p_abc.def')).toBeUndefined();
  });
});

describe('tokenFromProtocols()', () => {
  it('finds punch.token.<token> among the offered subprotocols', () => {
    expect(WS_PROTOCOL).toBe('punch.v1');
    expect(tokenFromProtocols('punch.v1, punch.token.p_abc.def')).toBe('p_abc.def');
    expect(tokenFromProtocols('punch.token.p_abc.def,punch.v1')).toBe('p_abc.def');
    expect(tokenFromProtocols('  punch.token.p_x.y  ')).toBe('p_x.y');
  });

  it('returns undefined when no token is offered', () => {
    expect(tokenFromProtocols(null)).toBeUndefined();
    expect(tokenFromProtocols(undefined)).toBeUndefined();
    expect(tokenFromProtocols('')).toBeUndefined();
    expect(tokenFromProtocols('punch.v1')).toBeUndefined();
    expect(tokenFromProtocols('punch.v1, chat')).toBeUndefined();
    expect(tokenFromProtocols('x.punch.token.p_abc.def')).toBeUndefined();
  });

  it('round-trips a real token through the subprotocol header', async () => {
    const keys = await ring();
    const token = await signToken(keys, claims());
    const found = tokenFromProtocols(`${WS_PROTOCOL}, punch.token.${token}`);
    expect(found).toBe(token);
    const v = await verifyToken(keys, found!, { now: NOW });
    expect(v.claims.session).toBe('nab-floor-cam1');
  });
});
