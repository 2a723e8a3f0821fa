/**
 * Golden packets and helpers shared by the STUN and TURN codec tests: the RFC 5769 sample
 * messages as hex, byte for byte as the RFC prints them (cross-checked against the RFC text as
 * reproduced in several independent STUN implementations; their FINGERPRINTs validate with our
 * crc32 and their MESSAGE-INTEGRITY values with HMAC-SHA1 under the RFC's passwords), an
 * independent message builder, and a seeded PRNG so the fuzz runs are reproducible.
 */

import { crc32 } from '../crc32.js';

/** Bytes of a hex string; whitespace is ignored so packets can be laid out by attribute. */
export function fromHex(text: string): Uint8Array<ArrayBuffer> {
  const clean = text.replace(/\s+/g, '');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Deterministic PRNG (mulberry32): the same seed gives the same fuzz inputs on every run. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` random bytes from `next`. */
export function randomBytes(next: () => number, count: number): Uint8Array<ArrayBuffer> {
  return Uint8Array.from({ length: count }, () => Math.floor(next() * 256));
}

/**
 * RFC 5769 §2.1 sample request: SOFTWARE, PRIORITY (0x0024, comprehension-required ICE),
 * ICE-CONTROLLED (0x8029), USERNAME "evtj:h6vY" padded with spaces, MESSAGE-INTEGRITY under
 * the short-term password, FINGERPRINT.
 */
export const RFC5769_REQUEST = fromHex(`
  00010058 2112a442 b7e7a701 bc34d686 fa87dfae
  80220010 5354554e 20746573 7420636c 69656e74
  00240004 6e0001ff
  80290008 932ff9b1 51263b36
  00060009 6576746a 3a683676 59202020
  00080014 9aeaa70c bfd8cb56 781ef2b5 b2d3f249 c1b571a2
  80280004 e57a3bcf`);

/** §2.2 sample IPv4 response: SOFTWARE, XOR-MAPPED-ADDRESS 192.0.2.1:32853, integrity, FP. */
export const RFC5769_IPV4_RESPONSE = fromHex(`
  0101003c 2112a442 b7e7a701 bc34d686 fa87dfae
  8022000b 74657374 20766563 746f7220
  00200008 0001a147 e112a643
  00080014 2b91f599 fd9e90c3 8c7489f9 2af9ba53 f06be7d7
  80280004 c07d4c96`);

/** §2.3 sample IPv6 response: XOR-MAPPED-ADDRESS [2001:db8:1234:5678:11:2233:4455:6677]:32853. */
export const RFC5769_IPV6_RESPONSE = fromHex(`
  01010048 2112a442 b7e7a701 bc34d686 fa87dfae
  8022000b 74657374 20766563 746f7220
  00200014 0002a147 0113a9fa a5d3f179 bc25f4b5 bed2b9d9
  00080014 a382954e 4be67bf1 1784c97c 8292c275 bfe3ed41
  80280004 c8fb0b4c`);

/** The short-term password of §2.1-2.3 (its MESSAGE-INTEGRITY key is the password itself). */
export const RFC5769_PASSWORD = 'VOkJxbRl1RmTxUk/WvJxBt';

/** Transaction id of §2.1-2.3. */
export const RFC5769_TID = 'b7e7a701bc34d686fa87dfae';

/**
 * §2.4 sample request with long-term authentication: USERNAME "マトリックス" (unchanged by
 * SASLprep), NONCE, REALM "example.org", MESSAGE-INTEGRITY, no FINGERPRINT. Padded with zeros,
 * unlike the others, so an encoder can reproduce it byte for byte.
 */
export const RFC5769_LONG_TERM_REQUEST = fromHex(`
  00010060 2112a442 78ad3433 c6ad72c0 29da412e
  00060012 e3839ee3 8388e383 aae38383 e382afe3 82b90000
  0015001c 662f2f34 39396b39 35346436 4f4c3334 6f4c3946 53547679 36347341
  0014000b 6578616d 706c652e 6f726700
  00080014 f6702465 6dd64a3e 02b8e071 2e85c9a2 8ca89666`);

export const RFC5769_LONG_TERM = {
  transactionId: '78ad3433c6ad72c029da412e',
  username: '\u30de\u30c8\u30ea\u30c3\u30af\u30b9',
  /** The RFC gives "The<U+00AD>M<U+00AA>tr<U+2168>", which SASLprep turns into this. */
  password: 'TheMatrIX',
  nonce: 'f//499k954d6OL34oL9FSTvy64sA',
  realm: 'example.org',
} as const;

/**
 * An independent raw builder (not the codec under test), so malformed-but-framed messages can be
 * made on purpose: `type` is the whole 16-bit message type, attributes are raw type/value pairs,
 * `fingerprint` appends a correct FINGERPRINT.
 */
export function build(
  type: number,
  transactionId: Uint8Array,
  attributes: readonly (readonly [number, Uint8Array])[],
  fingerprint = false,
): Uint8Array<ArrayBuffer> {
  const body: number[] = [];
  for (const [t, v] of attributes) {
    body.push(t >> 8, t & 0xff, v.length >> 8, v.length & 0xff, ...v);
    while (body.length % 4 !== 0) body.push(0);
  }
  const length = body.length + (fingerprint ? 8 : 0);
  const out = new Uint8Array(20 + length);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, type);
  dv.setUint16(2, length);
  dv.setUint32(4, 0x2112a442);
  out.set(transactionId, 8);
  out.set(body, 20);
  if (fingerprint) {
    const at = 20 + body.length;
    dv.setUint16(at, 0x8028);
    dv.setUint16(at + 2, 4);
    dv.setUint32(at + 4, (crc32(out.subarray(0, at)) ^ 0x5354554e) >>> 0);
  }
  return out;
}
