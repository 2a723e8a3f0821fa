import { base64url, hex, utf8 } from '../encoding.js';
import { webRandom, type RandomBytes } from '../passphrase.js';

/**
 * Account API keys: `pa_` + 43 base64url characters (256 random bits). Punch stores only the
 * SHA-256 of a key; with 256 bits of entropy a plain hash is enough (nothing to brute-force),
 * and looking a key up by its hash leaks nothing about other keys.
 */

const SHAPE = /^pa_[A-Za-z0-9_-]{43}$/;

/**
 * A new account key, shown once to its owner.
 *
 * @example
 * const key = newAccountKey(); // 'pa_…'
 */
export function newAccountKey(random: RandomBytes = webRandom): string {
  return `pa_${base64url(random(32))}`;
}

/** True when `text` has the shape of an account key. */
export function isAccountKey(text: string): boolean {
  return SHAPE.test(text);
}

/** The stored form of an account key: lowercase hex SHA-256. */
export async function hashAccountKey(key: string): Promise<string> {
  return hex(new Uint8Array(await crypto.subtle.digest('SHA-256', utf8(key))));
}
