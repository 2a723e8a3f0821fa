/**
 * One codec per TURN attribute, between its value bytes and its member of the `TurnAttribute`
 * union (attributes.ts). Internal to the TURN codec: use `decodeAttribute` and `encodeAttribute`.
 *
 * Decoders never throw: a value that does not fit its attribute is `undefined` ("malformed"),
 * which a server answers with 400 (RFC 8489 §6.3.1). Encoders throw TypeError/RangeError for
 * values the RFCs do not allow: those are programming errors, not input.
 */

import { decodeStunAddress, encodeXorAddress, type StunAddress } from '../stun/stun.js';
import type { TurnAttributeType, TurnAttributeValues } from './attributes.js';
import { isChannelNumber } from './channel-data.js';

export interface Codec<V> {
  decode(value: Uint8Array, transactionId: Uint8Array): V | undefined;
  encode(attribute: V, transactionId: Uint8Array): Uint8Array;
}

/**
 * Text attributes must be under 128 characters, which "can be as long as 763 bytes when
 * decoding" (RFC 8489 §14.3, §14.8, §14.9, §14.10, §14.14); USERNAME senders stay under 509 bytes.
 */
const TEXT_MAX_PARSE = 763;
const USERNAME_MAX_SEND = 508;
const TEXT_MAX_CHARS = 127;

const encoder = new TextEncoder();
// Fatal: invalid UTF-8 makes the attribute malformed, never U+FFFD. ignoreBOM: the username goes
// back into the long-term key byte for byte (RFC 8489 §9.2.2), so nothing may be stripped.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function decodeText(value: Uint8Array): string | undefined {
  if (value.length > TEXT_MAX_PARSE) return undefined;
  try {
    return decoder.decode(value);
  } catch {
    // Invalid UTF-8: the attribute is malformed, which the caller reports as such.
    return undefined;
  }
}

/**
 * Sender limits: USERNAME under 509 bytes (§14.3), the other texts under 128 characters (which
 * keeps them under 509 bytes too).
 */
function encodeText(name: string): (a: { value: string }) => Uint8Array {
  return ({ value }) => {
    const bytes = encoder.encode(value);
    // The RFC's characters are code points, which is what a string's iterator yields.
    const tooLong =
      name === 'USERNAME'
        ? bytes.length > USERNAME_MAX_SEND
        : Array.from(value).length > TEXT_MAX_CHARS;
    if (tooLong) throw new RangeError(`TURN: ${name} is too long (${bytes.length} bytes)`);
    return bytes;
  };
}

const text = (name: string): Codec<{ value: string }> => ({
  decode: (value) => {
    const decoded = decodeText(value);
    return decoded === undefined ? undefined : { value: decoded };
  },
  encode: encodeText(name),
});

const xorAddress: Codec<{ address: StunAddress }> = {
  decode: (value, tid) => {
    const address = decodeStunAddress(value, tid);
    return address === undefined ? undefined : { address };
  },
  encode: ({ address }, tid) => encodeXorAddress(address, tid),
};

/** A value of exactly `size` bytes whose first byte (or first two) carries the meaning. */
function fixed(value: Uint8Array, size: number): DataView | undefined {
  return value.length === size ? view(value) : undefined;
}

function uint(value: number, max: number, name: string): number {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`TURN: ${name} out of range: ${value}`);
  }
  return value;
}

/** Four bytes: the value in the first `width` bytes, the rest "reserved for future use" (zero). */
function word(value: number, width: 1 | 2): Uint8Array {
  const out = new Uint8Array(4);
  if (width === 1) out[0] = value;
  else view(out).setUint16(0, value);
  return out;
}

export const ATTRIBUTE_CODECS: { [K in TurnAttributeType]: Codec<TurnAttributeValues[K]> } = {
  USERNAME: text('USERNAME'),
  REALM: text('REALM'),
  NONCE: text('NONCE'),
  SOFTWARE: text('SOFTWARE'),
  'ERROR-CODE': {
    // Reserved (21 bits), class (3 bits, 3..6), number (8 bits, 0..99), reason (§14.8).
    decode: (value) => {
      if (value.length < 4) return undefined;
      const cls = (value[2] ?? 0) & 0x07;
      const number = value[3] ?? 0;
      if (cls < 3 || cls > 6 || number > 99) return undefined;
      const reason = decodeText(value.subarray(4));
      return reason === undefined ? undefined : { code: cls * 100 + number, reason };
    },
    encode: ({ code, reason }) => {
      uint(code, 699, 'ERROR-CODE');
      if (code < 300) throw new RangeError(`TURN: ERROR-CODE out of range: ${code}`);
      const phrase = encodeText('ERROR-CODE reason')({ value: reason });
      const out = new Uint8Array(4 + phrase.length);
      out[2] = Math.floor(code / 100);
      out[3] = code % 100;
      out.set(phrase, 4);
      return out;
    },
  },
  'UNKNOWN-ATTRIBUTES': {
    decode: (value) => {
      if (value.length % 2 !== 0) return undefined;
      const dv = view(value);
      const types: number[] = [];
      for (let i = 0; i < value.length; i += 2) types.push(dv.getUint16(i));
      return { types };
    },
    encode: ({ types }) => {
      const out = new Uint8Array(types.length * 2);
      const dv = view(out);
      types.forEach((t, i) => {
        dv.setUint16(2 * i, uint(t, 0xffff, 'attribute type'));
      });
      return out;
    },
  },
  'XOR-MAPPED-ADDRESS': xorAddress,
  'XOR-PEER-ADDRESS': xorAddress,
  'XOR-RELAYED-ADDRESS': xorAddress,
  LIFETIME: {
    decode: (value) => {
      const dv = fixed(value, 4);
      return dv === undefined ? undefined : { seconds: dv.getUint32(0) };
    },
    encode: ({ seconds }) => {
      const out = new Uint8Array(4);
      view(out).setUint32(0, uint(seconds, 0xffffffff, 'LIFETIME'));
      return out;
    },
  },
  DATA: {
    decode: (value) => ({ data: value }),
    encode: ({ data }) => data,
  },
  'REQUESTED-TRANSPORT': {
    decode: (value) => {
      const dv = fixed(value, 4);
      return dv === undefined ? undefined : { protocol: dv.getUint8(0) };
    },
    encode: ({ protocol }) => word(uint(protocol, 0xff, 'REQUESTED-TRANSPORT'), 1),
  },
  'DONT-FRAGMENT': {
    decode: (value) => (value.length === 0 ? {} : undefined),
    encode: () => new Uint8Array(0),
  },
  'EVEN-PORT': {
    decode: (value) => {
      const dv = fixed(value, 1);
      return dv === undefined ? undefined : { reserveNext: (dv.getUint8(0) & 0x80) !== 0 };
    },
    encode: ({ reserveNext }) => Uint8Array.of(reserveNext ? 0x80 : 0),
  },
  'RESERVATION-TOKEN': {
    decode: (value) => (value.length === 8 ? { token: value } : undefined),
    encode: ({ token }) => {
      if (token.length !== 8) throw new RangeError('TURN: RESERVATION-TOKEN must be 8 bytes');
      return token;
    },
  },
  'CHANNEL-NUMBER': {
    decode: (value) => {
      const channel = fixed(value, 4)?.getUint16(0);
      return channel === undefined || !isChannelNumber(channel) ? undefined : { channel };
    },
    encode: ({ channel }) => {
      if (!isChannelNumber(channel)) {
        throw new RangeError(`TURN: channel number out of range: ${channel}`);
      }
      return word(channel, 2);
    },
  },
  'REQUESTED-ADDRESS-FAMILY': {
    decode: (value) => {
      const code = fixed(value, 4)?.getUint8(0);
      if (code === undefined) return undefined;
      return { family: code === 0x01 ? 4 : code === 0x02 ? 6 : 'unsupported' };
    },
    // 'unsupported' goes out as 0x00, no family at all, and reads back as 'unsupported'.
    encode: ({ family }) => word(family === 4 ? 0x01 : family === 6 ? 0x02 : 0x00, 1),
  },
};
