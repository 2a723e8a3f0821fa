/**
 * Hostile input for every TURN parser: seeded random bytes, truncations at every offset, wrong
 * lengths, flipped bits, malformed and duplicated attributes, out-of-range channels, oversized
 * stream frames. Nothing may throw, and each verdict must be the right one.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { hex } from '../encoding.js';
import { findAttribute } from './attributes.js';
import { parseChannelData } from './channel-data.js';
import { longTermKey } from './credentials.js';
import { classifyTurnPacket } from './demux.js';
import { encodeSignedMessage, verifyIntegrity } from './integrity.js';
import { STUN_METHOD, encodeMessage, parseMessage, type StunParseResult } from './message.js';
import { TurnStreamFramer } from './stream-framer.js';
import {
  RFC5769_IPV4_RESPONSE,
  RFC5769_IPV6_RESPONSE,
  RFC5769_LONG_TERM,
  RFC5769_LONG_TERM_REQUEST,
  RFC5769_REQUEST,
  build,
  fromHex,
  mulberry32,
  randomBytes,
} from '../stun/test/vectors.js';

const TID = fromHex('000102030405060708090a0b');
const KEY = longTermKey(RFC5769_LONG_TERM.username, RFC5769_LONG_TERM.realm, 'TheMatrIX');
let VALID: Uint8Array[] = [];

beforeAll(async () => {
  const allocate = await encodeSignedMessage(
    {
      method: STUN_METHOD.allocate,
      class: 'success',
      transactionId: TID,
      attributes: [
        { type: 'XOR-RELAYED-ADDRESS', address: { ip: '2001:db8::7', port: 50000, family: 6 } },
        { type: 'XOR-MAPPED-ADDRESS', address: { ip: '198.51.100.1', port: 4000, family: 4 } },
        { type: 'LIFETIME', seconds: 600 },
      ],
    },
    KEY,
    { fingerprint: true },
  );
  const send = encodeMessage({
    method: STUN_METHOD.send,
    class: 'indication',
    transactionId: TID,
    attributes: [
      { type: 'XOR-PEER-ADDRESS', address: { ip: '203.0.113.5', port: 9, family: 4 } },
      { type: 'DATA', data: fromHex('0102030405') },
    ],
  });
  VALID = [
    RFC5769_REQUEST,
    RFC5769_IPV4_RESPONSE,
    RFC5769_IPV6_RESPONSE,
    RFC5769_LONG_TERM_REQUEST,
    allocate,
    send,
  ];
});

/** Known attribute types, and some others, to aim the structured fuzz at real code paths. */
const TYPES = [
  0x0006, 0x0008, 0x0009, 0x000a, 0x000c, 0x000d, 0x0012, 0x0013, 0x0014, 0x0015, 0x0016, 0x0017,
  0x0018, 0x0019, 0x001a, 0x0020, 0x0022, 0x8022, 0x8028, 0x0024, 0x7fff, 0x8029,
];

function check(result: StunParseResult): void {
  // Every result is one of the typed shapes, whatever went in.
  if (result.ok) {
    expect(result.message.transactionId.length).toBe(12);
  } else if (result.reason === 'malformed-attribute') {
    expect(result.header.transactionId.length).toBe(12);
  } else {
    expect(Object.keys(result).sort()).toEqual(['ok', 'reason']);
  }
}

describe('random bytes (seeded)', () => {
  it('never throw, and are almost never STUN or ChannelData', () => {
    const next = mulberry32(0x5eed);
    const framer = new TurnStreamFramer({ maxFrameSize: 512 });
    for (let i = 0; i < 3000; i++) {
      const bytes = randomBytes(next, Math.floor(next() * 300));
      const stun = parseMessage(bytes);
      check(stun);
      // The magic cookie alone makes a random STUN message a 1-in-4-billion event.
      expect(stun.ok).toBe(false);
      const cd = parseChannelData(bytes);
      if (cd.ok) {
        expect(classifyTurnPacket(bytes)).toBe('channel-data');
        expect(cd.channel >= 0x4000 && cd.channel <= 0x7fff).toBe(true);
        expect(bytes.length - 4 - cd.data.length).toBeLessThan(4);
      }
      framer.push(bytes);
      expect(framer.buffered).toBeLessThan(512);
    }
  });

  it('in a valid header, with random attributes: never throw, and what parses re-encodes', () => {
    const next = mulberry32(0xa77);
    let parsed = 0;
    for (let i = 0; i < 3000; i++) {
      const attributes: [number, Uint8Array][] = [];
      for (let n = Math.floor(next() * 6); n > 0; n--) {
        const type = TYPES[Math.floor(next() * TYPES.length)] ?? 0;
        const sizes = [0, 1, 4, 8, 20, Math.floor(next() * 40)];
        attributes.push([type, randomBytes(next, sizes[Math.floor(next() * sizes.length)] ?? 0)]);
      }
      const bytes = build(0x0003 | (next() < 0.5 ? 0x0100 : 0), TID, attributes, next() < 0.5);
      const result = parseMessage(bytes);
      check(result);
      if (!result.ok) {
        expect(['malformed-attribute', 'bad-fingerprint']).toContain(result.reason);
        continue;
      }
      parsed++;
      const again = parseMessage(encodeMessage(result.message));
      expect(again.ok && again.message.attributes).toEqual(result.message.attributes);
    }
    expect(parsed).toBeGreaterThan(300); // the fuzz reaches past the attribute checks
  });
});

describe('truncation and lengths', () => {
  it('every proper prefix of a valid message is truncated', () => {
    for (const message of VALID) {
      expect(parseMessage(message).ok).toBe(true);
      for (let cut = 0; cut < message.length; cut++) {
        expect(parseMessage(message.subarray(0, cut))).toEqual({ ok: false, reason: 'truncated' });
      }
    }
  });

  it('a prefix whose header length is patched to fit parses only at attribute boundaries', () => {
    for (const message of VALID) {
      const result = parseMessage(message);
      if (!result.ok) throw new Error(result.reason);
      for (let cut = 20; cut < message.length; cut += 4) {
        const prefix = message.slice(0, cut);
        new DataView(prefix.buffer).setUint16(2, cut - 20);
        const r = parseMessage(prefix);
        check(r);
        if (!r.ok) expect(r.reason).toBe('bad-attribute-length');
        else {
          const kept = r.message.attributes;
          expect(kept).toEqual(result.message.attributes.slice(0, kept.length));
        }
      }
    }
  });

  it('a header length that is wrong in any way fails', () => {
    for (const message of VALID) {
      const length = message.length - 20;
      for (const wrong of [length - 4, length + 4, length + 1, length - 1, length + 2, 0xffff]) {
        if (wrong < 0) continue;
        const bytes = message.slice();
        new DataView(bytes.buffer).setUint16(2, wrong);
        const r = parseMessage(bytes);
        const expected = wrong % 4 !== 0 || wrong < length ? 'bad-length' : 'truncated';
        expect(r, `${wrong}`).toEqual({ ok: false, reason: expected });
      }
    }
  });

  it('an attribute length set to hostile values never throws or reads past the end', () => {
    const values = [0, 1, 2, 3, 4, 5, 19, 20, 21, 0x7fff, 0xfffc, 0xffff];
    for (const message of VALID) {
      for (let at = 20; at < message.length;) {
        const dv = new DataView(message.buffer, message.byteOffset);
        const length = dv.getUint16(at + 2);
        for (const value of [...values, length - 1, length + 1, length + 4]) {
          if (value < 0 || value === length) continue;
          const bytes = message.slice();
          new DataView(bytes.buffer).setUint16(at + 2, value);
          check(parseMessage(bytes));
        }
        at += 4 + ((length + 3) & ~3);
      }
    }
  });

  it('a bad magic cookie or top bits is not STUN; a non-4-multiple datagram has a bad length', () => {
    const bytes = RFC5769_REQUEST.slice();
    bytes[4]! ^= 1;
    expect(parseMessage(bytes)).toEqual({ ok: false, reason: 'not-stun' });
    const rtp = RFC5769_REQUEST.slice();
    rtp[0] = 0x80;
    expect(parseMessage(rtp)).toEqual({ ok: false, reason: 'not-stun' });
    const longer = new Uint8Array(RFC5769_REQUEST.length + 2);
    longer.set(RFC5769_REQUEST);
    expect(parseMessage(longer)).toEqual({ ok: false, reason: 'bad-length' });
  });
});

describe('integrity under attack', () => {
  it('no single-bit flip of the signed RFC 5769 §2.4 request passes integrity', async () => {
    const message = RFC5769_LONG_TERM_REQUEST;
    for (let bit = 0; bit < message.length * 8; bit++) {
      const bytes = message.slice();
      bytes[bit >> 3]! ^= 1 << (bit & 7);
      const r = parseMessage(bytes);
      check(r);
      if (r.ok) expect(await verifyIntegrity(r.message, KEY), `bit ${bit}`).toBe(false);
    }
  });

  it('attributes after MESSAGE-INTEGRITY cannot change what a verified message says', async () => {
    const signed = await encodeSignedMessage(
      { method: STUN_METHOD.refresh, class: 'request', transactionId: TID, attributes: [] },
      KEY,
    );
    const smuggled = new Uint8Array(signed.length + 8);
    smuggled.set(signed);
    smuggled.set([0x00, 0x0d, 0x00, 0x04], signed.length); // LIFETIME 0: delete the allocation
    new DataView(smuggled.buffer).setUint16(2, smuggled.length - 20);
    const r = parseMessage(smuggled);
    if (!r.ok) throw new Error(r.reason);
    expect(await verifyIntegrity(r.message, KEY)).toBe(true);
    expect(findAttribute(r.message.attributes, 'LIFETIME')).toBeUndefined();
  });
});

describe('malformed and duplicated attributes', () => {
  const cases: [string, number, string][] = [
    ['LIFETIME of 3 bytes', 0x000d, '000258'],
    ['XOR-PEER-ADDRESS of family 3', 0x0012, '0003a147e112a643'],
    ['XOR-PEER-ADDRESS IPv4 of 7 bytes', 0x0012, '0001a147e112a6'],
    ['XOR-RELAYED-ADDRESS IPv6 of 8 bytes', 0x0016, '0002a147e112a643'],
    ['XOR-MAPPED-ADDRESS of 0 bytes', 0x0020, ''],
    ['ERROR-CODE class 2', 0x0009, '000002ff'],
    ['ERROR-CODE number 100', 0x0009, '00000464'],
    ['ERROR-CODE of 3 bytes', 0x0009, '000004'],
    ['ERROR-CODE reason not UTF-8', 0x0009, '00000400ff'],
    ['UNKNOWN-ATTRIBUTES of odd length', 0x000a, '002400'],
    ['REQUESTED-TRANSPORT of 1 byte', 0x0019, '11'],
    ['DONT-FRAGMENT with a value', 0x001a, '00000000'],
    ['EVEN-PORT of 4 bytes', 0x0018, '80000000'],
    ['RESERVATION-TOKEN of 4 bytes', 0x0022, '01020304'],
    ['CHANNEL-NUMBER 0x3FFF', 0x000c, '3fff0000'],
    ['CHANNEL-NUMBER 0x8000', 0x000c, '80000000'],
    ['CHANNEL-NUMBER 0xFFFF', 0x000c, 'ffff0000'],
    ['CHANNEL-NUMBER of 2 bytes', 0x000c, '4000'],
    ['REQUESTED-ADDRESS-FAMILY of 1 byte', 0x0017, '01'],
    ['USERNAME not UTF-8', 0x0006, 'c328'],
    ['USERNAME of 764 bytes', 0x0006, '61'.repeat(764)],
    ['REALM with a lone surrogate', 0x0014, 'eda080'],
    ['MESSAGE-INTEGRITY of 19 bytes', 0x0008, '00'.repeat(19)],
  ];

  it('each gives malformed-attribute with the type and the header to answer 400 with', () => {
    for (const [name, type, value] of cases) {
      const bytes = build(0x0009, TID, [[type, fromHex(value)]], true);
      const r = parseMessage(bytes);
      expect(r.ok, name).toBe(false);
      if (r.ok || r.reason !== 'malformed-attribute')
        throw new Error(`${name}: ${JSON.stringify(r)}`);
      expect(r.attribute, name).toBe(type);
      expect([r.header.method, r.header.class, hex(r.header.transactionId)]).toEqual([
        STUN_METHOD.channelBind,
        'request',
        hex(TID),
      ]);
    }
  });

  it('duplicates: all kept in order, the first found first; a bad one still fails', () => {
    const two = parseMessage(
      build(0x0003, TID, [
        [0x0006, fromHex('61')],
        [0x0006, fromHex('62')],
      ]),
    );
    expect(two.ok && findAttribute(two.message.attributes, 'USERNAME')?.value).toBe('a');
    const badSecond = parseMessage(
      build(0x0009, TID, [
        [0x000c, fromHex('40000000')],
        [0x000c, fromHex('80000000')],
      ]),
    );
    expect(badSecond).toMatchObject({
      ok: false,
      reason: 'malformed-attribute',
      attribute: 0x000c,
    });
  });

  it('two FINGERPRINTs, or one not last, fail', () => {
    const once = build(0x0001, TID, [], true);
    const twice = new Uint8Array(once.length + 8);
    twice.set(once);
    twice.set(once.subarray(20), once.length);
    new DataView(twice.buffer).setUint16(2, twice.length - 20);
    expect(parseMessage(twice)).toEqual({ ok: false, reason: 'bad-fingerprint' });
    const shortFp = build(0x0001, TID, [[0x8028, fromHex('00')]]);
    expect(parseMessage(shortFp)).toEqual({ ok: false, reason: 'bad-fingerprint' });
  });
});

describe('the TCP framer under attack', () => {
  it('valid frames then garbage: the frames before it, then a clean failure; never over the bound', () => {
    const next = mulberry32(0xf4a3);
    for (let run = 0; run < 300; run++) {
      const count = 1 + Math.floor(next() * 4);
      const frames = Array.from({ length: count }, () => VALID[Math.floor(next() * VALID.length)]!);
      const garbage = randomBytes(next, 1 + Math.floor(next() * 64));
      garbage[0] = 0x80 | garbage[0]!; // neither STUN nor ChannelData
      const stream = new Uint8Array(frames.reduce((n, f) => n + f.length, 0) + garbage.length);
      let at = 0;
      for (const f of frames) {
        stream.set(f, at);
        at += f.length;
      }
      stream.set(garbage, at);

      const framer = new TurnStreamFramer({ maxFrameSize: 200 });
      const out: Uint8Array[] = [];
      let failed = false;
      for (let pos = 0; pos < stream.length && !failed;) {
        const size = 1 + Math.floor(next() * 50);
        const result = framer.push(stream.subarray(pos, pos + size));
        pos += size;
        out.push(...result.frames);
        failed = !result.ok;
        expect(framer.buffered).toBeLessThan(200);
      }
      expect(failed).toBe(true);
      expect(out.map(hex)).toEqual(frames.map(hex));
    }
  });
});
