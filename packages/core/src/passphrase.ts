/**
 * SRT passphrases: 32 characters from [A-Za-z0-9] (no shell quoting issues), from
 * crypto.getRandomValues. Bytes are mapped with rejection sampling — a byte is used only when
 * it is below 248 (= 4 × 62), so `byte % 62` is exactly uniform; a plain `byte % 62` over all
 * 256 values would favour the first 8 characters.
 */
export const PASSPHRASE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export const PASSPHRASE_LENGTH = 32;
const LIMIT = 256 - (256 % PASSPHRASE_ALPHABET.length); // 248

/** A source of random bytes; the default is WebCrypto. Injected in tests. */
export type RandomBytes = (n: number) => Uint8Array;

export const webRandom: RandomBytes = (n) => crypto.getRandomValues(new Uint8Array(n));

/**
 * Generates an SRT passphrase.
 *
 * @example
 * generatePassphrase() // 'q8ZkT0...' (32 alphanumeric characters)
 */
export function generatePassphrase(random: RandomBytes = webRandom): string {
  let out = '';
  while (out.length < PASSPHRASE_LENGTH) {
    for (const b of random(PASSPHRASE_LENGTH)) {
      if (b >= LIMIT) continue;
      out += PASSPHRASE_ALPHABET.charAt(b % PASSPHRASE_ALPHABET.length);
      if (out.length === PASSPHRASE_LENGTH) break;
    }
  }
  return out;
}

/**
 * A random identifier from [a-z0-9] carrying at least `bytes` × 8 bits of randomness (rejection
 * sampling, as above), for session names and STUN usernames.
 *
 * @example
 * randomId(16) // 'k3v9…' (25 characters, ≥ 128 bits)
 */
export function randomId(bytes = 16, random: RandomBytes = webRandom): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const limit = 256 - (256 % alphabet.length);
  const want = Math.ceil((bytes * 8) / Math.log2(alphabet.length));
  let out = '';
  while (out.length < want) {
    for (const b of random(want)) {
      if (b >= limit) continue;
      out += alphabet.charAt(b % alphabet.length);
      if (out.length === want) break;
    }
  }
  return out;
}
