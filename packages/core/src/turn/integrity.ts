/**
 * MESSAGE-INTEGRITY (RFC 8489 §14.5): HMAC-SHA1 over the message up to the attribute, with the
 * header length already counting it. The key is the long-term credential key (credentials.ts) or,
 * for short-term credentials, the password's bytes. MESSAGE-INTEGRITY-SHA256 is not supported: a
 * server that never offers PASSWORD-ALGORITHMS is never sent it by a conforming client (§9.2.4).
 */

import { STUN_ATTRIBUTE } from './attributes.js';
import {
  appendFingerprint,
  encodeMessage,
  growMessage,
  type ParsedStunMessage,
  type StunMessage,
} from './message.js';

const MI_SIZE = 20;

async function hmacSha1(key: Uint8Array, data: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  const cryptoKey = await crypto.subtle.importKey(
    'raw',
    key.slice(), // a copy typed as ArrayBuffer-backed, as WebCrypto's BufferSource wants
    { name: 'HMAC', hash: 'SHA-1' },
    false,
    ['sign'],
  );
  return new Uint8Array(await crypto.subtle.sign('HMAC', cryptoKey, data));
}

/**
 * Compares two byte strings in time that depends only on their lengths, so an attacker timing the
 * answers cannot learn a MAC byte by byte.
 *
 * @example
 * constantTimeEqual(expectedMac, receivedMac); // true only if every byte matches
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/**
 * True when `message` carries MESSAGE-INTEGRITY and it checks out under `key`; false when it is
 * absent, wrong, or `key` is empty. The comparison is constant-time. Never throws.
 *
 * @example
 * const key = longTermKey(username, realm, password);
 * if (!(await verifyIntegrity(parsed.message, key))) return challenge(401);
 */
export async function verifyIntegrity(
  message: ParsedStunMessage,
  key: Uint8Array,
): Promise<boolean> {
  // WebCrypto refuses an empty HMAC key; no credential derives one, so it cannot match.
  if (message.integrity === undefined || key.length === 0) return false;
  const expected = await hmacSha1(key, message.integrity.signed);
  return constantTimeEqual(expected, message.integrity.mac);
}

/**
 * Appends MESSAGE-INTEGRITY to an encoded message (RFC 8489 §14.5). Throws RangeError for an
 * empty key or a message already at the size limit.
 *
 * @example
 * const signed = await appendIntegrity(encodeMessage(response), key);
 */
export async function appendIntegrity(
  encoded: Uint8Array,
  key: Uint8Array,
): Promise<Uint8Array<ArrayBuffer>> {
  if (key.length === 0) throw new RangeError('STUN: MESSAGE-INTEGRITY needs a non-empty key');
  const at = encoded.length;
  const out = growMessage(encoded, 4 + MI_SIZE);
  const dv = new DataView(out.buffer);
  dv.setUint16(at, STUN_ATTRIBUTE['MESSAGE-INTEGRITY']);
  dv.setUint16(at + 2, MI_SIZE);
  out.set(await hmacSha1(key, out.subarray(0, at)), at + 4);
  return out;
}

/**
 * Encodes `message` with MESSAGE-INTEGRITY under `key`, then FINGERPRINT if asked (the order RFC
 * 8489 §14.5 and §14.7 require). What a server sends in answer to an authenticated request.
 *
 * @example
 * socket.send(await encodeSignedMessage(
 *   { method: STUN_METHOD.allocate, class: 'success', transactionId, attributes },
 *   key,
 *   { fingerprint: true },
 * ));
 */
export async function encodeSignedMessage(
  message: StunMessage,
  key: Uint8Array,
  options: { fingerprint?: boolean } = {},
): Promise<Uint8Array<ArrayBuffer>> {
  const signed = await appendIntegrity(encodeMessage(message), key);
  return options.fingerprint === true ? appendFingerprint(signed) : signed;
}
