/**
 * Property tests of the token verifiers (docs/fuzzing.md): `p_` session tokens and project peer
 * JWTs. A genuine token verifies to what was signed; any other string, a mutated genuine token
 * included, is refused with one of the verifier's own codes, never accepted, never another error.
 */
import { CompactSign, SignJWT, importJWK } from 'jose';
import fc from 'fast-check';
import { beforeAll, expect } from 'vitest';
import { base64url, utf8 } from '../encoding.js';
import { generateProjectKey, type KeyRecord } from '../project/keys.js';
import { attemptAsync, fuzzFile, jsonish } from '../test/fuzz.js';
import type { TokenClaims } from './claims.js';
import { TokenClaimsSchema } from './claims.js';
import { importPublicKey, verifyPeerToken, type PeerTokenOptions } from './peer-token.js';
import { KeyRing, signToken, verifyToken } from './token.js';

const fuzzIt = fuzzFile('token');

const NOW = 1_741_234_000_000;
const NOWS = NOW / 1000;
const PROJECT = 'prj_fuzz';

let ring: KeyRing;
let rotated: KeyRing;
let stranger: KeyRing;
let hmacKey: CryptoKey;
const signers: { kid: string; alg: 'EdDSA' | 'ES256'; priv: CryptoKey | Uint8Array }[] = [];
const known = new Map<string, { record: KeyRecord; key: CryptoKey }>();

beforeAll(async () => {
  ring = await KeyRing.fromSecrets('token-fuzz-secret-0123456789abcdef');
  rotated = await KeyRing.fromSecrets('token-fuzz-secret-next-0123456789ab', [
    'token-fuzz-secret-0123456789abcdef',
  ]);
  stranger = await KeyRing.fromSecrets('another-secret-entirely-0123456789ab');
  hmacKey = ring.current;
  for (const alg of ['EdDSA', 'ES256'] as const) {
    const k = await generateProjectKey(alg);
    const record: KeyRecord = {
      kid: k.kid,
      project: PROJECT,
      alg,
      publicJwk: k.publicJwk,
      createdAt: NOWS - 86_400,
    };
    known.set(k.kid, { record, key: await importPublicKey(record) });
    signers.push({ kid: k.kid, alg, priv: await importJWK(k.privateJwk, alg) });
  }
});

// ---- string mutations -------------------------------------------------------------------------

const TOKEN_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ ';
type StrOp =
  { op: 'set' | 'insert'; i: number; c: number } | { op: 'delete' | 'truncate'; i: number };
const strOps = (): fc.Arbitrary<StrOp[]> =>
  fc.array(
    fc.oneof(
      fc.record({
        op: fc.constantFrom('set' as const, 'insert' as const),
        i: fc.nat(),
        c: fc.nat(TOKEN_CHARS.length - 1),
      }),
      fc.record({ op: fc.constantFrom('delete' as const, 'truncate' as const), i: fc.nat() }),
    ),
    { minLength: 1, maxLength: 3 },
  );
function mutate(s: string, ops: readonly StrOp[]): string {
  let out = s;
  for (const o of ops) {
    const at = out.length === 0 ? 0 : o.i % out.length;
    if (o.op === 'set') out = out.slice(0, at) + TOKEN_CHARS.charAt(o.c) + out.slice(at + 1);
    else if (o.op === 'insert') out = out.slice(0, at) + TOKEN_CHARS.charAt(o.c) + out.slice(at);
    else if (o.op === 'delete') out = out.slice(0, at) + out.slice(at + 1);
    else out = out.slice(0, at);
  }
  return out;
}

// ---- p_ session tokens ------------------------------------------------------------------------

const name = (): fc.Arbitrary<string> =>
  fc.oneof(fc.constantFrom('show', 'cam-wide'), fc.stringMatching(/^[a-z0-9][a-z0-9-]{1,62}$/));
const sessionClaims = (): fc.Arbitrary<TokenClaims> =>
  fc.record(
    {
      session: name(),
      role: fc.constantFrom('admin' as const, 'peer' as const),
      stream: fc.option(name(), { nil: null }),
      exp: fc.integer({ min: 1, max: 4_000_000_000 }),
      iat: fc.integer({ min: 0, max: 4_000_000_000 }),
      sid: fc.stringMatching(/^[a-z0-9]{8,40}$/),
      jti: fc.string({ maxLength: 64 }),
    },
    { requiredKeys: ['session', 'role', 'stream', 'exp'] },
  );

const P_CODES = [
  'ERR_TOKEN_MALFORMED',
  'ERR_TOKEN_SIGNATURE',
  'ERR_TOKEN_EXPIRED',
  'ERR_TOKEN_WRONG_SESSION',
];

fuzzIt(
  'p_: a genuine token verifies to its claims, under a rotated ring too, and nowhere else',
  1_000,
  fc.asyncProperty(sessionClaims(), async (claims) => {
    const token = await signToken(ring, claims);
    const r = await attemptAsync(() =>
      verifyToken(ring, token, { session: claims.session, now: NOWS }),
    );
    if (claims.exp <= NOWS) {
      expect(r.ok ? 'accepted' : r.err.code).toBe('ERR_TOKEN_EXPIRED');
      return;
    }
    expect(r.ok && r.value).toEqual({ claims, stale: false });
    const old = await verifyToken(rotated, token, { now: NOWS });
    expect(old).toEqual({ claims, stale: true });
    const s = await attemptAsync(() => verifyToken(stranger, token, { now: NOWS }));
    expect(s.ok ? 'accepted' : s.err.code).toBe('ERR_TOKEN_SIGNATURE');
    const w = await attemptAsync(() =>
      verifyToken(ring, token, { session: `${claims.session}x`, now: NOWS }),
    );
    expect(w.ok ? 'accepted' : w.err.code).toBe('ERR_TOKEN_WRONG_SESSION');
  }),
);

fuzzIt(
  'p_: any string, or a genuine token edited, is refused with a token code',
  3_000,
  fc.asyncProperty(
    fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.string({ unit: 'binary', maxLength: 60 }).map((s) => `p_${s}`),
      fc
        .tuple(
          fc.base64String({ maxLength: 80 }),
          fc.base64String({ minLength: 40, maxLength: 48 }),
        )
        .map(([a, b]) => `p_${a}.${b}`),
    ),
    sessionClaims().map((c) => ({ ...c, exp: NOWS + 3600 })),
    strOps(),
    async (junk, claims, ops) => {
      const r = await attemptAsync(() => verifyToken(ring, junk, { now: NOWS }));
      if (!r.ok) expect(P_CODES.slice(0, 2)).toContain(r.err.code);
      else throw new Error(`accepted a string nobody signed: ${junk}`);
      const token = await signToken(ring, claims);
      const edited = mutate(token, ops);
      const e = await attemptAsync(() => verifyToken(ring, edited, { now: NOWS }));
      // One text, one value (canonical base64url): only the genuine text itself is accepted.
      if (e.ok) expect(edited).toBe(token);
      else expect(P_CODES).toContain(e.err.code);
    },
  ),
);

fuzzIt(
  'p_: a genuinely signed payload that is not valid claims is refused as malformed',
  2_000,
  fc.asyncProperty(
    fc.oneof(
      jsonish(),
      sessionClaims().map((c) => ({ ...c, extra: 1 })),
    ),
    async (payload) => {
      const text = JSON.stringify(payload) ?? 'undefined';
      const head = `p_${base64url(utf8(text))}`;
      const sig = new Uint8Array(await crypto.subtle.sign('HMAC', hmacKey, utf8(head)));
      const token = `${head}.${base64url(sig)}`;
      const r = await attemptAsync(() => verifyToken(ring, token, { now: NOWS }));
      const valid = TokenClaimsSchema.safeParse(payload);
      if (r.ok) {
        expect(valid.success).toBe(true);
        expect(r.value.claims).toEqual(JSON.parse(text));
      } else if (token.length <= 1024) {
        const expired = valid.success && valid.data.exp <= NOWS;
        expect(r.err.code).toBe(expired ? 'ERR_TOKEN_EXPIRED' : 'ERR_TOKEN_MALFORMED');
      } else expect(r.err.code).toBe('ERR_TOKEN_MALFORMED');
    },
  ),
);

// ---- project peer JWTs ------------------------------------------------------------------------

const PEER_CODES = [
  'ERR_TOKEN_MALFORMED',
  'ERR_TOKEN_ALGORITHM',
  'ERR_KEY_UNKNOWN',
  'ERR_TOKEN_SIGNATURE',
  'ERR_TOKEN_EXPIRED',
  'ERR_TOKEN_LIFETIME',
  'ERR_TOKEN_AUDIENCE',
];
const options = (): PeerTokenOptions => ({
  key: (kid) => Promise.resolve(known.get(kid)),
  now: NOW,
});
const id = (): fc.Arbitrary<string> => fc.stringMatching(/^[A-Za-z0-9._@+-]{1,64}$/);
const peerClaims = (): fc.Arbitrary<Record<string, unknown>> =>
  fc.record({
    gid: id(),
    pid: id(),
    ap: fc.array(fc.record({ group: fc.constantFrom('*', 'room-*', 'ops'), peer: id() }), {
      maxLength: 4,
    }),
    aud: fc.constant(PROJECT),
    iat: fc.integer({ min: NOWS - 3600, max: NOWS }),
    exp: fc.integer({ min: NOWS + 120, max: NOWS + 20 * 3600 }),
  });

async function mint(signer: number, payload: Record<string, unknown>): Promise<string> {
  const s = signers[signer % signers.length];
  if (s === undefined) throw new Error('no signer');
  return new SignJWT(payload)
    .setProtectedHeader({ alg: s.alg, kid: s.kid, typ: 'JWT' })
    .sign(s.priv);
}

fuzzIt(
  'peer JWT: a genuine token verifies to the identity it names; any edit of it is refused',
  500,
  fc.asyncProperty(fc.nat(1), peerClaims(), strOps(), async (signer, payload, ops) => {
    const token = await mint(signer, payload);
    const who = await verifyPeerToken(token, options());
    expect(who).toMatchObject({
      project: PROJECT,
      group: payload.gid,
      peer: payload.pid,
      allow: payload.ap,
      expiresAt: payload.exp,
    });
    const edited = mutate(token, ops);
    const r = await attemptAsync(() => verifyPeerToken(edited, options()));
    if (r.ok) {
      // Accepted after an edit: only if nothing signed changed (the same header and payload).
      expect(edited.split('.').slice(0, 2)).toEqual(token.split('.').slice(0, 2));
      expect(r.value).toEqual(who);
    } else expect(PEER_CODES).toContain(r.err.code);
  }),
);

fuzzIt(
  'peer JWT: any string is refused with a token code',
  3_000,
  fc.asyncProperty(
    fc.oneof(
      fc.string({ maxLength: 200 }),
      fc
        .array(fc.base64String({ maxLength: 60 }), { minLength: 1, maxLength: 4 })
        .map((p) => p.join('.')),
      fc
        .tuple(jsonish(), jsonish(), fc.base64String({ maxLength: 90 }))
        .map(
          ([h, p, s]) =>
            `${base64url(utf8(JSON.stringify(h) ?? ''))}.${base64url(utf8(JSON.stringify(p) ?? ''))}.${s}`,
        ),
      fc
        .tuple(fc.constantFrom('EdDSA', 'ES256', 'none', 'HS256'), fc.nat(1), jsonish())
        .map(
          ([alg, i, p]) =>
            `${base64url(utf8(JSON.stringify({ alg, kid: signers[i]?.kid ?? '' })))}.${base64url(utf8(JSON.stringify(p) ?? ''))}.`,
        ),
    ),
    async (junk) => {
      const r = await attemptAsync(() => verifyPeerToken(junk, options()));
      if (r.ok) throw new Error(`accepted a string nobody signed: ${junk}`);
      expect(PEER_CODES).toContain(r.err.code);
    },
  ),
);

fuzzIt(
  'peer JWT: a genuinely signed token with arbitrary header and claims is accepted only when valid',
  500,
  fc.asyncProperty(
    fc.nat(1),
    fc.oneof(
      jsonish(),
      peerClaims(),
      peerClaims().map((c) => ({ ...c, exp: NOWS - 3600 })),
    ),
    fc.dictionary(fc.constantFrom('typ', 'cty', 'x5u', 'b64', 'zip'), jsonish(), { maxKeys: 2 }),
    async (signer, payload, extra) => {
      const s = signers[signer];
      if (s === undefined) return;
      let token: string;
      try {
        token = await new CompactSign(utf8(JSON.stringify(payload) ?? ''))
          .setProtectedHeader({ ...extra, alg: s.alg, kid: s.kid })
          .sign(s.priv);
      } catch {
        return; // jose refuses to sign this header (a `b64` without `crit`): nothing to verify.
      }
      const r = await attemptAsync(() => verifyPeerToken(token, options()));
      if (r.ok) {
        const p = payload as Record<string, unknown>;
        expect(r.value.group).toBe(p.gid);
        expect(p.aud === PROJECT || (Array.isArray(p.aud) && p.aud.includes(PROJECT))).toBe(true);
        expect(r.value.expiresAt).toBeGreaterThan(NOWS - 60);
      } else expect(PEER_CODES).toContain(r.err.code);
    },
  ),
);
