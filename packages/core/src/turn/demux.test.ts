import { describe, expect, it } from 'vitest';
import { classifyTurnPacket } from './demux.js';
import { encodeChannelData } from './channel-data.js';
import { RFC5769_REQUEST } from '../stun/test/vectors.js';

describe('classifyTurnPacket', () => {
  it('tells STUN, ChannelData and anything else apart by the first two bits', () => {
    expect(classifyTurnPacket(RFC5769_REQUEST)).toBe('stun');
    expect(classifyTurnPacket(encodeChannelData(0x4000, new Uint8Array(3)))).toBe('channel-data');
    expect(classifyTurnPacket(new Uint8Array(0))).toBe('other');
    for (let first = 0; first < 256; first++) {
      const expected = first < 0x40 ? 'stun' : first < 0x80 ? 'channel-data' : 'other';
      expect(classifyTurnPacket(Uint8Array.of(first, 0, 0, 0))).toBe(expected);
    }
  });
});
