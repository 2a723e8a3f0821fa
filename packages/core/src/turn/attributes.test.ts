import { describe, expect, it } from 'vitest';
import { utf8 } from '../encoding.js';
import {
  STUN_ATTRIBUTE,
  decodeAttribute,
  encodeAttribute,
  findAttribute,
  findAttributes,
  type TurnAttribute,
  type TurnAttributeType,
} from './attributes.js';
import { RFC5769_TID, fromHex } from '../stun/test/vectors.js';

const TID = fromHex(RFC5769_TID);

/** One sample (or more) of every attribute the codec understands. */
const SAMPLES: TurnAttribute[] = [
  { type: 'USERNAME', value: '1767225600:alice' },
  { type: 'USERNAME', value: 'x'.repeat(508) },
  { type: 'REALM', value: 'punch' },
  { type: 'NONCE', value: '\u30de'.repeat(127) },
  { type: 'SOFTWARE', value: '' },
  { type: 'ERROR-CODE', code: 300, reason: 'Try Alternate' },
  { type: 'ERROR-CODE', code: 699, reason: '' },
  { type: 'UNKNOWN-ATTRIBUTES', types: [] },
  { type: 'UNKNOWN-ATTRIBUTES', types: [0x0000, 0x0024, 0x7fff] },
  { type: 'XOR-MAPPED-ADDRESS', address: { ip: '0.0.0.0', port: 0, family: 4 } },
  { type: 'XOR-PEER-ADDRESS', address: { ip: '255.255.255.255', port: 65535, family: 4 } },
  { type: 'XOR-RELAYED-ADDRESS', address: { ip: '2001:db8::1', port: 49152, family: 6 } },
  { type: 'XOR-PEER-ADDRESS', address: { ip: '::', port: 1, family: 6 } },
  { type: 'LIFETIME', seconds: 0 },
  { type: 'LIFETIME', seconds: 0xffffffff },
  { type: 'DATA', data: new Uint8Array(0) },
  { type: 'DATA', data: Uint8Array.from({ length: 1500 }, (_, i) => i & 0xff) },
  { type: 'REQUESTED-TRANSPORT', protocol: 17 },
  { type: 'REQUESTED-TRANSPORT', protocol: 6 },
  { type: 'DONT-FRAGMENT' },
  { type: 'EVEN-PORT', reserveNext: false },
  { type: 'EVEN-PORT', reserveNext: true },
  { type: 'RESERVATION-TOKEN', token: fromHex('ffeeddccbbaa9988') },
  { type: 'CHANNEL-NUMBER', channel: 0x4000 },
  { type: 'CHANNEL-NUMBER', channel: 0x4fff },
  { type: 'REQUESTED-ADDRESS-FAMILY', family: 4 },
  { type: 'REQUESTED-ADDRESS-FAMILY', family: 6 },
  { type: 'REQUESTED-ADDRESS-FAMILY', family: 'unsupported' },
];

describe('attribute codecs', () => {
  it('round-trip every attribute', () => {
    for (const attribute of SAMPLES) {
      const [code, value] = encodeAttribute(attribute, TID);
      expect(code).toBe(STUN_ATTRIBUTE[attribute.type]);
      expect(decodeAttribute(code, value, TID)).toEqual(attribute);
    }
  });

  it('cover every attribute type there is a name for', () => {
    const covered = new Set(SAMPLES.map((a) => a.type));
    const named = Object.keys(STUN_ATTRIBUTE).filter(
      (n) => n !== 'MESSAGE-INTEGRITY' && n !== 'FINGERPRINT',
    ) as TurnAttributeType[];
    expect([...covered].sort()).toEqual([...named].sort());
  });

  it('reads an unsupported address family as such (answered 440, not 400)', () => {
    expect(decodeAttribute(0x0017, fromHex('03000000'), TID)).toEqual({
      type: 'REQUESTED-ADDRESS-FAMILY',
      family: 'unsupported',
    });
  });

  it('ignores the reserved bits of fixed-size values', () => {
    expect(decodeAttribute(0x0019, fromHex('11ffffff'), TID)).toEqual({
      type: 'REQUESTED-TRANSPORT',
      protocol: 17,
    });
    expect(decodeAttribute(0x0018, fromHex('ff'), TID)).toEqual({
      type: 'EVEN-PORT',
      reserveNext: true,
    });
    expect(decodeAttribute(0x000c, fromHex('4001ffff'), TID)).toEqual({
      type: 'CHANNEL-NUMBER',
      channel: 0x4001,
    });
    expect(decodeAttribute(0x0009, fromHex('ffffff0741'), TID)).toBeUndefined();
    expect(decodeAttribute(0x0009, fromHex('fffffc0041'), TID)).toEqual({
      type: 'ERROR-CODE',
      code: 400,
      reason: 'A',
    });
  });

  it("is 'unknown' for types it does not understand", () => {
    for (const code of [0x0000, 0x0001, 0x0024, 0x001c, 0x7fff, 0x8029, 0xffff]) {
      expect(decodeAttribute(code, new Uint8Array(4), TID)).toBe('unknown');
    }
  });

  it('refuses to encode what the RFCs do not allow', () => {
    const bad: TurnAttribute[] = [
      { type: 'USERNAME', value: 'x'.repeat(509) },
      { type: 'REALM', value: 'x'.repeat(128) },
      { type: 'NONCE', value: '\u30de'.repeat(128) },
      { type: 'ERROR-CODE', code: 299, reason: '' },
      { type: 'ERROR-CODE', code: 700, reason: '' },
      { type: 'ERROR-CODE', code: 400.5, reason: '' },
      { type: 'UNKNOWN-ATTRIBUTES', types: [0x10000] },
      { type: 'LIFETIME', seconds: -1 },
      { type: 'LIFETIME', seconds: 2 ** 32 },
      { type: 'REQUESTED-TRANSPORT', protocol: 256 },
      { type: 'RESERVATION-TOKEN', token: new Uint8Array(7) },
      { type: 'CHANNEL-NUMBER', channel: 0x3fff },
      { type: 'CHANNEL-NUMBER', channel: 0x8000 },
      { type: 'XOR-PEER-ADDRESS', address: { ip: 'peer.example', port: 1, family: 4 } },
      { type: 'XOR-PEER-ADDRESS', address: { ip: '192.0.2.1', port: 65536, family: 4 } },
    ];
    for (const attribute of bad) {
      expect(() => encodeAttribute(attribute, TID), JSON.stringify(attribute)).toThrow();
    }
  });
});

describe('findAttribute / findAttributes', () => {
  const attributes: TurnAttribute[] = [
    { type: 'XOR-PEER-ADDRESS', address: { ip: '192.0.2.1', port: 1, family: 4 } },
    { type: 'DATA', data: utf8('x') },
    { type: 'XOR-PEER-ADDRESS', address: { ip: '192.0.2.2', port: 2, family: 4 } },
  ];

  it('finds the first, or all in order, narrowed to their type', () => {
    expect(findAttribute(attributes, 'XOR-PEER-ADDRESS')?.address.ip).toBe('192.0.2.1');
    expect(findAttributes(attributes, 'XOR-PEER-ADDRESS').map((a) => a.address.port)).toEqual([
      1, 2,
    ]);
    expect(findAttribute(attributes, 'LIFETIME')).toBeUndefined();
    expect(findAttributes(attributes, 'LIFETIME')).toEqual([]);
  });
});
