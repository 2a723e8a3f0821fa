import { compactVerify, importJWK } from 'jose';
import { z } from 'zod';
import { PunchError } from '../errors.js';
import { algOf, type PublicJwk } from './keys.js';

/**
 * Proof of possession for an uploaded public key (DESIGN "Revocation is final"): a compact JWS
 * signed by the key's private half over `{project, iat}`. Without it anyone could upload a
 * public key they found (public keys are public) into their own project, and tokens that key
 * once signed would verify again there.
 */

/** How old (or how far in the future) a proof's `iat` may be, in seconds. */
export const KEY_PROOF_WINDOW = 300;
/** The `typ` a proof's header carries, so a peer token can never pass as a proof. */
export const KEY_PROOF_TYP = 'punch-key-proof+jwt';
/** Longest proof accepted; longer ones are refused before any parsing. */
export const MAX_KEY_PROOF_LENGTH = 2048;

const ProofPayload = z.object({ project: z.string(), iat: z.number().int().nonnegative() });

/**
 * One answer for every refused upload: a bad, stale or misdirected proof, and a key that is or
 * was registered anywhere. Telling them apart would reveal whether a public key is registered
 * in someone else's project.
 */
export function keyRefused(cause?: unknown): PunchError {
  return new PunchError(
    'ERR_KEY_REFUSED',
    'key refused: send {publicJwk, proof} with proof a compact JWS signed by this key over ' +
      `{project, iat} (iat within ${KEY_PROOF_WINDOW} s), for a key never registered before ` +
      "(punch key create and the SDK's createKeyProof make one)",
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Checks that `proof` was signed by `publicJwk`'s private half for `project`, within
 * KEY_PROOF_WINDOW of `now` (ms). Throws ERR_KEY_REFUSED (always the same message) otherwise.
 *
 * @example
 * await verifyKeyProof(body.proof, { publicJwk, project: 'pr-abc', now: Date.now() });
 */
export async function verifyKeyProof(
  proof: unknown,
  expected: { publicJwk: PublicJwk; project: string; now: number },
): Promise<void> {
  if (typeof proof !== 'string' || proof.length > MAX_KEY_PROOF_LENGTH) throw keyRefused();
  const alg = algOf(expected.publicJwk);
  let payload: Uint8Array;
  let typ: unknown;
  try {
    const key = await importJWK(expected.publicJwk, alg);
    ({
      payload,
      protectedHeader: { typ },
    } = await compactVerify(proof, key, { algorithms: [alg] }));
  } catch (cause) {
    throw keyRefused(cause);
  }
  if (typ !== KEY_PROOF_TYP) throw keyRefused();
  let claims: z.infer<typeof ProofPayload>;
  try {
    claims = ProofPayload.parse(JSON.parse(new TextDecoder().decode(payload)));
  } catch (cause) {
    throw keyRefused(cause);
  }
  const nowS = expected.now / 1000;
  if (claims.project !== expected.project || Math.abs(nowS - claims.iat) > KEY_PROOF_WINDOW) {
    throw keyRefused();
  }
}
