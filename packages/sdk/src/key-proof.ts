import { CompactSign, type JWK } from 'jose';
import { signingKey, type PeerTokenAlg } from './mint.js';

/**
 * Proof of possession for uploading a public key (`POST /api/projects/:id/keys {publicJwk,
 * proof}`): Punch registers a public key only for whoever holds its private half, so a public
 * key found elsewhere (it is public) cannot be registered into another project.
 */

/** The `typ` Punch requires in a proof's header (kept equal to `@punch/core`'s KEY_PROOF_TYP). */
export const KEY_PROOF_TYP = 'punch-key-proof+jwt';

export interface KeyProofOptions {
  /** The private half of the key being uploaded: a private JWK or a WebCrypto `CryptoKey`. */
  readonly privateKey: JWK | CryptoKey;
  /** The project the key is uploaded to (`pr-…`). */
  readonly project: string;
  /** The algorithm; optional, read from the key as `mintPeerToken` does. */
  readonly alg?: PeerTokenAlg;
  /** The current time in ms since the epoch (default `Date.now()`); for tests. */
  readonly now?: number;
}

/**
 * Makes the `proof` for a key upload: a compact JWS (header `{alg, typ:
 * "punch-key-proof+jwt"}`) signed by the key's private half over `{project, iat}`. Punch
 * accepts it for 5 minutes. Throws TypeError on a bad argument.
 *
 * @example
 * const proof = await createKeyProof({ privateKey, project: 'pr-abc123' });
 * await fetch(`${punch}/api/projects/pr-abc123/keys`, {
 *   method: 'POST',
 *   headers: { authorization: `Bearer ${accountKey}`, 'content-type': 'application/json' },
 *   body: JSON.stringify({ publicJwk, proof }),
 * });
 */
export async function createKeyProof(options: KeyProofOptions): Promise<string> {
  if (typeof options.project !== 'string' || options.project === '') {
    throw new TypeError('project is required (the id of the project the key is uploaded to)');
  }
  const { alg, key } = await signingKey(options.privateKey, options.alg);
  const now = options.now ?? Date.now();
  if (!Number.isFinite(now)) throw new TypeError('now must be a time in ms');
  const payload = { project: options.project, iat: Math.floor(now / 1000) };
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg, typ: KEY_PROOF_TYP })
    .sign(key);
}
