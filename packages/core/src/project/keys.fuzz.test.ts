/**
 * Property tests of key uploads (docs/fuzzing.md): any value given as a public JWK is read as a
 * canonical public key or refused with ERR_BAD_REQUEST; a proof of possession is accepted only
 * when genuinely signed by that key for that project, and every other proof, an edited genuine
 * one included, gets the one ERR_KEY_REFUSED.
 */
import { CompactSign, importJWK } from 'jose';
import fc from 'fast-check';
import { beforeAll, expect } from 'vitest';
import { base64url, utf8 } from '../encoding.js';
import { attempt, attemptAsync, fuzzFile, jsonish, mutateObject } from '../test/fuzz.js';
import { generateProjectKey, parsePublicJwk, PublicJwkSchema } from './keys.js';
import { KEY_PROOF_TYP, verifyKeyProof } from './proof.js';

const fuzzIt = fuzzFile('keys');

const NOW = 1_741_234_000_000;
const NOWS = NOW / 1000;
const PROJECT = 'pr-fuzz0001';

type Made = Awaited<ReturnType<typeof generateProjectKey>>;
let made: Made[] = [];
let priv: CryptoKey[] = [];
beforeAll(async () => {
  made = await Promise.all([generateProjectKey('EdDSA'), generateProjectKey('ES256')]);
  priv = await Promise.all(
    made.map(async (m) => (await importJWK(m.privateJwk, m.alg)) as CryptoKey),
  );
});

const jwkLike = (): fc.Arbitrary<unknown> =>
  fc.oneof(
    jsonish(),
    mutateObject(fc.constantFrom(...[0, 1]).map((i) => ({ ...(made[i]?.publicJwk ?? {}) }))),
    mutateObject(fc.constantFrom(...[0, 1]).map((i) => ({ ...(made[i]?.privateJwk ?? {}) }))),
  );

fuzzIt(
  'parsePublicJwk reads a canonical public key or refuses with ERR_BAD_REQUEST',
  5_000,
  fc.property(jwkLike(), (v) => {
    const r = attempt(() => parsePublicJwk(v));
    if (!r.ok) {
      expect(r.err.code).toBe('ERR_BAD_REQUEST');
      return;
    }
    expect(typeof v === 'object' && v !== null && 'd' in v).toBe(false);
    expect(PublicJwkSchema.safeParse(r.value).success).toBe(true);
    expect(Object.keys(r.value).sort()).toEqual(
      r.value.kty === 'OKP' ? ['crv', 'kty', 'x'] : ['crv', 'kty', 'x', 'y'],
    );
  }),
);

async function sign(i: number, payload: unknown, header: Record<string, unknown>): Promise<string> {
  const m = made[i];
  const k = priv[i];
  if (m === undefined || k === undefined) throw new Error('no key');
  return new CompactSign(utf8(JSON.stringify(payload) ?? ''))
    .setProtectedHeader({ typ: KEY_PROOF_TYP, ...header, alg: m.alg })
    .sign(k);
}

const TEXT = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.';

fuzzIt(
  'a proof is accepted only when genuinely signed by the key for the project; else ERR_KEY_REFUSED',
  1_000,
  fc.asyncProperty(
    fc.nat(1),
    fc.oneof(
      {
        weight: 3,
        arbitrary: fc.record({
          project: fc.constant(PROJECT),
          iat: fc.integer({ min: NOWS - 400, max: NOWS + 400 }),
        }),
      },
      {
        weight: 1,
        arbitrary: fc.oneof(
          jsonish(),
          fc.record({ project: fc.string({ maxLength: 12 }), iat: fc.double() }),
        ),
      },
    ),
    fc.dictionary(fc.constantFrom('typ', 'kid', 'cty'), fc.jsonValue({ maxDepth: 1 }), {
      maxKeys: 2,
    }),
    fc.array(fc.record({ i: fc.nat(), c: fc.nat(TEXT.length - 1), del: fc.boolean() }), {
      maxLength: 2,
    }),
    fc.oneof(
      fc.string({ maxLength: 100 }),
      jsonish(),
      fc.base64String().map((s) => `${base64url(utf8('{"alg":"EdDSA"}'))}.${s}.${s}`),
    ),
    async (i, payload, header, edits, junk) => {
      const m = made[i];
      if (m === undefined) return;
      const expected = { publicJwk: m.publicJwk, project: PROJECT, now: NOW };
      let proof = await sign(i, payload, header);
      for (const e of edits) {
        const at = e.i % proof.length;
        proof = proof.slice(0, at) + (e.del ? '' : TEXT.charAt(e.c)) + proof.slice(at + 1);
      }
      const r = await attemptAsync(() => verifyKeyProof(proof, expected));
      if (r.ok) {
        // Accepted: a proof by this key (its signed parts intact) of this project, in the window.
        const p = payload as { project?: unknown; iat?: unknown };
        expect(p.project).toBe(PROJECT);
        expect(Math.abs(NOWS - Number(p.iat))).toBeLessThanOrEqual(300);
        expect((header.typ ?? KEY_PROOF_TYP) === KEY_PROOF_TYP).toBe(true);
      } else expect(r.err.code).toBe('ERR_KEY_REFUSED');
      // Another key's public half never accepts it; nor does junk pass for any key.
      const other = made[1 - i];
      if (other !== undefined) {
        const o = await attemptAsync(() =>
          verifyKeyProof(proof, { ...expected, publicJwk: other.publicJwk }),
        );
        expect(o.ok ? 'accepted' : o.err.code).toBe('ERR_KEY_REFUSED');
      }
      const j = await attemptAsync(() => verifyKeyProof(junk, expected));
      expect(j.ok ? 'accepted' : j.err.code).toBe('ERR_KEY_REFUSED');
    },
  ),
);
