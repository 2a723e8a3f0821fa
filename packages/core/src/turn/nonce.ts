/**
 * Stateless nonces for the long-term credential mechanism (RFC 8489 §9.2): the server keeps no
 * table. A nonce is `<expiry>.<mac>`, the expiry in Unix seconds and the MAC an HMAC-SHA256 (cut
 * to 128 bits, base64url) of the expiry and an optional context under a server key, so any nonce
 * the server issued can be checked, and none can be forged or extended, from the nonce alone.
 *
 * The context binds a nonce to something the server sees on every request, typically the
 * client's transport address: a nonce copied to another client is then worthless. A nonce never
 * starts with RFC 8489's "obMatJos2" cookie (§9.2), so clients do not look for security features
 * (PASSWORD-ALGORITHMS, USERHASH) this server does not offer.
 */

import { base64url, fromBase64url, utf8 } from '../encoding.js';
import { constantTimeEqual } from './integrity.js';

/** What a client's nonce is worth: `stale` (ours, expired) and `invalid` are both answered 438. */
export type NonceVerdict = 'valid' | 'stale' | 'invalid';

const MAC_BYTES = 16;
const NONCE = /^(0|[1-9]\d{0,14})\.([A-Za-z0-9_-]{22})$/;
/** Keeps these MACs apart from anything else the same secret signs. */
const LABEL = 'punch-turn-nonce-v1';

/**
 * Imports the server's nonce key from a secret (at least 16 bytes of it are sensible; the relay
 * derives it from its TURN secret). Rotating the secret turns every outstanding nonce `invalid`,
 * which clients recover from with one 438 round trip.
 *
 * @example
 * const key = await nonceKey(utf8(turnSecret));
 */
export async function nonceKey(secret: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', secret.slice(), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
  ]);
}

async function mac(key: CryptoKey, expiresAt: number, context: string): Promise<Uint8Array> {
  const signed = await crypto.subtle.sign('HMAC', key, utf8(`${LABEL}|${expiresAt}|${context}`));
  return new Uint8Array(signed, 0, MAC_BYTES);
}

/**
 * A nonce valid until `expiresAt` (Unix seconds, whole) for `context`.
 *
 * @example
 * const nonce = await issueNonce(key, now + 600, `${rinfo.address}:${rinfo.port}`);
 */
export async function issueNonce(key: CryptoKey, expiresAt: number, context = ''): Promise<string> {
  if (!Number.isSafeInteger(expiresAt) || expiresAt < 0) {
    throw new RangeError(`TURN: nonce expiry must be whole seconds, got ${expiresAt}`);
  }
  return `${expiresAt}.${base64url(await mac(key, expiresAt, context))}`;
}

/**
 * Checks a nonce a client sent back: `valid` if this key issued it for `context` and `now` (Unix
 * seconds) is not past its expiry, `stale` if it was issued but has expired, `invalid` for
 * anything else. Both failures are answered 438 Stale Nonce with a fresh nonce (RFC 8489 §9.2.4);
 * the split is for metrics. The MAC comparison is constant-time. Never throws on input.
 *
 * @example
 * if ((await checkNonce(key, nonce, now, client)) !== 'valid') {
 *   return challengeResponse(request, 438, realm, await issueNonce(key, now + 600, client));
 * }
 */
export async function checkNonce(
  key: CryptoKey,
  nonce: string,
  now: number,
  context = '',
): Promise<NonceVerdict> {
  const match = NONCE.exec(nonce);
  const sent = match === null ? undefined : fromBase64url(match[2] ?? '');
  if (match === null || sent === undefined) return 'invalid';
  const expiresAt = Number(match[1]);
  if (!constantTimeEqual(await mac(key, expiresAt, context), sent)) return 'invalid';
  return expiresAt < now ? 'stale' : 'valid';
}
