import { describe, it, expect } from 'vitest';
import {
  PASSPHRASE_ALPHABET,
  PASSPHRASE_LENGTH,
  generatePassphrase,
  randomId,
  type RandomBytes,
} from './passphrase.js';

/** A byte source that replays `bytes` and then repeats `fill` forever. */
function scripted(bytes: readonly number[], fill = 0): RandomBytes {
  let i = 0;
  return (n) => {
    const out = new Uint8Array(n);
    for (let k = 0; k < n; k++) out[k] = i < bytes.length ? bytes[i++]! : fill;
    return out;
  };
}

/** Deterministic PRNG (mulberry32) as a byte source, so the statistics below are reproducible. */
function seeded(seed: number): RandomBytes {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return (n) => {
    const out = new Uint8Array(n);
    for (let k = 0; k < n; k++) out[k] = next() & 0xff;
    return out;
  };
}

/** Pearson's chi-square statistic of character counts against a uniform distribution. */
function chiSquare(text: string, alphabet: string): number {
  const counts = new Map<string, number>();
  for (const ch of alphabet) counts.set(ch, 0);
  for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  expect(counts.size).toBe(alphabet.length); // nothing outside the alphabet
  const expected = text.length / alphabet.length;
  let x2 = 0;
  for (const c of counts.values()) x2 += (c - expected) ** 2 / expected;
  return x2;
}

// 61 degrees of freedom: the 0.999 quantile of chi-square(61) is about 100.9.
const CHI2_61_P001 = 100.9;
const SAMPLE_CHARS = 200_000;

describe('generatePassphrase', () => {
  it('is 32 alphanumeric characters (seed: length 32, alphanumeric)', () => {
    expect(PASSPHRASE_LENGTH).toBe(32);
    expect(PASSPHRASE_ALPHABET).toBe(
      'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789',
    );
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const p = generatePassphrase();
      expect(p).toMatch(/^[A-Za-z0-9]{32}$/);
      seen.add(p);
    }
    expect(seen.size).toBe(200);
  });

  it('maps accepted bytes with byte % 62 over the alphabet', () => {
    const bytes = Array.from({ length: 32 }, (_, i) => i);
    expect(generatePassphrase(scripted(bytes))).toBe(PASSPHRASE_ALPHABET.slice(0, 32));
    // 62 + k maps like k; 247 = 3 * 62 + 61 is the last usable byte → '9'.
    expect(generatePassphrase(scripted([62, 63, 247, 186]))).toMatch(/^AB9A/);
  });

  it('skips bytes >= 248 (rejection sampling): 255 then 0 gives "A"', () => {
    expect(generatePassphrase(scripted([255, 0])).charAt(0)).toBe('A');
    const skipped = [248, 249, 250, 251, 252, 253, 254, 255];
    const tail = Array.from({ length: 32 }, (_, i) => 31 - i);
    const expected = tail.map((b) => PASSPHRASE_ALPHABET.charAt(b)).join('');
    expect(generatePassphrase(scripted([...skipped, ...tail]))).toBe(expected);
  });

  it('keeps drawing when a whole batch is rejected', () => {
    const allRejected = new Array<number>(100).fill(250);
    const p = generatePassphrase(scripted([...allRejected, 1, 2, 3], 25));
    expect(p).toBe('BCD' + 'Z'.repeat(29));
  });

  it(`is uniform over ${SAMPLE_CHARS} characters (chi-square), where naive byte % 62 is not`, () => {
    const random = seeded(0x5eed);
    let text = '';
    while (text.length < SAMPLE_CHARS) text += generatePassphrase(random);
    expect(chiSquare(text, PASSPHRASE_ALPHABET)).toBeLessThan(CHI2_61_P001);

    // The check has the power to see the bias it guards against: the same source mapped
    // with a plain `byte % 62` fails it by an order of magnitude.
    const naiveRandom = seeded(0x5eed);
    const bytes = naiveRandom(SAMPLE_CHARS);
    let naive = '';
    for (const b of bytes) naive += PASSPHRASE_ALPHABET.charAt(b % 62);
    expect(chiSquare(naive, PASSPHRASE_ALPHABET)).toBeGreaterThan(10 * CHI2_61_P001);
  });
});

describe('randomId', () => {
  it('carries at least the requested entropy, in [a-z0-9]', () => {
    for (const bytes of [4, 6, 16, 32]) {
      const id = randomId(bytes);
      expect(id).toMatch(/^[a-z0-9]+$/);
      // Each character carries log2(36) bits.
      expect(id.length * Math.log2(36)).toBeGreaterThanOrEqual(bytes * 8);
      expect((id.length - 1) * Math.log2(36)).toBeLessThan(bytes * 8);
    }
    expect(randomId()).toHaveLength(randomId(16).length);
  });

  it('is different every time', () => {
    const ids = new Set(Array.from({ length: 500 }, () => randomId(16)));
    expect(ids.size).toBe(500);
  });

  it('skips bytes >= 252 (= 7 * 36) and maps the rest with byte % 36', () => {
    const id = randomId(4, scripted([252, 253, 254, 255, 0, 35, 36, 251]));
    expect(id.startsWith('a9a9')).toBe(true);
  });
});
