import { decodeProtectedHeader, errors, importJWK, jwtVerify } from 'jose';
import { z } from 'zod';
import { PunchError } from '../errors.js';
import type { KeyAlg, KeyRecord } from '../project/keys.js';
import { AllowPolicySchema, PeerIdSchema, type AllowRule } from '../signal/policy.js';

/**
 * Project peer tokens: JWTs the developer's server signs with its own private key, verified
 * here with the stored public key, following RFC 8725 (JWT best current practice):
 * - an algorithm allow-list (EdDSA, ES256), and the key's own algorithm must match the header
 *   (no `none`, no HMAC keyed with a public key, no algorithm confusion);
 * - the key is found by `kid` alone; an unknown or deleted `kid` is refused;
 * - `exp` and `iat` are required, the lifetime `exp - iat` is bounded, skew is at most 60 s;
 * - `aud` is required and must be the key's project (DESIGN "Revocation is final"): a token is
 *   good in one project only, even were its key ever registered in another.
 */

/** Longest token accepted; longer ones are refused before any parsing. */
export const MAX_PEER_TOKEN_LENGTH = 4096;
/** Default longest lifetime (`exp - iat`): 24 h. */
export const PEER_TOKEN_MAX_TTL = 24 * 3600;
/** Clock skew tolerated between the developer's server and Punch, in seconds. */
export const PEER_TOKEN_SKEW = 60;

export const PeerTokenClaimsSchema = z.object({
  gid: PeerIdSchema,
  pid: PeerIdSchema,
  ap: AllowPolicySchema,
  exp: z.number().int().positive(),
  iat: z.number().int().positive(),
});

/** Who a verified peer token speaks for. */
export interface PeerIdentity {
  readonly project: string;
  readonly kid: string;
  readonly group: string;
  readonly peer: string;
  readonly allow: readonly AllowRule[];
  /** Unix seconds. */
  readonly expiresAt: number;
}

export interface PeerTokenOptions {
  /** Finds a live key by `kid` (undefined when unknown or deleted). */
  readonly key: (kid: string) => Promise<{ record: KeyRecord; key: CryptoKey } | undefined>;
  /** Milliseconds since the epoch. */
  readonly now: number;
  /** Longest lifetime accepted, in seconds (default 24 h). */
  readonly maxTtl?: number;
}

const ALLOWED: readonly string[] = ['EdDSA', 'ES256'] satisfies KeyAlg[];

/**
 * Verifies a peer token and returns the identity it grants. Every refusal is a PunchError with
 * its own code: ERR_TOKEN_MALFORMED, ERR_TOKEN_ALGORITHM, ERR_KEY_UNKNOWN, ERR_TOKEN_SIGNATURE,
 * ERR_TOKEN_EXPIRED, ERR_TOKEN_LIFETIME, ERR_TOKEN_AUDIENCE.
 *
 * @example
 * const who = await verifyPeerToken(jwt, { key: (kid) => keys.find(kid), now: Date.now() });
 * room.join(conn, who);
 */
export async function verifyPeerToken(
  token: string,
  options: PeerTokenOptions,
): Promise<PeerIdentity> {
  if (token.length > MAX_PEER_TOKEN_LENGTH) {
    throw new PunchError(
      'ERR_TOKEN_MALFORMED',
      `a peer token is at most ${MAX_PEER_TOKEN_LENGTH} characters`,
    );
  }
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch (cause) {
    throw new PunchError('ERR_TOKEN_MALFORMED', 'not a JWT (header.payload.signature)', { cause });
  }
  if (token.split('.').length !== 3)
    throw new PunchError('ERR_TOKEN_MALFORMED', 'not a compact JWS');
  if (typeof header.alg !== 'string' || !ALLOWED.includes(header.alg)) {
    throw new PunchError(
      'ERR_TOKEN_ALGORITHM',
      `alg must be EdDSA or ES256, not ${JSON.stringify(header.alg ?? null)}`,
    );
  }
  if (typeof header.kid !== 'string' || header.kid === '' || header.kid.length > 128) {
    throw new PunchError('ERR_TOKEN_MALFORMED', 'the header has no kid');
  }
  // The header is untrusted JSON: `typ` may be any value, not the string jose's type says.
  const typ: unknown = header.typ;
  if (typ !== undefined && (typeof typ !== 'string' || typ.toUpperCase() !== 'JWT')) {
    throw new PunchError('ERR_TOKEN_MALFORMED', 'typ must be JWT');
  }
  const found = await options.key(header.kid);
  if (found === undefined)
    throw new PunchError('ERR_KEY_UNKNOWN', 'no key with this kid (deleted, or never uploaded)');
  if (found.record.alg !== header.alg) {
    throw new PunchError('ERR_TOKEN_ALGORITHM', `key ${header.kid} is an ${found.record.alg} key`);
  }
  const nowS = options.now / 1000;
  let payload: unknown;
  try {
    ({ payload } = await jwtVerify(token, found.key, {
      algorithms: [found.record.alg],
      currentDate: new Date(options.now),
      clockTolerance: PEER_TOKEN_SKEW,
      requiredClaims: ['exp', 'iat', 'aud'],
      audience: found.record.project,
    }));
  } catch (cause) {
    throw mapJoseError(cause);
  }
  const claims = PeerTokenClaimsSchema.safeParse(payload);
  if (!claims.success) {
    const issue = claims.error.issues[0];
    throw new PunchError(
      'ERR_TOKEN_MALFORMED',
      `claim ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`,
    );
  }
  const c = claims.data;
  if (c.iat > nowS + PEER_TOKEN_SKEW)
    throw new PunchError('ERR_TOKEN_LIFETIME', 'iat is in the future');
  const maxTtl = options.maxTtl ?? PEER_TOKEN_MAX_TTL;
  if (c.exp - c.iat > maxTtl) {
    throw new PunchError(
      'ERR_TOKEN_LIFETIME',
      `a peer token lives at most ${maxTtl} s (exp - iat)`,
    );
  }
  return {
    project: found.record.project,
    kid: found.record.kid,
    group: c.gid,
    peer: c.pid,
    allow: c.ap,
    expiresAt: c.exp,
  };
}

function mapJoseError(cause: unknown): PunchError {
  if (cause instanceof errors.JWTExpired)
    return new PunchError('ERR_TOKEN_EXPIRED', 'exp has passed', { cause });
  if (cause instanceof errors.JWSSignatureVerificationFailed) {
    return new PunchError('ERR_TOKEN_SIGNATURE', undefined, { cause });
  }
  if (cause instanceof errors.JOSEAlgNotAllowed)
    return new PunchError('ERR_TOKEN_ALGORITHM', undefined, { cause });
  if (cause instanceof errors.JWTClaimValidationFailed && cause.claim === 'aud') {
    return new PunchError(
      'ERR_TOKEN_AUDIENCE',
      'aud must be the project id of the key that signed the token (mint anew: tokens without aud are refused)',
      { cause },
    );
  }
  if (cause instanceof errors.JWTClaimValidationFailed) {
    return new PunchError('ERR_TOKEN_MALFORMED', `claim ${cause.claim}: ${cause.reason}`, {
      cause,
    });
  }
  return new PunchError('ERR_TOKEN_MALFORMED', 'the token does not parse', { cause });
}

/** Imports a stored public key for verification. */
export async function importPublicKey(record: KeyRecord): Promise<CryptoKey> {
  const key = await importJWK(record.publicJwk, record.alg);
  // A public JWK always imports as a CryptoKey (only `oct` keys become bytes).
  if (key instanceof Uint8Array) throw new TypeError('a public key imported as raw bytes');
  return key;
}
