import { describe, expect, it } from 'vitest';
import { hex, utf8 } from '../encoding.js';
import type { TurnAttribute } from './attributes.js';
import {
  STUN_MAX_MESSAGE_SIZE,
  STUN_METHOD,
  appendFingerprint,
  encodeMessage,
  parseMessage,
  type StunClass,
  type StunMessage,
} from './message.js';
import {
  RFC5769_IPV4_RESPONSE,
  RFC5769_IPV6_RESPONSE,
  RFC5769_REQUEST,
  RFC5769_TID,
  build,
  fromHex,
} from '../stun/test/vectors.js';

const TID = fromHex(RFC5769_TID);
const V4 = { ip: '192.0.2.1', port: 32853, family: 4 } as const;
const V6 = { ip: '2001:db8:1234:5678:11:2233:4455:6677', port: 32853, family: 6 } as const;

function message(method: number, cls: StunClass, attributes: TurnAttribute[]): StunMessage {
  return { method, class: cls, transactionId: TID, attributes };
}

function parsed(bytes: Uint8Array) {
  const result = parseMessage(bytes);
  if (!result.ok) throw new Error(`expected a message, got ${result.reason}`);
  return result.message;
}

// Golden TURN packets, written out by hand from RFC 8489 §5/§14 and RFC 8656 §18. The XOR
// address values are RFC 5769's own (same transaction id), so they are checked against the RFC.
const GOLDEN: [string, StunMessage, string][] = [
  [
    'Allocate request',
    message(STUN_METHOD.allocate, 'request', [
      { type: 'REQUESTED-TRANSPORT', protocol: 17 },
      { type: 'DONT-FRAGMENT' },
      { type: 'EVEN-PORT', reserveNext: true },
      { type: 'LIFETIME', seconds: 3600 },
      { type: 'REQUESTED-ADDRESS-FAMILY', family: 6 },
    ]),
    `00030024 2112a442 ${RFC5769_TID}
     00190004 11000000  001a0000  00180001 80000000  000d0004 00000e10  00170004 02000000`,
  ],
  [
    'Allocate success',
    message(STUN_METHOD.allocate, 'success', [
      { type: 'XOR-RELAYED-ADDRESS', address: V4 },
      { type: 'XOR-MAPPED-ADDRESS', address: V6 },
      { type: 'LIFETIME', seconds: 600 },
      { type: 'RESERVATION-TOKEN', token: fromHex('0102030405060708') },
    ]),
    `01030038 2112a442 ${RFC5769_TID}
     00160008 0001a147 e112a643
     00200014 0002a147 0113a9fa a5d3f179 bc25f4b5 bed2b9d9
     000d0004 00000258  00220008 01020304 05060708`,
  ],
  [
    'Allocate error 438 with REALM and NONCE',
    message(STUN_METHOD.allocate, 'error', [
      { type: 'ERROR-CODE', code: 438, reason: 'Stale Nonce' },
      { type: 'REALM', value: 'punch' },
      { type: 'NONCE', value: '1.x' },
    ]),
    `01130028 2112a442 ${RFC5769_TID}
     0009000f 00000426 5374616c 65204e6f 6e636500
     00140005 70756e63 68000000  00150003 312e7800`,
  ],
  [
    'Binding error 420 with UNKNOWN-ATTRIBUTES',
    message(STUN_METHOD.binding, 'error', [
      { type: 'ERROR-CODE', code: 420, reason: '' },
      { type: 'UNKNOWN-ATTRIBUTES', types: [0x0024] },
    ]),
    `01110010 2112a442 ${RFC5769_TID}  00090004 00000414  000a0002 00240000`,
  ],
  [
    'Refresh request with LIFETIME 0 (delete)',
    message(STUN_METHOD.refresh, 'request', [{ type: 'LIFETIME', seconds: 0 }]),
    `00040008 2112a442 ${RFC5769_TID}  000d0004 00000000`,
  ],
  [
    'CreatePermission request with two peers',
    message(STUN_METHOD.createPermission, 'request', [
      { type: 'XOR-PEER-ADDRESS', address: V4 },
      { type: 'XOR-PEER-ADDRESS', address: V6 },
      { type: 'USERNAME', value: '1767225600:alice' },
    ]),
    `00080038 2112a442 ${RFC5769_TID}
     00120008 0001a147 e112a643
     00120014 0002a147 0113a9fa a5d3f179 bc25f4b5 bed2b9d9
     00060010 31373637 32323536 30303a61 6c696365`,
  ],
  [
    'ChannelBind success',
    message(STUN_METHOD.channelBind, 'success', [{ type: 'SOFTWARE', value: 'punch' }]),
    `0109000c 2112a442 ${RFC5769_TID}  80220005 70756e63 68000000`,
  ],
  [
    'ChannelBind request',
    message(STUN_METHOD.channelBind, 'request', [
      { type: 'CHANNEL-NUMBER', channel: 0x4000 },
      { type: 'XOR-PEER-ADDRESS', address: V4 },
    ]),
    `00090014 2112a442 ${RFC5769_TID}  000c0004 40000000  00120008 0001a147 e112a643`,
  ],
  [
    'Send indication',
    message(STUN_METHOD.send, 'indication', [
      { type: 'XOR-PEER-ADDRESS', address: V4 },
      { type: 'DATA', data: utf8('hello') },
    ]),
    `00160018 2112a442 ${RFC5769_TID}  00120008 0001a147 e112a643  00130005 68656c6c 6f000000`,
  ],
  [
    'Data indication with an empty DATA',
    message(STUN_METHOD.data, 'indication', [
      { type: 'XOR-PEER-ADDRESS', address: V4 },
      { type: 'DATA', data: new Uint8Array(0) },
    ]),
    `00170010 2112a442 ${RFC5769_TID}  00120008 0001a147 e112a643  00130000`,
  ],
];

describe('golden TURN packets', () => {
  for (const [name, msg, packet] of GOLDEN) {
    it(`${name}: encodes byte for byte and parses back`, () => {
      const bytes = fromHex(packet);
      expect(hex(encodeMessage(msg))).toBe(hex(bytes));
      expect(parsed(bytes)).toEqual({
        ...msg,
        unknownRequired: [],
        integrity: undefined,
        fingerprint: false,
      });
    });
  }

  it('round-trips every golden message with a FINGERPRINT', () => {
    for (const [, msg] of GOLDEN) {
      const m = parsed(encodeMessage(msg, { fingerprint: true }));
      expect(m.fingerprint).toBe(true);
      expect(m.attributes).toEqual(msg.attributes);
    }
  });
});

describe('message type', () => {
  it('threads the class bits between the method bits (RFC 8489 §5)', () => {
    const cases: [number, StunClass, number][] = [
      [STUN_METHOD.binding, 'request', 0x0001],
      [STUN_METHOD.binding, 'success', 0x0101],
      [STUN_METHOD.allocate, 'request', 0x0003],
      [STUN_METHOD.allocate, 'success', 0x0103],
      [STUN_METHOD.allocate, 'error', 0x0113],
      [STUN_METHOD.refresh, 'request', 0x0004],
      [STUN_METHOD.send, 'indication', 0x0016],
      [STUN_METHOD.data, 'indication', 0x0017],
      [STUN_METHOD.createPermission, 'success', 0x0108],
      [STUN_METHOD.channelBind, 'error', 0x0119],
      [0xfff, 'error', 0x3fff],
      [0x080, 'request', 0x0200],
    ];
    for (const [method, cls, type] of cases) {
      const bytes = encodeMessage(message(method, cls, []));
      expect(new DataView(bytes.buffer).getUint16(0)).toBe(type);
      const m = parsed(bytes);
      expect([m.method, m.class]).toEqual([method, cls]);
    }
  });

  it('parses every method and class, known or not', () => {
    for (let method = 0; method <= 0xfff; method += 0x3b) {
      for (const cls of ['request', 'indication', 'success', 'error'] as const) {
        const m = parsed(encodeMessage(message(method, cls, [])));
        expect([m.method, m.class]).toEqual([method, cls]);
      }
    }
  });

  it('refuses to encode what the header cannot hold', () => {
    expect(() => encodeMessage({ ...message(0x1000, 'request', []) })).toThrow(RangeError);
    expect(() =>
      encodeMessage({ ...message(1, 'request', []), transactionId: TID.slice(1) }),
    ).toThrow(TypeError);
    const big = { type: 'DATA', data: new Uint8Array(0xfffc) } as const;
    expect(() => encodeMessage(message(STUN_METHOD.send, 'indication', [big]))).toThrow(RangeError);
  });
});

describe('RFC 5769 vectors through the generic parser', () => {
  it('§2.1: a Binding request with ICE attributes; PRIORITY is reported, ICE-CONTROLLED skipped', () => {
    const m = parsed(RFC5769_REQUEST);
    expect([m.method, m.class, hex(m.transactionId)]).toEqual([1, 'request', RFC5769_TID]);
    // USERNAME's padding is spaces in this vector: the parser must not care.
    expect(m.attributes).toEqual([
      { type: 'SOFTWARE', value: 'STUN test client' },
      { type: 'USERNAME', value: 'evtj:h6vY' },
    ]);
    expect(m.unknownRequired).toEqual([0x0024]);
    expect(m.integrity?.mac.length).toBe(20);
    expect(m.fingerprint).toBe(true);
  });

  it('§2.2 and §2.3: XOR-MAPPED-ADDRESS over IPv4 and IPv6', () => {
    for (const [vector, address] of [
      [RFC5769_IPV4_RESPONSE, V4],
      [RFC5769_IPV6_RESPONSE, V6],
    ] as const) {
      const m = parsed(vector);
      expect([m.method, m.class]).toEqual([1, 'success']);
      expect(m.attributes).toEqual([
        { type: 'SOFTWARE', value: 'test vector' }, // its padding byte is a space
        { type: 'XOR-MAPPED-ADDRESS', address },
      ]);
      expect(m.fingerprint).toBe(true);
    }
  });
});

describe('attribute rules', () => {
  const bare = (attrs: [number, Uint8Array][], fp = false) => build(0x0003, TID, attrs, fp);

  it('keeps repeats in order; only the first usually counts', () => {
    const m = parsed(
      bare([
        [0x000d, fromHex('00000258')],
        [0x000d, fromHex('00000e10')],
      ]),
    );
    expect(m.attributes).toEqual([
      { type: 'LIFETIME', seconds: 600 },
      { type: 'LIFETIME', seconds: 3600 },
    ]);
  });

  it('lists unknown comprehension-required types once each, and skips optional ones', () => {
    const m = parsed(
      bare([
        [0x7fff, new Uint8Array(3)],
        [0x8fff, new Uint8Array(1)],
        [0x0000, new Uint8Array(0)],
        [0x7fff, new Uint8Array(0)],
        [0x001c, new Uint8Array(32)], // MESSAGE-INTEGRITY-SHA256: not supported, so unknown
        [0x000d, fromHex('00000258')],
      ]),
    );
    expect(m.unknownRequired).toEqual([0x7fff, 0x0000, 0x001c]);
    expect(m.attributes).toEqual([{ type: 'LIFETIME', seconds: 600 }]);
  });

  it('ignores everything after MESSAGE-INTEGRITY but FINGERPRINT (RFC 8489 §14.5)', () => {
    const m = parsed(
      bare(
        [
          [0x000d, fromHex('00000258')],
          [0x0008, new Uint8Array(20)],
          [0x0016, fromHex('0001a147e112a643')], // smuggled, not covered by the MAC
          [0x7ffe, new Uint8Array(4)], // unknown but ignored, so no 420
          [0x000d, fromHex('00')], // malformed but ignored
          [0x0008, new Uint8Array(3)], // a second, misshapen MESSAGE-INTEGRITY: ignored too
        ],
        true,
      ),
    );
    expect(m.attributes).toEqual([{ type: 'LIFETIME', seconds: 600 }]);
    expect(m.unknownRequired).toEqual([]);
    expect(m.fingerprint).toBe(true);
    // The MAC input ends where MESSAGE-INTEGRITY starts; its length counts through the MAC.
    expect(m.integrity?.signed.length).toBe(28);
    expect(hex(m.integrity!.signed.subarray(2, 4))).toBe('0020');
  });

  it('accepts any padding bytes and an empty message', () => {
    const m = parsed(fromHex(`00030008 2112a442 ${RFC5769_TID} 00130001 41ffffff`));
    expect(m.attributes).toEqual([{ type: 'DATA', data: utf8('A') }]);
    expect(parsed(fromHex(`00010000 2112a442 ${RFC5769_TID}`)).attributes).toEqual([]);
  });

  it('does not alias the transaction id to the input', () => {
    const bytes = encodeMessage(message(1, 'request', []));
    const m = parsed(bytes);
    bytes[8]! ^= 0xff;
    expect(hex(m.transactionId)).toBe(RFC5769_TID);
  });

  it('appendFingerprint makes a message whose FINGERPRINT checks out', () => {
    const plain = encodeMessage(message(1, 'request', [{ type: 'SOFTWARE', value: 'x' }]));
    const withFp = appendFingerprint(plain);
    expect(withFp.length).toBe(plain.length + 8);
    expect(parsed(withFp).fingerprint).toBe(true);
    expect(() => appendFingerprint(new Uint8Array(4))).toThrow(RangeError);
  });

  it('honours maxSize, but never above what the length field can frame', () => {
    const bytes = encodeMessage(
      message(1, 'request', [{ type: 'DATA', data: new Uint8Array(100) }]),
    );
    expect(parseMessage(bytes, { maxSize: bytes.length }).ok).toBe(true);
    expect(parseMessage(bytes, { maxSize: bytes.length - 1 })).toEqual({
      ok: false,
      reason: 'too-large',
    });
    const huge = new Uint8Array(STUN_MAX_MESSAGE_SIZE + 4);
    expect(parseMessage(huge, { maxSize: 1e9 })).toEqual({ ok: false, reason: 'too-large' });
  });
});
