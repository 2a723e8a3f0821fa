import { parseIPv4, parseIPv6 } from './ip-text.js';

/** A network: its first bytes and how many leading bits of them count. */
type Prefix = readonly [bytes: readonly number[], bits: number];

/** IPv4 networks no host on the internet is reached at: a LAN's, a link's, the machine's own. */
const LOCAL_V4: readonly Prefix[] = [
  [[10], 8], // private (RFC 1918)
  [[100, 64], 10], // carrier-grade NAT shared space (RFC 6598): the LAN side of a carrier's NAT
  [[127], 8], // loopback
  [[169, 254], 16], // link-local (RFC 3927)
  [[172, 16], 12], // private (RFC 1918)
  [[192, 168], 16], // private (RFC 1918)
];

/** The same for IPv6. */
const LOCAL_V6: readonly Prefix[] = [
  [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 128], // loopback ::1
  [[0xfc], 7], // unique local (RFC 4193)
  [[0xfe, 0x80], 10], // link-local
];

const within = (bytes: Uint8Array, [net, bits]: Prefix): boolean => {
  for (let i = 0; i * 8 < bits; i++) {
    const take = Math.min(8, bits - i * 8);
    const mask = (0xff << (8 - take)) & 0xff;
    if (((bytes[i] ?? 0) & mask) !== ((net[i] ?? 0) & mask)) return false;
  }
  return true;
};

/** The IPv4 address an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, RFC 4291 §2.5.5.2) maps. */
function mappedV4(bytes: Uint8Array): Uint8Array | undefined {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return undefined;
  return bytes[10] === 0xff && bytes[11] === 0xff ? bytes.slice(12) : undefined;
}

/**
 * True for a private, link-local or loopback address: where a LAN candidate (`endpoint.local`)
 * may point. Anything else (a public address, or not an address) is false, so a socket cannot
 * make the other side's agent probe an internet host of its choosing.
 *
 * @example
 * isLocalAddress('192.168.1.20'); // true
 * isLocalAddress('fe80::1');      // true
 * isLocalAddress('198.51.100.7'); // false
 */
export function isLocalAddress(ip: string): boolean {
  const v4 = parseIPv4(ip);
  if (v4 !== undefined) return LOCAL_V4.some((p) => within(v4, p));
  const v6 = parseIPv6(ip);
  if (v6 === undefined) return false;
  const mapped = mappedV4(v6);
  if (mapped !== undefined) return LOCAL_V4.some((p) => within(mapped, p));
  return LOCAL_V6.some((p) => within(v6, p));
}
