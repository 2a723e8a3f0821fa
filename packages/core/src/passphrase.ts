/**
 * SRT passphrases: 32 characters from [A-Za-z0-9] (no shell quoting issues), from
 * crypto.getRandomValues. Bytes are mapped with rejection sampling — a byte is used only when
 * it is below 248 (= 4 × 62), so `byte % 62` is exactly uniform; a plain `byte % 62` over all
 * 256 values would favour the first 8 characters.
 */
export const PASSPHRASE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export const PASSPHRASE_LENGTH = 32;

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
  return sample(PASSPHRASE_ALPHABET, PASSPHRASE_LENGTH, random);
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
  return sample(alphabet, Math.ceil((bytes * 8) / Math.log2(alphabet.length)), random);
}

/** `length` characters of `alphabet`, each uniform: bytes past the last whole multiple are skipped. */
function sample(alphabet: string, length: number, random: RandomBytes): string {
  const limit = 256 - (256 % alphabet.length);
  let out = '';
  while (out.length < length) {
    for (const b of random(length)) {
      if (b >= limit) continue;
      out += alphabet.charAt(b % alphabet.length);
      if (out.length === length) break;
    }
  }
  return out;
}
