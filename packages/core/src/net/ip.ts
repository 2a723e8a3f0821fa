/**
 * IP addresses as text, the way sockets report them. A dual-stack socket reports an IPv4
 * client as IPv4-mapped IPv6 (`::ffff:192.0.2.1`, RFC 4291 §2.5.5.2) while a client states its
 * own address as plain IPv4, so both spellings must compare equal.
 */

/**
 * The canonical text of an IP address: lower case, with an IPv4-mapped IPv6 address written
 * as the IPv4 address it maps.
 *
 * @example
 * normalizeIp('::FFFF:192.0.2.1'); // '192.0.2.1'
 * normalizeIp('2001:DB8::1');      // '2001:db8::1'
 */
export function normalizeIp(ip: string): string {
  const lower = ip.toLowerCase();
  return lower.startsWith('::ffff:') && lower.includes('.') ? lower.slice(7) : lower;
}

/**
 * True when `a` and `b` are the same address once normalised (see `normalizeIp`).
 *
 * @example
 * sameIp('::ffff:192.0.2.1', '192.0.2.1'); // true
 * sameIp('192.0.2.1', '192.0.2.2');        // false
 */
export function sameIp(a: string, b: string): boolean {
  return normalizeIp(a) === normalizeIp(b);
}
