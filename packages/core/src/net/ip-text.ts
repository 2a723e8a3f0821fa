/**
 * IP addresses between text and bytes, exactly as the socket APIs spell them (inet_pton /
 * inet_ntop): STUN's (and TURN's) address attributes carry bytes, Node's sockets and the wire
 * messages carry text. Web standards only; parsers never throw (undefined for anything that is
 * not an address).
 */

/**
 * Dotted-quad text of the first four bytes.
 *
 * @example
 * formatIPv4(new Uint8Array([192, 0, 2, 1])); // '192.0.2.1'
 */
export function formatIPv4(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 4)).join('.');
}

/**
 * RFC 5952 text, matching libuv's inet_ntop6 (what Node puts in `rinfo.address`): lowercase, no
 * leading zeros, the first longest run of two or more zero groups as "::", and the last 32 bits
 * as a dotted quad for IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d) addresses.
 *
 * @example
 * formatIPv6(parseIPv6('2001:DB8:0:0:0:0:0:1') ?? new Uint8Array(16)); // '2001:db8::1'
 */
export function formatIPv6(bytes: Uint8Array): string {
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));

  let bestBase = -1;
  let bestLen = 0;
  let curBase = -1;
  for (let i = 0; i <= 8; i++) {
    if (i < 8 && words[i] === 0) {
      if (curBase === -1) curBase = i;
    } else if (curBase !== -1) {
      if (i - curBase > bestLen) {
        bestBase = curBase;
        bestLen = i - curBase;
      }
      curBase = -1;
    }
  }
  if (bestLen < 2) bestBase = -1;

  if (bestBase === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff))) {
    return (bestLen === 5 ? '::ffff:' : '::') + formatIPv4(bytes.subarray(12, 16));
  }
  if (bestBase === -1) return words.map((w) => w.toString(16)).join(':');
  const head = words.slice(0, bestBase).map((w) => w.toString(16));
  const tail = words.slice(bestBase + bestLen).map((w) => w.toString(16));
  return `${head.join(':')}::${tail.join(':')}`;
}

const IPV4_PART = /^(?:0|[1-9]\d{0,2})$/;
const IPV6_GROUP = /^[0-9a-fA-F]{1,4}$/;

/**
 * Strict dotted quad: four decimal parts 0..255, no leading zeros (as inet_pton).
 *
 * @example
 * parseIPv4('192.0.2.1'); // Uint8Array [192, 0, 2, 1]
 * parseIPv4('192.0.2.01'); // undefined
 */
export function parseIPv4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i] ?? '';
    if (!IPV4_PART.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

/**
 * RFC 4291 §2.2 text forms, including "::" and a trailing dotted quad; zone ids are dropped.
 *
 * @example
 * parseIPv6('::ffff:192.0.2.1'); // 16 bytes, the last four 192, 0, 2, 1
 */
export function parseIPv6(text: string): Uint8Array | undefined {
  const zone = text.indexOf('%');
  const addr = zone === -1 ? text : text.slice(0, zone);
  const halves = addr.split('::');
  if (halves.length > 2) return undefined;

  const groups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    const items = part.split(':');
    for (let i = 0; i < items.length; i++) {
      const item = items[i] ?? '';
      if (i === items.length - 1 && item.includes('.')) {
        const v4 = parseIPv4(item);
        if (v4 === undefined) return undefined;
        out.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
      } else {
        if (!IPV6_GROUP.test(item)) return undefined;
        out.push(parseInt(item, 16));
      }
    }
    return out;
  };

  const head = groups(halves[0] ?? '');
  const tail = halves.length === 2 ? groups(halves[1] ?? '') : [];
  if (head === undefined || tail === undefined) return undefined;
  // A dotted quad is only allowed as the very last 32 bits.
  if (halves.length === 2 && (halves[0] ?? '').includes('.')) return undefined;
  const used = head.length + tail.length;
  // Without "::" all 8 groups are spelled out; with it, "::" stands for at least one group.
  if (halves.length === 1 ? used !== 8 : used > 7) return undefined;

  const words = [...head, ...new Array<number>(8 - used).fill(0), ...tail];
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[2 * i] = w >>> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}
