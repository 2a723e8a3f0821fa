import { FlattenedSign, SignJWT, importJWK, type JWTHeaderParameters, type JWTPayload } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { base64url, utf8 } from '../encoding.js';
import { PunchError, type ErrorCode } from '../errors.js';
import { generateProjectKey, type KeyAlg, type KeyRecord } from '../project/keys.js';
import {
  MAX_PEER_TOKEN_LENGTH,
  PEER_TOKEN_MAX_TTL,
  importPublicKey,
  verifyPeerToken,
  type PeerTokenOptions,
} from './peer-token.js';

type ProjectKey = Awaited<ReturnType<typeof generateProjectKey>>;

const NOW = 1_741_234_000_000; // ms
const NOWS = NOW / 1000;
const PROJECT = 'prj_demo';

let ed: ProjectKey;
let es: ProjectKey;
/** Keys the fake store knows, by kid. */
let known: Map<string, { record: KeyRecord; key: CryptoKey }>;

beforeAll(async () => {
  [ed, es] = await Promise.all([generateProjectKey('EdDSA'), generateProjectKey('ES256')]);
  known = new Map();
  for (const k of [ed, es]) {
    const record: KeyRecord = {
      kid: k.kid,
      project: PROJECT,
      alg: k.alg,
      publicJwk: k.publicJwk,
      createdAt: NOWS - 86_400,
    };
    known.set(k.kid, { record, key: await importPublicKey(record) });
  }
});

/** A key lookup that records every kid it is asked for. */
function lookup(): PeerTokenOptions['key'] & { calls: string[] } {
  const calls: string[] = [];
  const fn = (kid: string) => {
    calls.push(kid);
    return Promise.resolve(known.get(kid));
  };
  return Object.assign(fn, { calls });
}

const claims = (over: Record<string, unknown> = {}): JWTPayload => ({
  gid: 'room-1',
  pid: 'alice',
  ap: [
    { group: 'room-1', peer: '*' },
    { group: 'ops', peer: 'bob' },
  ],
  aud: PROJECT,
  iat: NOWS - 10,
  exp: NOWS + 3600,
  ...over,
});

/** Signs `payload` with the private half of `k` (or `signer`), jose doing the JWS. */
async function mint(
  k: ProjectKey,
  payload: JWTPayload = claims(),
  header: Partial<JWTHeaderParameters> = {},
  signer: ProjectKey = k,
): Promise<string> {
  const priv = await importJWK(signer.privateJwk, signer.alg);
  return new SignJWT(payload)
    .setProtectedHeader({ alg: k.alg, kid: k.kid, typ: 'JWT', ...header })
    .sign(priv);
}

const b64json = (v: unknown): string => base64url(utf8(JSON.stringify(v)));

/** A compact JWS assembled by hand (the signature is whatever we say). */
const handmade = (header: unknown, payload: unknown, signature = ''): string =>
  `${b64json(header)}.${b64json(payload)}.${signature}`;

async function verify(
  token: string,
  over: Partial<PeerTokenOptions> = {},
): Promise<Awaited<ReturnType<typeof verifyPeerToken>>> {
  return verifyPeerToken(token, { key: lookup(), now: NOW, ...over });
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

describe('verifyPeerToken: valid tokens', () => {
  for (const alg of ['EdDSA', 'ES256'] as const satisfies KeyAlg[]) {
    it(`returns the identity of a valid ${alg} token`, async () => {
      const k = alg === 'EdDSA' ? ed : es;
      const key = lookup();
      const who = await verify(await mint(k), { key });
      expect(who).toEqual({
        project: PROJECT,
        kid: k.kid,
        group: 'room-1',
        peer: 'alice',
        allow: [
          { group: 'room-1', peer: '*' },
          { group: 'ops', peer: 'bob' },
        ],
        expiresAt: NOWS + 3600,
      });
      expect(key.calls).toEqual([k.kid]);
    });
  }

  it('accepts a token without typ, and typ "jwt" in any case', async () => {
    const noTyp = await new SignJWT(claims())
      .setProtectedHeader({ alg: 'EdDSA', kid: ed.kid })
      .sign(await importJWK(ed.privateJwk, 'EdDSA'));
    expect((await verify(noTyp)).peer).toBe('alice');
    expect((await verify(await mint(ed, claims(), { typ: 'jwt' }))).peer).toBe('alice');
  });

  it('ignores extra claims (iss, sub, jti …)', async () => {
    const who = await verify(await mint(ed, claims({ iss: 'dev', sub: 'u1', jti: 'x' })));
    expect(who.group).toBe('room-1');
  });

  it('accepts an empty allow policy', async () => {
    expect((await verify(await mint(ed, claims({ ap: [] })))).allow).toEqual([]);
  });
});

describe('verifyPeerToken: signatures', () => {
  it('refuses a token signed by another key under the same kid (forged)', async () => {
    const mallory = await generateProjectKey('EdDSA');
    const forged = await mint(ed, claims(), {}, mallory);
    expect(await codeOf(verify(forged))).toBe('ERR_TOKEN_SIGNATURE');

    const malloryEs = await generateProjectKey('ES256');
    expect(await codeOf(verify(await mint(es, claims(), {}, malloryEs)))).toBe(
      'ERR_TOKEN_SIGNATURE',
    );
  });

  it('refuses a tampered payload', async () => {
    const token = await mint(ed, claims({ ap: [] }));
    const [h, , s] = token.split('.');
    const wider = `${h}.${b64json(claims({ ap: [{ group: '*', peer: '*' }] }))}.${s}`;
    expect(await codeOf(verify(token))).toBe('resolved');
    expect(await codeOf(verify(wider))).toBe('ERR_TOKEN_SIGNATURE');
  });

  it('refuses a tampered signature', async () => {
    const token = await mint(es);
    const sig = token.split('.')[2] ?? '';
    const flipped = `${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`;
    const bad = token.slice(0, token.length - sig.length) + flipped;
    expect(await codeOf(verify(bad))).toBe('ERR_TOKEN_SIGNATURE');
  });
});

describe('verifyPeerToken: algorithms (RFC 8725 §3.1)', () => {
  it('refuses alg "none" before looking up any key', async () => {
    const key = lookup();
    const unsigned = handmade({ alg: 'none', kid: ed.kid, typ: 'JWT' }, claims());
    const err = await verifyPeerToken(unsigned, { key, now: NOW }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PunchError);
    expect((err as PunchError).code).toBe('ERR_TOKEN_ALGORITHM');
    expect((err as PunchError).message).toContain('"none"');
    expect(key.calls).toEqual([]);
  });

  it('refuses HS256 keyed with the public key bytes', async () => {
    const key = lookup();
    for (const secret of [utf8(JSON.stringify(ed.publicJwk)), utf8(ed.publicJwk.x)]) {
      const hs = await new SignJWT(claims())
        .setProtectedHeader({ alg: 'HS256', kid: ed.kid, typ: 'JWT' })
        .sign(secret);
      expect(await codeOf(verifyPeerToken(hs, { key, now: NOW }))).toBe('ERR_TOKEN_ALGORITHM');
    }
    expect(key.calls).toEqual([]);
  });

  it('refuses a header alg that is not the key’s own (ES256 header, EdDSA key)', async () => {
    // A genuine ES256 signature, but under the kid of the EdDSA key.
    const confused = await mint(ed, claims(), { alg: 'ES256' }, es);
    expect(await codeOf(verify(confused))).toBe('ERR_TOKEN_ALGORITHM');
    const reverse = await mint(es, claims(), { alg: 'EdDSA' }, ed);
    expect(await codeOf(verify(reverse))).toBe('ERR_TOKEN_ALGORITHM');
  });

  it('refuses other algorithms and a missing alg', async () => {
    for (const alg of ['RS256', 'ES384', 'PS256', 'HS512', 'ES256K']) {
      expect(await codeOf(verify(handmade({ alg, kid: ed.kid }, claims(), 'AAAA')))).toBe(
        'ERR_TOKEN_ALGORITHM',
      );
    }
    expect(await codeOf(verify(handmade({ kid: ed.kid }, claims(), 'AAAA')))).toBe(
      'ERR_TOKEN_ALGORITHM',
    );
  });
});

describe('verifyPeerToken: header', () => {
  it('refuses a token with no kid (or an empty or non-string one)', async () => {
    const key = lookup();
    const priv = await importJWK(ed.privateJwk, 'EdDSA');
    const noKid = await new SignJWT(claims()).setProtectedHeader({ alg: 'EdDSA' }).sign(priv);
    expect(await codeOf(verifyPeerToken(noKid, { key, now: NOW }))).toBe('ERR_TOKEN_MALFORMED');
    for (const kid of ['', 42, null, 'k'.repeat(129)]) {
      const t = handmade({ alg: 'EdDSA', kid }, claims(), 'AAAA');
      expect(await codeOf(verifyPeerToken(t, { key, now: NOW }))).toBe('ERR_TOKEN_MALFORMED');
    }
    expect(key.calls).toEqual([]);
  });

  it('refuses an unknown kid', async () => {
    const stranger = await generateProjectKey('EdDSA');
    const key = lookup();
    expect(await codeOf(verifyPeerToken(await mint(stranger), { key, now: NOW }))).toBe(
      'ERR_KEY_UNKNOWN',
    );
    expect(key.calls).toEqual([stranger.kid]);
  });

  it('refuses a typ other than JWT', async () => {
    expect(await codeOf(verify(await mint(ed, claims(), { typ: 'at+jwt' })))).toBe(
      'ERR_TOKEN_MALFORMED',
    );
  });

  it('refuses a non-string typ with a PunchError, not a TypeError', async () => {
    for (const typ of [1, null, {}, ['JWT']]) {
      const t = handmade({ alg: 'EdDSA', kid: ed.kid, typ }, claims(), 'AAAA');
      expect(await codeOf(verify(t))).toBe('ERR_TOKEN_MALFORMED');
    }
  });
});

describe('verifyPeerToken: times', () => {
  it('refuses a token expired beyond the 60 s skew', async () => {
    const t = await mint(ed, claims({ iat: NOWS - 3600, exp: NOWS - 61 }));
    expect(await codeOf(verify(t))).toBe('ERR_TOKEN_EXPIRED');
    const long = await mint(ed, claims({ iat: NOWS - 7200, exp: NOWS - 3600 }));
    expect(await codeOf(verify(long))).toBe('ERR_TOKEN_EXPIRED');
  });

  it('accepts a token expired within the 60 s skew', async () => {
    for (const late of [1, 30, 59]) {
      const t = await mint(ed, claims({ iat: NOWS - 600, exp: NOWS - late }));
      expect((await verify(t)).expiresAt).toBe(NOWS - late);
    }
  });

  it('refuses a token whose exp or iat is missing', async () => {
    const noExp = claims();
    delete noExp.exp;
    const noIat = claims();
    delete noIat.iat;
    expect(await codeOf(verify(await mint(ed, noExp)))).toBe('ERR_TOKEN_MALFORMED');
    expect(await codeOf(verify(await mint(ed, noIat)))).toBe('ERR_TOKEN_MALFORMED');
  });

  it('requires aud, and aud must be the project of the key that signed the token', async () => {
    const noAud = claims();
    delete noAud.aud;
    expect(await codeOf(verify(await mint(ed, noAud)))).toBe('ERR_TOKEN_AUDIENCE');
    expect(await codeOf(verify(await mint(ed, claims({ aud: 'pr-other' }))))).toBe(
      'ERR_TOKEN_AUDIENCE',
    );
    expect(await codeOf(verify(await mint(es, claims({ aud: '' }))))).toBe('ERR_TOKEN_AUDIENCE');
    expect(await codeOf(verify(await mint(ed, claims({ aud: [PROJECT] }))))).toBe('resolved');
    expect((await verify(await mint(es, claims()))).project).toBe(PROJECT);
  });

  it('refuses non-integer or non-numeric times', async () => {
    expect(await codeOf(verify(await mint(ed, claims({ exp: NOWS + 60.5 }))))).toBe(
      'ERR_TOKEN_MALFORMED',
    );
    expect(await codeOf(verify(await mint(ed, claims({ exp: String(NOWS + 60) }))))).toBe(
      'ERR_TOKEN_MALFORMED',
    );
    expect(await codeOf(verify(await mint(ed, claims({ iat: 'yesterday' }))))).toBe(
      'ERR_TOKEN_MALFORMED',
    );
  });

  it(`refuses exp - iat above the default ${PEER_TOKEN_MAX_TTL} s, accepts exactly it`, async () => {
    expect(PEER_TOKEN_MAX_TTL).toBe(24 * 3600);
    const over = await mint(ed, claims({ iat: NOWS, exp: NOWS + PEER_TOKEN_MAX_TTL + 1 }));
    expect(await codeOf(verify(over))).toBe('ERR_TOKEN_LIFETIME');
    const exact = await mint(ed, claims({ iat: NOWS, exp: NOWS + PEER_TOKEN_MAX_TTL }));
    expect(await codeOf(verify(exact))).toBe('resolved');
  });

  it('honours a custom maxTtl', async () => {
    const t = await mint(ed, claims({ iat: NOWS, exp: NOWS + 601 }));
    expect(await codeOf(verify(t, { maxTtl: 600 }))).toBe('ERR_TOKEN_LIFETIME');
    expect(await codeOf(verify(t, { maxTtl: 601 }))).toBe('resolved');
    expect(await codeOf(verify(t))).toBe('resolved');
  });

  it('refuses iat more than 60 s in the future, accepts it within the skew', async () => {
    const ahead = await mint(ed, claims({ iat: NOWS + 61, exp: NOWS + 3600 }));
    expect(await codeOf(verify(ahead))).toBe('ERR_TOKEN_LIFETIME');
    const near = await mint(ed, claims({ iat: NOWS + 60, exp: NOWS + 3600 }));
    expect(await codeOf(verify(near))).toBe('resolved');
  });

  it('uses the injected clock, not the real one', async () => {
    // Valid "now" (NOW) but long expired by the wall clock of any machine running this test.
    const t = await mint(ed, claims({ iat: NOWS - 10, exp: NOWS + 60 }));
    expect(await codeOf(verify(t))).toBe('resolved');
    expect(await codeOf(verify(t, { now: NOW + 121_000 }))).toBe('ERR_TOKEN_EXPIRED');
  });
});

describe('verifyPeerToken: shape', () => {
  it(`refuses more than ${MAX_PEER_TOKEN_LENGTH} characters without looking up a key`, async () => {
    const key = lookup();
    const big = await mint(ed, claims({ pad: 'x'.repeat(MAX_PEER_TOKEN_LENGTH) }));
    expect(big.length).toBeGreaterThan(MAX_PEER_TOKEN_LENGTH);
    const err = await verifyPeerToken(big, { key, now: NOW }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PunchError);
    expect((err as PunchError).code).toBe('ERR_TOKEN_MALFORMED');
    expect((err as PunchError).message).toContain(String(MAX_PEER_TOKEN_LENGTH));
    expect(key.calls).toEqual([]);
  });

  it('refuses garbage with ERR_TOKEN_MALFORMED', async () => {
    const key = lookup();
    const header = b64json({ alg: 'EdDSA', kid: ed.kid });
    for (const g of [
      '',
      'garbage',
      'a.b.c',
      '...',
      '.',
      'x'.repeat(MAX_PEER_TOKEN_LENGTH + 1),
      `${header}.${b64json(claims())}`, // two parts
      `${header}.${b64json(claims())}.AAAA.BBBB.CCCC`, // five parts (a JWE shape)
      `${b64json('not an object')}.e30.AAAA`,
      `${base64url(utf8('{not json'))}.e30.AAAA`,
    ]) {
      expect(await codeOf(verifyPeerToken(g, { key, now: NOW }))).toBe('ERR_TOKEN_MALFORMED');
    }
    expect(key.calls).toEqual([]);
  });

  it('refuses a signed payload that is not a JSON object', async () => {
    const priv = await importJWK(ed.privateJwk, 'EdDSA');
    const jws = await new FlattenedSign(utf8('[1,2,3]'))
      .setProtectedHeader({ alg: 'EdDSA', kid: ed.kid })
      .sign(priv);
    const compact = `${jws.protected ?? ''}.${jws.payload}.${jws.signature}`;
    expect(await codeOf(verify(compact))).toBe('ERR_TOKEN_MALFORMED');
  });

  const bad: [string, Record<string, unknown>][] = [
    ['gid with ":"', { gid: 'room:1' }],
    ['gid with "*"', { gid: 'room-*' }],
    ['pid of 65 characters', { pid: 'p'.repeat(65) }],
    ['empty pid', { pid: '' }],
    ['missing gid', { gid: undefined }],
    ['missing ap', { ap: undefined }],
    ['ap not an array', { ap: { group: '*', peer: '*' } }],
    ['a rule with two stars', { ap: [{ group: 'a*b*', peer: '*' }] }],
    ['a rule with an extra member', { ap: [{ group: '*', peer: '*', role: 'admin' }] }],
    ['a rule missing peer', { ap: [{ group: '*' }] }],
    ['33 rules', { ap: Array.from({ length: 33 }, (_, i) => ({ group: `g${i}`, peer: '*' })) }],
  ];
  for (const [name, over] of bad) {
    it(`refuses claims with ${name} as ERR_TOKEN_MALFORMED`, async () => {
      // `undefined` in the table means "leave the claim out"
      const payload = Object.fromEntries(
        Object.entries(claims(over)).filter(([, v]) => v !== undefined),
      );
      const err = await verify(await mint(ed, payload)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PunchError);
      expect((err as PunchError).code).toBe('ERR_TOKEN_MALFORMED');
      expect((err as PunchError).message).toMatch(/^claim /);
    });
  }

  it('accepts exactly 32 rules', async () => {
    const ap = Array.from({ length: 32 }, (_, i) => ({ group: `g${i}`, peer: '*' }));
    expect((await verify(await mint(ed, claims({ ap })))).allow).toHaveLength(32);
  });
});

describe('importPublicKey', () => {
  it('imports EdDSA and ES256 records as public verify keys', async () => {
    for (const k of [ed, es]) {
      const key = await importPublicKey({
        kid: k.kid,
        project: PROJECT,
        alg: k.alg,
        publicJwk: k.publicJwk,
        createdAt: 0,
      });
      expect(key.type).toBe('public');
      expect(key.usages).toEqual(['verify']);
    }
  });
});
