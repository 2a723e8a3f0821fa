import { describe, expect, it } from 'vitest';
import { hex, utf8 } from '../encoding.js';
import { encodeChannelData, isChannelNumber, parseChannelData } from './channel-data.js';
import { fromHex } from '../stun/test/vectors.js';

describe('isChannelNumber', () => {
  it("allows RFC 5766's 0x4000..0x7FFF (RFC 8656 narrowed it; older clients use it all)", () => {
    for (const n of [0x4000, 0x4001, 0x4abc, 0x4fff, 0x5000, 0x7fff])
      expect(isChannelNumber(n)).toBe(true);
    for (const n of [0, 0x3fff, 0x8000, 0xffff, 16384.5, NaN, -0x4000]) {
      expect(isChannelNumber(n)).toBe(false);
    }
  });
});

describe('ChannelData', () => {
  it('encodes golden packets, unpadded for UDP and padded for TCP', () => {
    expect(hex(encodeChannelData(0x4001, utf8('hello')))).toBe('4001000568656c6c6f');
    expect(hex(encodeChannelData(0x4001, utf8('hello'), { pad: true }))).toBe(
      '4001000568656c6c6f000000',
    );
    expect(hex(encodeChannelData(0x4fff, new Uint8Array(0), { pad: true }))).toBe('4fff0000');
    expect(hex(encodeChannelData(0x4000, utf8('abcd'), { pad: true }))).toBe('4000000461626364');
  });

  it('parses padded and unpadded forms to the same payload, as a view', () => {
    for (const packet of [
      '4001000568656c6c6f',
      '4001000568656c6c6f000000',
      '4001000568656c6c6fffffff',
    ]) {
      const bytes = fromHex(packet);
      const result = parseChannelData(bytes);
      expect(result).toEqual({ ok: true, channel: 0x4001, data: utf8('hello') });
      if (result.ok) expect(result.data.buffer).toBe(bytes.buffer);
    }
  });

  it('round-trips every payload length around the padding boundary', () => {
    for (let length = 0; length < 9; length++) {
      const data = Uint8Array.from({ length }, (_, i) => i + 1);
      for (const pad of [false, true]) {
        expect(parseChannelData(encodeChannelData(0x4abc, data, { pad }))).toEqual({
          ok: true,
          channel: 0x4abc,
          data,
        });
      }
    }
    const max = new Uint8Array(0xffff);
    expect(parseChannelData(encodeChannelData(0x4000, max, { pad: true })).ok).toBe(true);
  });

  it('gives a typed failure for every malformation', () => {
    const cases: [string, string][] = [
      ['', 'truncated'],
      ['400100', 'truncated'],
      ['4001000568656c6c', 'truncated'], // length past the end
      ['4001ffff', 'truncated'],
      ['4001000568656c6c6f00000000', 'bad-length'], // more than the padding
      ['40010000 00000000', 'bad-length'],
      ['00010000', 'not-channel-data'], // a STUN header
      ['80000000', 'not-channel-data'], // RTP
      ['3fff0000', 'not-channel-data'],
    ];
    for (const [packet, reason] of cases) {
      expect(parseChannelData(fromHex(packet)), packet).toEqual({ ok: false, reason });
    }
  });

  it('refuses to encode a channel out of range or an oversized payload', () => {
    expect(() => encodeChannelData(0x3fff, new Uint8Array(1))).toThrow(RangeError);
    expect(() => encodeChannelData(0x8000, new Uint8Array(1))).toThrow(RangeError);
    expect(() => encodeChannelData(0x4000, new Uint8Array(0x10000))).toThrow(RangeError);
  });
});
