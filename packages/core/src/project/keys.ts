import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import { z } from 'zod';
import { PunchError } from '../errors.js';

/**
 * Project keys: Ed25519 (`EdDSA`) or P-256 (`ES256`) public keys, named by their RFC 7638
 * thumbprint, so a developer knows a key's `kid` before uploading it and one key can never be
 * registered twice under two names.
 */

export type KeyAlg = 'EdDSA' | 'ES256';
export const KEY_ALGS: readonly KeyAlg[] = ['EdDSA', 'ES256'];

const b64u = (len: number) => z.string().regex(new RegExp(`^[A-Za-z0-9_-]{${len}}$`));

const OkpPublic = z.object({ kty: z.literal('OKP'), crv: z.literal('Ed25519'), x: b64u(43) });
const EcPublic = z.object({
  kty: z.literal('EC'),
  crv: z.literal('P-256'),
  x: b64u(43),
  y: b64u(43),
});

/** A public JWK as accepted for upload (extra members such as `use`, `alg`, `kid` are dropped). */
export const PublicJwkSchema = z
  .record(z.string(), z.unknown())
  .refine((j) => !('d' in j), 'send only the public key: this JWK holds a private key ("d")')
  .pipe(z.union([OkpPublic, EcPublic]));
export type PublicJwk = z.infer<typeof OkpPublic> | z.infer<typeof EcPublic>;

export interface KeyRecord {
  readonly kid: string;
  readonly project: string;
  readonly alg: KeyAlg;
  readonly publicJwk: PublicJwk;
  /** Unix seconds. */
  readonly createdAt: number;
}

/** The algorithm a public JWK is for. */
export function algOf(jwk: PublicJwk): KeyAlg {
  return jwk.kty === 'OKP' ? 'EdDSA' : 'ES256';
}

/** Only the members that define the key, in the form RFC 7638 hashes. */
export function canonicalJwk(jwk: PublicJwk): PublicJwk {
  return jwk.kty === 'OKP'
    ? { kty: 'OKP', crv: 'Ed25519', x: jwk.x }
    : { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y };
}

/**
 * The `kid` of a public key: its RFC 7638 SHA-256 thumbprint (base64url, 43 characters).
 *
 * @example
 * const kid = await keyId({ kty: 'OKP', crv: 'Ed25519', x: '…' });
 */
export function keyId(jwk: PublicJwk): Promise<string> {
  return calculateJwkThumbprint(canonicalJwk(jwk), 'sha256');
}

/**
 * Validates an uploaded public JWK: the right shape for EdDSA or ES256, no private part.
 * Throws ERR_BAD_REQUEST naming the problem.
 */
export function parsePublicJwk(value: unknown): PublicJwk {
  const parsed = PublicJwkSchema.safeParse(value);
  if (!parsed.success) {
    const first = parsed.error.issues[0]?.message ?? 'not a public JWK';
    throw new PunchError(
      'ERR_BAD_REQUEST',
      `publicJwk: ${first} (an Ed25519 OKP or P-256 EC public key)`,
    );
  }
  return canonicalJwk(parsed.data);
}

/**
 * Makes a key pair (WebCrypto) and returns both halves as JWKs, with `kid` and `alg` set on
 * each. The private half is for the developer only: Punch stores the public one.
 *
 * @example
 * const { kid, publicJwk, privateJwk } = await generateProjectKey('EdDSA');
 */
export async function generateProjectKey(
  alg: KeyAlg = 'EdDSA',
): Promise<{ kid: string; alg: KeyAlg; publicJwk: PublicJwk; privateJwk: JWK }> {
  const pair = await generateKeyPair(alg, { extractable: true });
  const publicJwk = parsePublicJwk(await exportJWK(pair.publicKey));
  const kid = await keyId(publicJwk);
  const privateJwk = { ...(await exportJWK(pair.privateKey)), kid, alg };
  return { kid, alg, publicJwk, privateJwk };
}
