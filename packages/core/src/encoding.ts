/** Byte and text helpers over web standards only (no Buffer). */

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(text);
}

/** Decodes UTF-8, throwing on invalid sequences. */
export function fromUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

const B64URL = /^[A-Za-z0-9_-]*$/;

/**
 * base64url without padding (RFC 4648 §5).
 *
 * @example
 * base64url(utf8('hi')) // 'aGk'
 */
export function base64url(bytes: Uint8Array): string {
  return base64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * Standard, padded base64 (RFC 4648 §4).
 *
 * @example
 * base64(utf8('hi')) // 'aGk='
 */
export function base64(bytes: Uint8Array): string {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

/**
 * Decodes unpadded base64url; returns undefined for anything else.
 *
 * @example
 * fromBase64url('aGk') // Uint8Array [104, 105]
 */
export function fromBase64url(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!B64URL.test(text) || text.length % 4 === 1) return undefined;
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  // Reject non-canonical encodings (stray bits in the last character): one text, one value.
  if (base64url(out) !== text) return undefined;
  return out;
}

/** Lowercase hex of bytes. */
export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * A fresh copy of `bytes[start, end)`. Not `bytes.slice()`: on a Node Buffer (what sockets hand
 * a host) `slice` is a view into the same memory, and a parser that writes to its "copy" would
 * change the packet it is still reading.
 *
 * @example
 * const tid = copyBytes(packet, 8, 20); // safe to keep and to modify
 */
export function copyBytes(
  bytes: Uint8Array,
  start = 0,
  end = bytes.length,
): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes.subarray(start, end));
}
