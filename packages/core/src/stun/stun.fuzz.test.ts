/**
 * Property tests of the STUN Binding codec (docs/fuzzing.md): the parsers never throw on any
 * bytes, and what the encoders write reads back as what was encoded.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { stunAddress } from '../test/arbitraries.js';
import { fuzzFile, mutateBytes } from '../test/fuzz.js';
import {
  decodeStunAddress,
  encodeBindingRequest,
  encodeBindingSuccess,
  encodeXorAddress,
  isStunPacket,
  parseBindingRequest,
  parseBindingResponse,
} from './stun.js';

const fuzzIt = fuzzFile('stun');

const tid = (): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: 12, maxLength: 12 });

const username = (): fc.Arbitrary<string> =>
  fc
    .string({ unit: 'binary', maxLength: 100 })
    .filter((s) => new TextEncoder().encode(s).length <= 508);

const validPackets = (): fc.Arbitrary<Uint8Array> =>
  fc.oneof(
    fc
      .tuple(tid(), fc.option(username(), { nil: undefined }))
      .map(([t, u]) => encodeBindingRequest(t, u)),
    fc.tuple(tid(), stunAddress()).map(([t, a]) => encodeBindingSuccess(t, a)),
  );

/** Any bytes: random, random behind a STUN-looking header, or a valid packet mutated. */
const packets = (): fc.Arbitrary<Uint8Array> =>
  fc.oneof(
    fc.uint8Array({ maxLength: 1200 }),
    fc
      .tuple(fc.constantFrom(0x0001, 0x0101), fc.uint8Array({ maxLength: 200 }))
      .map(([type, rest]) => {
        const out = new Uint8Array(20 + rest.length);
        const dv = new DataView(out.buffer);
        dv.setUint16(0, type);
        dv.setUint16(2, rest.length & ~3);
        dv.setUint32(4, 0x2112a442);
        out.set(rest, 20);
        return out;
      }),
    mutateBytes(validPackets()),
  );

fuzzIt(
  'the Binding parsers never throw, and what they accept is well-formed',
  20_000,
  fc.property(packets(), (bytes) => {
    const looks = isStunPacket(bytes);
    const req = parseBindingRequest(bytes);
    const res = parseBindingResponse(bytes);
    if (req !== undefined) {
      expect(looks).toBe(true);
      expect(req.transactionId).toEqual(bytes.subarray(8, 20));
    }
    if (res !== undefined) {
      expect(looks).toBe(true);
      expect(res.transactionId).toEqual(bytes.subarray(8, 20));
      expect(res.mapped.port).toBeGreaterThanOrEqual(0);
      expect(res.mapped.port).toBeLessThanOrEqual(0xffff);
    }
    // A message is a request or a response, never both.
    expect(req !== undefined && res !== undefined).toBe(false);
  }),
);

fuzzIt(
  'encodeBindingRequest then parseBindingRequest is the identity',
  5_000,
  fc.property(tid(), fc.option(username(), { nil: undefined }), (t, u) => {
    const parsed = parseBindingRequest(encodeBindingRequest(t, u));
    expect(parsed).toEqual(
      u === undefined ? { transactionId: t } : { transactionId: t, username: u },
    );
  }),
);

fuzzIt(
  'encodeBindingSuccess then parseBindingResponse is the identity',
  5_000,
  fc.property(tid(), stunAddress(), (t, a) => {
    expect(parseBindingResponse(encodeBindingSuccess(t, a))).toEqual({
      transactionId: t,
      mapped: a,
    });
  }),
);

fuzzIt(
  'decodeStunAddress reads back encodeXorAddress, and never throws on any value',
  5_000,
  fc.property(tid(), stunAddress(), fc.uint8Array({ maxLength: 24 }), (t, a, junk) => {
    expect(decodeStunAddress(encodeXorAddress(a, t), t)).toEqual(a);
    const d = decodeStunAddress(junk, t);
    if (d !== undefined) expect(junk.length).toBe(d.family === 4 ? 8 : 20);
  }),
);
