/** CRC-32 for STUN's FINGERPRINT attribute (and anything else that needs zlib's CRC). */

const CRC_TABLE = buildCrcTable();

function buildCrcTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

/**
 * CRC-32 (ISO-HDLC / IEEE 802.3, reflected polynomial 0xEDB88320), as used by FINGERPRINT
 * (RFC 8489 §14.7, which defers to ITU-T V.42 / the same CRC as zlib). Returns an unsigned 32-bit
 * value; FINGERPRINT is this XOR 0x5354554e.
 *
 * @example
 * crc32(new TextEncoder().encode('123456789')) // 0xcbf43926
 */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = (CRC_TABLE[(c ^ b) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
