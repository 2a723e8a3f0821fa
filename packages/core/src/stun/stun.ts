/**
 * A minimal STUN (RFC 8489) codec for a Binding server and its clients: parse Binding requests,
 * build Binding success responses, and the inverse pair for tests and agents.
 *
 * Everything here handles bytes straight off a UDP socket that may also carry other protocols
 * (SRT, RTP, DTLS), so parsers never throw: anything that is not exactly a well-formed message of
 * the expected kind is `undefined`, and the caller silently drops it (RFC 8489 §6.3).
 *
 * Web standards only: no Buffer, no `node:*`.
 */

import { copyBytes } from '../encoding.js';
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from '../net/ip-text.js';
import { crc32 } from './crc32.js';

/** Fixed value at header offset 4 that distinguishes RFC 5389/8489 STUN from RFC 3489 (§5). */
export const STUN_MAGIC_COOKIE = 0x2112a442;

/** A transport address as carried in (XOR-)MAPPED-ADDRESS (RFC 8489 §14.1, §14.2). */
export interface StunAddress {
  /** Canonical text: dotted quad, or RFC 5952 compressed lowercase IPv6 as Node prints it. */
  ip: string;
  port: number;
  family: 4 | 6;
}

/** What a Binding server needs from a request: who to answer and (optionally) who is asking. */
export interface BindingRequest {
  transactionId: Uint8Array;
  username?: string;
}

/** 20-byte message header (RFC 8489 §5). */
const HEADER_SIZE = 20;
const TRANSACTION_ID_SIZE = 12;

/**
 * Largest datagram we accept: 1096 bytes (2 × 548). RFC 8489 §6.1 asks senders without path MTU
 * knowledge to stay under 576 bytes of IPv4 datagram (548 bytes of STUN after IP and UDP
 * headers); we allow twice that so a maximal RFC 5389 USERNAME (763 bytes, §14.3) plus integrity
 * and ICE attributes still fits, while bounding the work any single junk datagram can cost us.
 */
const MAX_PACKET_SIZE = 1096;

/** Message types: method Binding (0x001) in the request and success classes (RFC 8489 §5). */
const BINDING_REQUEST = 0x0001;
const BINDING_SUCCESS = 0x0101;

/** Attribute types (RFC 8489 §18.3). */
const ATTR_MAPPED_ADDRESS = 0x0001;
const ATTR_USERNAME = 0x0006;
const ATTR_MESSAGE_INTEGRITY = 0x0008;
const ATTR_XOR_MAPPED_ADDRESS = 0x0020;
const ATTR_MESSAGE_INTEGRITY_SHA256 = 0x001c;
const ATTR_SOFTWARE = 0x8022;
const ATTR_FINGERPRINT = 0x8028;

/** FINGERPRINT is CRC-32 XOR this ("STUN" in ASCII) so it never collides with other CRCs (§14.7). */
const FINGERPRINT_XOR = 0x5354554e;

/** Parsers must accept up to 763 bytes (RFC 5389 compatibility); senders must stay under 509. */
const USERNAME_MAX_PARSE = 763;
const USERNAME_MAX_SEND = 508;

const FAMILY_IPV4 = 0x01;
const FAMILY_IPV6 = 0x02;

/** Sent as SOFTWARE (§14.14) so operators can tell which server answered. */
const SOFTWARE = 'punch';

const encoder = new TextEncoder();
// Fatal: a username that is not valid UTF-8 makes the request malformed (§14.3), never U+FFFD.
// ignoreBOM: keep the bytes exactly as sent so usernames compare byte-for-byte with ICE ufrags.
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function view(packet: Uint8Array): DataView {
  return new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
}

/**
 * Header checks shared by every entry point (RFC 8489 §5, §6.3): top two bits zero (so STUN can be
 * demultiplexed from RTP/DTLS/SRT, RFC 7983), magic cookie present, and a length that is a multiple
 * of 4 and accounts for exactly the rest of the datagram.
 */
function headerLooksValid(packet: Uint8Array, dv: DataView): boolean {
  if (packet.length < HEADER_SIZE) return false;
  if ((dv.getUint8(0) & 0xc0) !== 0) return false;
  if (dv.getUint32(4) !== STUN_MAGIC_COOKIE) return false;
  const length = dv.getUint16(2);
  return length % 4 === 0 && length === packet.length - HEADER_SIZE;
}

/**
 * True if the first bytes look like STUN (top two bits zero, magic cookie at offset 4, length
 * multiple of 4 matching the packet) — used to tell STUN apart from other traffic on a shared
 * socket (RFC 8489 §7, RFC 7983 §7). It does not check the message type, attributes or
 * FINGERPRINT, and has no size cap: an oversized STUN-shaped datagram is still "STUN" (to be
 * dropped by the parsers), not something to hand to another protocol.
 *
 * @example
 * const req = encodeBindingRequest(crypto.getRandomValues(new Uint8Array(12)));
 * isStunPacket(req); // true
 * isStunPacket(new Uint8Array([0x47, 0x40, 0x00, 0x10])); // false (an MPEG-TS sync byte)
 */
export function isStunPacket(packet: Uint8Array): boolean {
  if (packet.length < HEADER_SIZE) return false;
  return headerLooksValid(packet, view(packet));
}

interface Attribute {
  readonly type: number;
  /** Offset of the value (after the 4-byte attribute header). */
  readonly offset: number;
  readonly length: number;
}

/**
 * Validates the header for `type`, walks the attributes with bounds checks and 4-byte padding
 * (§14), and verifies FINGERPRINT if present. Returns the attributes that are meaningful to us:
 * per §14.5/§14.6, anything after MESSAGE-INTEGRITY(-SHA256) other than FINGERPRINT must be
 * ignored, so those are left out. Undefined for any malformation.
 */
function readMessage(
  packet: Uint8Array,
  type: number,
): { dv: DataView; attributes: Attribute[] } | undefined {
  if (packet.length < HEADER_SIZE || packet.length > MAX_PACKET_SIZE) return undefined;
  const dv = view(packet);
  if (!headerLooksValid(packet, dv) || dv.getUint16(0) !== type) return undefined;

  const attributes: Attribute[] = [];
  let afterIntegrity = false;
  let offset = HEADER_SIZE;
  while (offset < packet.length) {
    if (offset + 4 > packet.length) return undefined;
    const attrType = dv.getUint16(offset);
    const length = dv.getUint16(offset + 2);
    const valueOffset = offset + 4;
    // Values are padded to a multiple of 4 (§14); both the value and its padding must fit.
    const next = valueOffset + Math.ceil(length / 4) * 4;
    if (next > packet.length) return undefined;

    if (attrType === ATTR_FINGERPRINT) {
      // §14.7: FINGERPRINT is exactly 4 bytes and MUST be the last attribute. The CRC covers
      // the message up to the attribute, with a header length that already includes it, which
      // is what the wire bytes contain when it is last.
      if (length !== 4 || next !== packet.length) return undefined;
      if (dv.getUint32(valueOffset) !== stunFingerprint(packet.subarray(0, offset))) {
        return undefined;
      }
    } else if (attrType === ATTR_MESSAGE_INTEGRITY || attrType === ATTR_MESSAGE_INTEGRITY_SHA256) {
      // A plain Binding server has no credentials to check these against (§9 short-term auth is
      // the application's business); we only honour their effect on attribute ordering.
      afterIntegrity = true;
    } else if (!afterIntegrity) {
      attributes.push({ type: attrType, offset: valueOffset, length });
    }
    offset = next;
  }
  return { dv, attributes };
}

/**
 * Parses a STUN Binding request (RFC 8489 §6.3.1). Returns undefined for anything that is not a
 * well-formed STUN Binding request (silently drop junk). Never throws.
 *
 * Rules: 20-byte header with type 0x0001, the magic cookie, and a length that is a multiple of 4
 * equal to the datagram size minus 20; attributes must fit their padded length; a FINGERPRINT, if
 * present, must be last and correct; USERNAME (first occurrence) must be valid UTF-8 of at most
 * 763 bytes. Datagrams over 1096 bytes are rejected. MESSAGE-INTEGRITY is not verified, and
 * unknown comprehension-required attributes are ignored: a Binding server that authenticates
 * nobody has nothing to gain from rejecting them with a 420 (§6.3.1.1) and would only add a
 * reflection vector.
 *
 * @example
 * const tid = crypto.getRandomValues(new Uint8Array(12));
 * parseBindingRequest(encodeBindingRequest(tid, 'alice')); // { transactionId: tid, username: 'alice' }
 * parseBindingRequest(new Uint8Array(3)); // undefined
 */
export function parseBindingRequest(packet: Uint8Array): BindingRequest | undefined {
  try {
    const message = readMessage(packet, BINDING_REQUEST);
    if (message === undefined) return undefined;
    const request: BindingRequest = { transactionId: transactionIdOf(packet) };
    const username = message.attributes.find((a) => a.type === ATTR_USERNAME);
    if (username !== undefined) {
      if (username.length > USERNAME_MAX_PARSE) return undefined;
      const bytes = packet.subarray(username.offset, username.offset + username.length);
      request.username = utf8Decoder.decode(bytes); // throws on invalid UTF-8 → caught below
    }
    return request;
  } catch {
    // Parsers never throw (see the top of this file): malformed means "not for us", dropped.
    return undefined;
  }
}

/**
 * Parses a Binding success response (RFC 8489 §6.3.3) and returns its XOR-MAPPED-ADDRESS, or
 * MAPPED-ADDRESS as a fallback for RFC 3489-era servers (§14.1), or undefined if the message is
 * malformed (same framing rules as {@link parseBindingRequest}) or carries neither. Never throws.
 * The caller is responsible for matching `transactionId` against its outstanding request.
 *
 * @example
 * const tid = crypto.getRandomValues(new Uint8Array(12));
 * const res = encodeBindingSuccess(tid, { ip: '192.0.2.1', port: 32853, family: 4 });
 * parseBindingResponse(res)?.mapped; // { ip: '192.0.2.1', port: 32853, family: 4 }
 */
export function parseBindingResponse(
  packet: Uint8Array,
): { transactionId: Uint8Array; mapped: StunAddress } | undefined {
  try {
    const message = readMessage(packet, BINDING_SUCCESS);
    if (message === undefined) return undefined;
    // Only the first occurrence of an attribute type needs processing (§14); a malformed
    // XOR-MAPPED-ADDRESS falls back to MAPPED-ADDRESS rather than failing outright.
    const first = (type: number): Attribute | undefined =>
      message.attributes.find((a) => a.type === type);
    const xored = first(ATTR_XOR_MAPPED_ADDRESS);
    const plain = first(ATTR_MAPPED_ADDRESS);
    const value = (a: Attribute): Uint8Array => packet.subarray(a.offset, a.offset + a.length);
    let mapped =
      xored === undefined ? undefined : decodeStunAddress(value(xored), transactionIdOf(packet));
    if (mapped === undefined && plain !== undefined) mapped = decodeStunAddress(value(plain));
    if (mapped === undefined) return undefined;
    return { transactionId: transactionIdOf(packet), mapped };
  } catch {
    // Parsers never throw (see the top of this file): malformed means "not for us", dropped.
    return undefined;
  }
}

/**
 * Builds a Binding success response (0x0101, RFC 8489 §6.3.1.3) carrying XOR-MAPPED-ADDRESS for
 * `mapped` (§14.2), SOFTWARE "punch" (§14.14) and FINGERPRINT last (§14.7).
 *
 * An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, which is what a dual-stack Node socket reports
 * for IPv4 peers) is sent as family IPv4: the client really is on IPv4 and would not recognise
 * its address in the mapped form (RFC 4291 §2.5.5.2). A zone suffix (`%eth0`) is dropped since
 * it is local to this host (RFC 4007 §6).
 *
 * Throws TypeError/RangeError for a transaction id that is not 12 bytes, an unparseable or
 * family-mismatched IP, or a port outside 0..65535: those are programming errors, not input.
 *
 * @example
 * const req = parseBindingRequest(datagram);
 * if (req) socket.send(encodeBindingSuccess(req.transactionId, { ip: '198.51.100.7', port: 4242, family: 4 }));
 */
export function encodeBindingSuccess(
  transactionId: Uint8Array,
  mapped: StunAddress,
): Uint8Array<ArrayBuffer> {
  checkTransactionId(transactionId);
  return encodeMessage(BINDING_SUCCESS, transactionId, [
    [ATTR_XOR_MAPPED_ADDRESS, encodeXorAddress(mapped, transactionId)],
    [ATTR_SOFTWARE, encoder.encode(SOFTWARE)],
  ]);
}

/**
 * Builds a Binding request (0x0001, RFC 8489 §6.1) with an optional USERNAME (§14.3) and a
 * FINGERPRINT (§14.7), for clients, tests and the agent. No MESSAGE-INTEGRITY: the server does
 * not authenticate Binding requests.
 *
 * Throws TypeError for a transaction id that is not 12 bytes, RangeError for a username of 509
 * UTF-8 bytes or more (§14.3 caps what senders may emit).
 *
 * @example
 * const tid = crypto.getRandomValues(new Uint8Array(12));
 * socket.send(encodeBindingRequest(tid, 'room42:alice'));
 */
export function encodeBindingRequest(
  transactionId: Uint8Array,
  username?: string,
): Uint8Array<ArrayBuffer> {
  checkTransactionId(transactionId);
  const attributes: [number, Uint8Array][] = [];
  if (username !== undefined) {
    const bytes = encoder.encode(username);
    if (bytes.length > USERNAME_MAX_SEND) {
      throw new RangeError(`STUN: USERNAME is ${bytes.length} bytes; the limit is 508`);
    }
    attributes.push([ATTR_USERNAME, bytes]);
  }
  return encodeMessage(BINDING_REQUEST, transactionId, attributes);
}

/** Serialises header + attributes (zero padding, §14) and appends FINGERPRINT (§14.7). */
function encodeMessage(
  type: number,
  transactionId: Uint8Array,
  attributes: readonly (readonly [number, Uint8Array])[],
): Uint8Array<ArrayBuffer> {
  let size = HEADER_SIZE + 8; // header + FINGERPRINT
  for (const [, value] of attributes) size += 4 + Math.ceil(value.length / 4) * 4;

  const out = new Uint8Array(size); // zero-filled, so padding is already zero
  const dv = view(out);
  dv.setUint16(0, type);
  dv.setUint16(2, size - HEADER_SIZE); // already counts FINGERPRINT, as its CRC requires
  dv.setUint32(4, STUN_MAGIC_COOKIE);
  out.set(transactionId, 8);

  let offset = HEADER_SIZE;
  for (const [attrType, value] of attributes) {
    dv.setUint16(offset, attrType);
    dv.setUint16(offset + 2, value.length);
    out.set(value, offset + 4);
    offset += 4 + Math.ceil(value.length / 4) * 4;
  }
  dv.setUint16(offset, ATTR_FINGERPRINT);
  dv.setUint16(offset + 2, 4);
  dv.setUint32(offset + 4, stunFingerprint(out.subarray(0, offset)));
  return out;
}

function checkTransactionId(transactionId: Uint8Array): void {
  if (transactionId.length !== TRANSACTION_ID_SIZE) {
    throw new TypeError(`STUN: transaction id must be 12 bytes, got ${transactionId.length}`);
  }
}

function transactionIdOf(packet: Uint8Array): Uint8Array<ArrayBuffer> {
  // A copy, so callers can keep it after the socket reuses its receive buffer.
  return copyBytes(packet, 8, HEADER_SIZE);
}

/** Magic cookie ‖ transaction id: the XOR key for (XOR-)MAPPED-ADDRESS addresses (§14.2). */
function xorMask(transactionId: Uint8Array): Uint8Array {
  const mask = new Uint8Array(16);
  view(mask).setUint32(0, STUN_MAGIC_COOKIE);
  mask.set(transactionId, 4);
  return mask;
}

/**
 * Decodes a MAPPED-ADDRESS value (RFC 8489 §14.1), or with `transactionId` an XOR-MAPPED-ADDRESS
 * style value (§14.2; TURN's XOR-PEER-ADDRESS and XOR-RELAYED-ADDRESS share it, RFC 8656 §18).
 * Undefined if the family is unknown or the length does not match it. Never throws.
 *
 * @example
 * const value = encodeXorAddress({ ip: '192.0.2.1', port: 32853, family: 4 }, tid);
 * decodeStunAddress(value, tid); // { ip: '192.0.2.1', port: 32853, family: 4 }
 */
export function decodeStunAddress(
  value: Uint8Array,
  transactionId?: Uint8Array,
): StunAddress | undefined {
  if (value.length < 4) return undefined;
  if (transactionId !== undefined && transactionId.length !== TRANSACTION_ID_SIZE) return undefined;
  const familyCode = value[1];
  const size = familyCode === FAMILY_IPV4 ? 4 : familyCode === FAMILY_IPV6 ? 16 : 0;
  if (size === 0 || value.length !== 4 + size) return undefined;

  let port = view(value).getUint16(2);
  const address = copyBytes(value, 4, 4 + size); // un-XORed in place below
  if (transactionId !== undefined) {
    port ^= STUN_MAGIC_COOKIE >>> 16;
    const mask = xorMask(transactionId);
    for (let i = 0; i < size; i++) address[i] = (address[i] ?? 0) ^ (mask[i] ?? 0);
  }
  return size === 4
    ? { ip: formatIPv4(address), port, family: 4 }
    : { ip: formatIPv6(address), port, family: 6 };
}

/**
 * Encodes an XOR address value (RFC 8489 §14.2), as XOR-MAPPED-ADDRESS, XOR-PEER-ADDRESS and
 * XOR-RELAYED-ADDRESS carry it: reserved, family, port XOR the top half of the cookie, address XOR
 * cookie ‖ transaction id. XORing stops NATs that rewrite addresses in payloads. An IPv4-mapped
 * IPv6 address is sent as IPv4 and a zone suffix is dropped (see {@link encodeBindingSuccess}).
 *
 * Throws TypeError/RangeError for an unparseable or family-mismatched IP, a port outside
 * 0..65535 or a transaction id that is not 12 bytes: programming errors, not input.
 *
 * @example
 * encodeXorAddress({ ip: '192.0.2.1', port: 32853, family: 4 }, tid); // 0001a147e112a643 (RFC 5769 §2.2)
 */
export function encodeXorAddress(
  address: StunAddress,
  transactionId: Uint8Array,
): Uint8Array<ArrayBuffer> {
  checkTransactionId(transactionId);
  const { family, bytes } = addressBytes(address);
  if (!Number.isInteger(address.port) || address.port < 0 || address.port > 0xffff) {
    throw new RangeError(`STUN: port out of range: ${address.port}`);
  }
  const value = new Uint8Array(4 + bytes.length);
  const dv = view(value);
  dv.setUint8(1, family === 4 ? FAMILY_IPV4 : FAMILY_IPV6);
  dv.setUint16(2, address.port ^ (STUN_MAGIC_COOKIE >>> 16));
  const mask = xorMask(transactionId);
  for (let i = 0; i < bytes.length; i++) value[4 + i] = (bytes[i] ?? 0) ^ (mask[i] ?? 0);
  return value;
}

/**
 * The FINGERPRINT value (RFC 8489 §14.7) for a message whose bytes up to the attribute are
 * `before`, with a header length that already counts the 8-byte FINGERPRINT: CRC-32 XOR
 * 0x5354554e ("STUN"), so it never collides with a CRC of another protocol on the same port.
 *
 * @example
 * const message = encodeBindingRequest(tid); // ends with FINGERPRINT
 * stunFingerprint(message.subarray(0, message.length - 8)); // === the last four bytes, big-endian
 */
export function stunFingerprint(before: Uint8Array): number {
  return (crc32(before) ^ FINGERPRINT_XOR) >>> 0;
}

/** Wire family and bytes for `mapped`, folding IPv4-mapped IPv6 into IPv4 (see encoder). */
function addressBytes(mapped: StunAddress): { family: 4 | 6; bytes: Uint8Array } {
  if (mapped.family === 4) {
    const bytes = parseIPv4(mapped.ip);
    if (bytes === undefined) throw new TypeError(`STUN: not an IPv4 address: ${mapped.ip}`);
    return { family: 4, bytes };
  }
  if (mapped.family === 6) {
    const bytes = parseIPv6(mapped.ip);
    if (bytes === undefined) throw new TypeError(`STUN: not an IPv6 address: ${mapped.ip}`);
    const v4mapped =
      bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
    if (v4mapped) return { family: 4, bytes: bytes.slice(12) };
    return { family: 6, bytes };
  }
  throw new TypeError(`STUN: unknown address family: ${String(mapped.family)}`);
}
