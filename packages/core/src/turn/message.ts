/**
 * STUN messages as TURN uses them (RFC 8489 §5-6, §14; RFC 8656): header with class, method and
 * transaction id, then attributes as type-length-value, each padded to 4 bytes.
 *
 * `parseMessage` takes exactly one message's bytes (one UDP datagram, or one frame from
 * stream-framer.ts over TCP) and never throws: hostile bytes give a typed failure. Size is bounded
 * by the 16-bit length field (at most {@link STUN_MAX_MESSAGE_SIZE}); a caller that wants less
 * (a UDP server might take its MTU-sized receive buffer as the cap) passes `maxSize`.
 *
 * Web standards only: no Buffer, no `node:*`.
 */

import { copyBytes } from '../encoding.js';
import { STUN_MAGIC_COOKIE, stunFingerprint } from '../stun/stun.js';
import {
  STUN_ATTRIBUTE,
  decodeAttribute,
  encodeAttribute,
  type TurnAttribute,
} from './attributes.js';

/** The message's class, from the two C bits of its type (RFC 8489 §5). */
export type StunClass = 'request' | 'indication' | 'success' | 'error';

/** Method numbers (RFC 8489 §18.2, RFC 8656 §17). */
export const STUN_METHOD = {
  binding: 0x001,
  allocate: 0x003,
  refresh: 0x004,
  send: 0x006,
  data: 0x007,
  createPermission: 0x008,
  channelBind: 0x009,
} as const;

/** Largest message the 16-bit length field can frame: 20-byte header + 65532 (a multiple of 4). */
export const STUN_MAX_MESSAGE_SIZE = 20 + 0xfffc;

/** What identifies a message: enough to answer it. */
export interface StunHeader {
  /** 12-bit method; {@link STUN_METHOD} names the ones TURN uses. Unknown methods parse too. */
  readonly method: number;
  readonly class: StunClass;
  /** 12 bytes (a copy, never a view into the parsed bytes). */
  readonly transactionId: Uint8Array;
}

/** A message to encode, or the understood part of a parsed one. */
export interface StunMessage extends StunHeader {
  /** In wire order; repeats kept (only the first usually counts, RFC 8489 §14). */
  readonly attributes: readonly TurnAttribute[];
}

/** What MESSAGE-INTEGRITY covers, kept so integrity.ts can check it later (RFC 8489 §14.5). */
export interface IntegrityInput {
  /** The message up to MESSAGE-INTEGRITY, its header length adjusted to end after it. */
  readonly signed: Uint8Array<ArrayBuffer>;
  /** The 20-byte HMAC-SHA1 the sender put in the attribute. */
  readonly mac: Uint8Array;
}

export interface ParsedStunMessage extends StunMessage {
  /**
   * Comprehension-required types (0x0000-0x7FFF) this codec does not understand, without
   * repeats. A server answers a request that has any with 420 and UNKNOWN-ATTRIBUTES (RFC 8489
   * §6.3.1.1); unknown comprehension-optional types are skipped silently.
   */
  readonly unknownRequired: readonly number[];
  /** Present when the message carries MESSAGE-INTEGRITY; verify with `verifyIntegrity`. */
  readonly integrity: IntegrityInput | undefined;
  /** True when a FINGERPRINT was present (and correct: a wrong one fails the parse). */
  readonly fingerprint: boolean;
}

/** Why bytes are not a usable message. All but `malformed-attribute` are dropped silently. */
export type StunParseFailure =
  | {
      readonly ok: false;
      /**
       * `truncated`: shorter than its header or its length. `not-stun`: top bits or magic
       * cookie wrong (RFC 8489 §6.3). `bad-length`: length not a multiple of 4, or bytes beyond
       * it. `too-large`: over `maxSize`. `bad-attribute-length`: an attribute runs past the end.
       * `bad-fingerprint`: FINGERPRINT wrong, misshapen or not last (§14.7).
       */
      readonly reason:
        | 'truncated'
        | 'not-stun'
        | 'bad-length'
        | 'too-large'
        | 'bad-attribute-length'
        | 'bad-fingerprint';
    }
  | {
      readonly ok: false;
      /** A known attribute whose value does not fit it: a request gets 400 (RFC 8489 §6.3.1). */
      readonly reason: 'malformed-attribute';
      /** Its type code. */
      readonly attribute: number;
      /** So the server can answer. */
      readonly header: StunHeader;
    };

export type StunParseResult =
  { readonly ok: true; readonly message: ParsedStunMessage } | StunParseFailure;

const HEADER_SIZE = 20;
const TRANSACTION_ID_SIZE = 12;
const INTEGRITY_SIZE = 20;
const MI = STUN_ATTRIBUTE['MESSAGE-INTEGRITY'];
const FINGERPRINT = STUN_ATTRIBUTE.FINGERPRINT;

const CLASS_BITS: Record<StunClass, number> = {
  request: 0x000,
  indication: 0x010,
  success: 0x100,
  error: 0x110,
};

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const padded = (length: number): number => (length + 3) & ~3;

/** Threads the two class bits C1 (bit 8) and C0 (bit 4) between the method bits (§5). */
function messageType(method: number, cls: StunClass): number {
  return (method & 0x000f) | ((method & 0x0070) << 1) | ((method & 0x0f80) << 2) | CLASS_BITS[cls];
}

function splitType(type: number): { method: number; class: StunClass } {
  const method = (type & 0x000f) | ((type & 0x00e0) >> 1) | ((type & 0x3e00) >> 2);
  const bits = type & 0x0110;
  const cls: StunClass =
    bits === 0x000
      ? 'request'
      : bits === 0x010
        ? 'indication'
        : bits === 0x100
          ? 'success'
          : 'error';
  return { method, class: cls };
}

/**
 * Parses one STUN/TURN message. Checks, in order (RFC 8489 §6.3): the header (top two bits zero,
 * magic cookie, length a multiple of 4 accounting for exactly the rest of `bytes`), every
 * attribute's length against the end, FINGERPRINT (last, 4 bytes, CRC correct), and each known
 * attribute's value. Attributes after MESSAGE-INTEGRITY other than FINGERPRINT are ignored
 * (§14.5). Unknown comprehension-required types are listed in `unknownRequired`. Never throws.
 *
 * @example
 * const parsed = parseMessage(datagram);
 * if (!parsed.ok) return; // junk: drop it (or answer 400 for 'malformed-attribute')
 * if (parsed.message.unknownRequired.length > 0) { ... } // answer 420
 */
export function parseMessage(
  bytes: Uint8Array,
  options: { maxSize?: number } = {},
): StunParseResult {
  const maxSize = Math.min(options.maxSize ?? STUN_MAX_MESSAGE_SIZE, STUN_MAX_MESSAGE_SIZE);
  if (bytes.length < HEADER_SIZE) return { ok: false, reason: 'truncated' };
  if (bytes.length > maxSize) return { ok: false, reason: 'too-large' };
  const dv = view(bytes);
  if ((dv.getUint8(0) & 0xc0) !== 0 || dv.getUint32(4) !== STUN_MAGIC_COOKIE) {
    return { ok: false, reason: 'not-stun' };
  }
  const length = dv.getUint16(2);
  if (length % 4 !== 0 || HEADER_SIZE + length < bytes.length) {
    return { ok: false, reason: 'bad-length' };
  }
  if (HEADER_SIZE + length > bytes.length) return { ok: false, reason: 'truncated' };

  const header: StunHeader = {
    ...splitType(dv.getUint16(0)),
    transactionId: copyBytes(bytes, 8, HEADER_SIZE),
  };
  const attributes: TurnAttribute[] = [];
  const unknownRequired: number[] = [];
  const seenUnknown = new Set<number>();
  let integrity: IntegrityInput | undefined;
  let fingerprint = false;

  for (let offset = HEADER_SIZE; offset < bytes.length;) {
    if (offset + 4 > bytes.length) return { ok: false, reason: 'bad-attribute-length' };
    const type = dv.getUint16(offset);
    const valueLength = dv.getUint16(offset + 2);
    const start = offset + 4;
    const next = start + padded(valueLength); // the padding must fit too (§14)
    if (next > bytes.length) return { ok: false, reason: 'bad-attribute-length' };
    const value = bytes.subarray(start, start + valueLength);

    if (type === FINGERPRINT) {
      // Last, 4 bytes, over everything before it with the length already counting it (§14.7).
      if (valueLength !== 4 || next !== bytes.length)
        return { ok: false, reason: 'bad-fingerprint' };
      if (dv.getUint32(start) !== stunFingerprint(bytes.subarray(0, offset))) {
        return { ok: false, reason: 'bad-fingerprint' };
      }
      fingerprint = true;
    } else if (integrity !== undefined) {
      // §14.5: whatever follows MESSAGE-INTEGRITY (but FINGERPRINT) is not covered by it.
    } else if (type === MI) {
      if (valueLength !== INTEGRITY_SIZE) {
        return { ok: false, reason: 'malformed-attribute', attribute: type, header };
      }
      // A copy: its length field is rewritten below, and `bytes` is still being read.
      const signed = copyBytes(bytes, 0, offset);
      view(signed).setUint16(2, offset + 4 + INTEGRITY_SIZE - HEADER_SIZE);
      integrity = { signed, mac: copyBytes(value) };
    } else {
      const decoded = decodeAttribute(type, value, header.transactionId);
      if (decoded === undefined) {
        return { ok: false, reason: 'malformed-attribute', attribute: type, header };
      }
      if (decoded !== 'unknown') attributes.push(decoded);
      else if (type < 0x8000 && !seenUnknown.has(type)) {
        // A Set, not includes(): thousands of distinct unknown types must not cost their square.
        seenUnknown.add(type);
        unknownRequired.push(type);
      }
    }
    offset = next;
  }
  return {
    ok: true,
    message: { ...header, attributes, unknownRequired, integrity, fingerprint },
  };
}

/**
 * Encodes `message` (zero padding, §14), with a FINGERPRINT last when `fingerprint` is true.
 * No MESSAGE-INTEGRITY: use `encodeSignedMessage` (integrity.ts) for that.
 *
 * Throws TypeError/RangeError for a transaction id that is not 12 bytes, a method outside
 * 0..0xFFF, an attribute the RFCs do not allow, or a message over {@link STUN_MAX_MESSAGE_SIZE}.
 *
 * @example
 * const bytes = encodeMessage({
 *   method: STUN_METHOD.data,
 *   class: 'indication',
 *   transactionId: crypto.getRandomValues(new Uint8Array(12)),
 *   attributes: [{ type: 'XOR-PEER-ADDRESS', address: peer }, { type: 'DATA', data: payload }],
 * });
 */
export function encodeMessage(
  message: StunMessage,
  options: { fingerprint?: boolean } = {},
): Uint8Array<ArrayBuffer> {
  const { method, transactionId } = message;
  if (transactionId.length !== TRANSACTION_ID_SIZE) {
    throw new TypeError(`STUN: transaction id must be 12 bytes, got ${transactionId.length}`);
  }
  if (!Number.isInteger(method) || method < 0 || method > 0xfff) {
    throw new RangeError(`STUN: method out of range: ${method}`);
  }
  const values = message.attributes.map((a) => encodeAttribute(a, transactionId));
  let size = HEADER_SIZE;
  for (const [, value] of values) {
    if (value.length > 0xffff) throw new RangeError('STUN: attribute value over 65535 bytes');
    size += 4 + padded(value.length);
  }
  if (size > STUN_MAX_MESSAGE_SIZE) throw new RangeError(`STUN: message of ${size} bytes`);

  const out = new Uint8Array(size); // zero-filled, so the padding is already zero
  const dv = view(out);
  dv.setUint16(0, messageType(method, message.class));
  dv.setUint16(2, size - HEADER_SIZE);
  dv.setUint32(4, STUN_MAGIC_COOKIE);
  out.set(transactionId, 8);
  let offset = HEADER_SIZE;
  for (const [type, value] of values) {
    dv.setUint16(offset, type);
    dv.setUint16(offset + 2, value.length);
    out.set(value, offset + 4);
    offset += 4 + padded(value.length);
  }
  return options.fingerprint === true ? appendFingerprint(out) : out;
}

/**
 * Appends a FINGERPRINT to an encoded message (RFC 8489 §14.7): a copy 8 bytes longer whose
 * header length counts the attribute, as its CRC requires. Throws RangeError if `encoded` is not
 * a message this codec could have encoded (shorter than a header, or already at the size limit).
 *
 * @example
 * const withFingerprint = appendFingerprint(encodeMessage(message));
 */
export function appendFingerprint(encoded: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = growMessage(encoded, 8);
  const dv = view(out);
  const at = encoded.length;
  dv.setUint16(at, FINGERPRINT);
  dv.setUint16(at + 2, 4);
  dv.setUint32(at + 4, stunFingerprint(out.subarray(0, at)));
  return out;
}

/**
 * A copy of `encoded` with `extra` zero bytes at the end and its header length counting them:
 * the first step of appending MESSAGE-INTEGRITY or FINGERPRINT, whose values cover the message
 * with that length already in place (RFC 8489 §14.5, §14.7).
 *
 * @example
 * const room = growMessage(encodeMessage(message), 24); // then write MESSAGE-INTEGRITY at the old end
 */
export function growMessage(encoded: Uint8Array, extra: number): Uint8Array<ArrayBuffer> {
  const size = encoded.length + extra;
  if (encoded.length < HEADER_SIZE || size > STUN_MAX_MESSAGE_SIZE) {
    throw new RangeError(`STUN: cannot grow a ${encoded.length}-byte message by ${extra}`);
  }
  const out = new Uint8Array(size);
  out.set(encoded);
  view(out).setUint16(2, size - HEADER_SIZE);
  return out;
}
