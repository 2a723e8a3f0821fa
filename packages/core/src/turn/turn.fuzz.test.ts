/**
 * Property tests of the TURN codecs (docs/fuzzing.md): messages, attributes, integrity,
 * ChannelData and the TCP framer. Parsers never throw on any bytes; encoders' output reads back
 * as what was encoded; a signed message with any byte changed never passes as signed.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { stunAddress } from '../test/arbitraries.js';
import { byteOps, applyByteOps, fuzzFile, mutateBytes } from '../test/fuzz.js';
import type { TurnAttribute } from './attributes.js';
import { decodeAttribute, encodeAttribute } from './attributes.js';
import { encodeChannelData, parseChannelData } from './channel-data.js';
import { classifyTurnPacket } from './demux.js';
import { encodeSignedMessage, verifyIntegrity } from './integrity.js';
import { encodeMessage, parseMessage, STUN_MAX_MESSAGE_SIZE, type StunMessage } from './message.js';
import { TurnStreamFramer } from './stream-framer.js';

const fuzzIt = fuzzFile('turn');

const tid = (): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: 12, maxLength: 12 });
const text = (): fc.Arbitrary<string> => fc.string({ unit: 'binary', maxLength: 40 });

/** Every attribute type the codec knows, with values the RFCs allow. */
const attribute = (): fc.Arbitrary<TurnAttribute> =>
  fc.oneof(
    fc.record({ type: fc.constantFrom('USERNAME', 'REALM', 'NONCE', 'SOFTWARE'), value: text() }),
    fc.record({
      type: fc.constant('ERROR-CODE'),
      code: fc.integer({ min: 300, max: 699 }),
      reason: text(),
    }),
    fc.record({
      type: fc.constant('UNKNOWN-ATTRIBUTES'),
      types: fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 6 }),
    }),
    fc.record({
      type: fc.constantFrom('XOR-MAPPED-ADDRESS', 'XOR-PEER-ADDRESS', 'XOR-RELAYED-ADDRESS'),
      address: stunAddress(),
    }),
    fc.record({ type: fc.constant('LIFETIME'), seconds: fc.integer({ min: 0, max: 0xffffffff }) }),
    fc.record({ type: fc.constant('DATA'), data: fc.uint8Array({ maxLength: 64 }) }),
    fc.record({ type: fc.constant('REQUESTED-TRANSPORT'), protocol: fc.nat(255) }),
    fc.constant({ type: 'DONT-FRAGMENT' as const }),
    fc.record({ type: fc.constant('EVEN-PORT'), reserveNext: fc.boolean() }),
    fc.record({
      type: fc.constant('RESERVATION-TOKEN'),
      token: fc.uint8Array({ minLength: 8, maxLength: 8 }),
    }),
    fc.record({
      type: fc.constant('CHANNEL-NUMBER'),
      channel: fc.integer({ min: 0x4000, max: 0x7fff }),
    }),
    fc.record({
      type: fc.constant('REQUESTED-ADDRESS-FAMILY'),
      family: fc.constantFrom(4 as const, 6 as const, 'unsupported' as const),
    }),
  );

const message = (): fc.Arbitrary<StunMessage> =>
  fc.record({
    method: fc.integer({ min: 0, max: 0xfff }),
    class: fc.constantFrom(
      'request' as const,
      'indication' as const,
      'success' as const,
      'error' as const,
    ),
    transactionId: tid(),
    attributes: fc.array(attribute(), { maxLength: 6 }),
  });

const KEY = new TextEncoder().encode('a long-term key for the fuzz run');

fuzzIt(
  'encodeMessage then parseMessage is the identity (with or without FINGERPRINT)',
  10_000,
  fc.property(message(), fc.boolean(), (m, fingerprint) => {
    const parsed = parseMessage(encodeMessage(m, { fingerprint }));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const { method, class: cls, transactionId, attributes } = parsed.message;
    expect({ method, class: cls, transactionId, attributes }).toEqual(m);
    expect(parsed.message.fingerprint).toBe(fingerprint);
    expect(parsed.message.unknownRequired).toEqual([]);
  }),
);

fuzzIt(
  'encodeAttribute then decodeAttribute is the identity',
  10_000,
  fc.property(attribute(), tid(), (a, t) => {
    const [type, value] = encodeAttribute(a, t);
    expect(decodeAttribute(type, value, t)).toEqual(a);
  }),
);

fuzzIt(
  'parseMessage never throws; what it accepts re-encodes to a message that parses the same',
  20_000,
  fc.property(
    fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      mutateBytes(
        fc.tuple(message(), fc.boolean()).map(([m, f]) => encodeMessage(m, { fingerprint: f })),
      ),
    ),
    (bytes) => {
      const kind = classifyTurnPacket(bytes);
      const parsed = parseMessage(bytes);
      if (!parsed.ok) return;
      expect(kind).toBe('stun');
      expect(bytes.length % 4).toBe(0);
      const again = parseMessage(encodeMessage(parsed.message));
      expect(again.ok).toBe(true);
      if (again.ok) expect(again.message.attributes).toEqual(parsed.message.attributes);
    },
  ),
);

fuzzIt(
  'a signed message verifies under its key only, and no edit of what it signs verifies',
  2_000,
  fc.asyncProperty(message(), fc.boolean(), byteOps(), async (m, fingerprint, ops) => {
    const signed = await encodeSignedMessage(m, KEY, { fingerprint });
    const parsed = parseMessage(signed);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(await verifyIntegrity(parsed.message, KEY)).toBe(true);
    expect(await verifyIntegrity(parsed.message, KEY.subarray(1))).toBe(false);
    const edited = applyByteOps(signed, ops);
    const p = parseMessage(edited);
    if (!p.ok || !(await verifyIntegrity(p.message, KEY))) return;
    // It still verifies: then every byte up to the end of MESSAGE-INTEGRITY is the signer's
    // (but the header length, which may count attributes after it, ignored per RFC 8489 §14.5).
    const miEnd = signed.length - (fingerprint ? 8 : 0);
    expect(edited.subarray(0, 2)).toEqual(signed.subarray(0, 2));
    expect(edited.subarray(4, miEnd)).toEqual(signed.subarray(4, miEnd));
    expect(p.message.attributes).toEqual(parsed.message.attributes);
  }),
);

fuzzIt(
  'ChannelData: encode then parse is the identity; any bytes parse or fail without throwing',
  10_000,
  fc.property(
    fc.integer({ min: 0x4000, max: 0x7fff }),
    fc.uint8Array({ maxLength: 200 }),
    fc.boolean(),
    fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      mutateBytes(fc.constant(encodeChannelData(0x4001, Uint8Array.of(1, 2, 3)))),
    ),
    (channel, data, pad, junk) => {
      const parsed = parseChannelData(encodeChannelData(channel, data, { pad }));
      expect(parsed).toEqual({ ok: true, channel, data });
      const j = parseChannelData(junk);
      if (j.ok) {
        expect(classifyTurnPacket(junk)).toBe('channel-data');
        expect(j.data.length).toBeLessThanOrEqual(junk.length - 4);
      }
    },
  ),
);

/** `bytes` cut at the given points (sorted, deduplicated) into consecutive chunks. */
function chunked(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(from, p));
    from = p;
  }
  return out;
}

const frame = (): fc.Arbitrary<Uint8Array> =>
  fc.oneof(
    message().map((m) => encodeMessage(m)),
    fc
      .tuple(fc.integer({ min: 0x4000, max: 0x7fff }), fc.uint8Array({ maxLength: 100 }))
      .map(([c, d]) => encodeChannelData(c, d, { pad: true })),
  );

fuzzIt(
  'the TCP framer gives back the frames of a stream, however it is cut',
  5_000,
  fc.property(
    fc.array(frame(), { maxLength: 6 }),
    fc.array(fc.nat(), { maxLength: 8 }),
    (frames, cuts) => {
      const stream = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
      let at = 0;
      for (const f of frames) {
        stream.set(f, at);
        at += f.length;
      }
      const framer = new TurnStreamFramer();
      const out: Uint8Array[] = [];
      for (const chunk of chunked(stream, cuts)) {
        const r = framer.push(chunk);
        expect(r.ok).toBe(true);
        out.push(...r.frames.map((f) => f.slice()));
      }
      expect(out).toEqual(frames.map((f) => f.slice()));
      expect(framer.buffered).toBe(0);
    },
  ),
);

fuzzIt(
  'the TCP framer never throws on any stream, never buffers past its cap, and frames a prefix',
  10_000,
  fc.property(
    fc.oneof(
      fc.uint8Array({ maxLength: 400 }),
      mutateBytes(
        fc.array(frame(), { maxLength: 4 }).map((fs) => Uint8Array.from(fs.flatMap((f) => [...f]))),
      ),
    ),
    fc.array(fc.nat(), { maxLength: 8 }),
    fc.integer({ min: 20, max: STUN_MAX_MESSAGE_SIZE }),
    (stream, cuts, max) => {
      const framer = new TurnStreamFramer({ maxFrameSize: max });
      const out: number[] = [];
      let failed = false;
      for (const chunk of chunked(stream, cuts)) {
        const r = framer.push(chunk);
        for (const f of r.frames) {
          expect(f.length).toBeLessThanOrEqual(max);
          out.push(...f);
        }
        expect(framer.buffered).toBeLessThanOrEqual(max);
        if (!r.ok) failed = true;
        // A failed stream stays failed and holds nothing.
        if (failed) expect(framer.buffered).toBe(0);
      }
      expect(out).toEqual([...stream.subarray(0, out.length)]);
    },
  ),
);
