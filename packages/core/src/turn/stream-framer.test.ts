import { describe, expect, it } from 'vitest';
import { hex, utf8 } from '../encoding.js';
import { encodeChannelData } from './channel-data.js';
import { STUN_METHOD, encodeMessage } from './message.js';
import { TurnStreamFramer, type FramerResult } from './stream-framer.js';
import {
  RFC5769_LONG_TERM_REQUEST,
  RFC5769_REQUEST,
  fromHex,
  mulberry32,
} from '../stun/test/vectors.js';

const indication = encodeMessage(
  {
    method: STUN_METHOD.send,
    class: 'indication',
    transactionId: new Uint8Array(12),
    attributes: [
      { type: 'XOR-PEER-ADDRESS', address: { ip: '203.0.113.9', port: 5000, family: 4 } },
      { type: 'DATA', data: utf8('payload') },
    ],
  },
  { fingerprint: true },
);
const FRAMES = [
  RFC5769_REQUEST,
  encodeChannelData(0x4000, utf8('hello'), { pad: true }),
  encodeChannelData(0x4fff, new Uint8Array(0), { pad: true }),
  RFC5769_LONG_TERM_REQUEST,
  encodeChannelData(0x4001, utf8('four'), { pad: true }),
  indication,
];
const STREAM = concat(FRAMES);

function concat(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function ok(result: FramerResult): Uint8Array[] {
  if (!result.ok) throw new Error(`framer failed: ${result.reason}`);
  return result.frames;
}

describe('TurnStreamFramer', () => {
  it('splits STUN and padded ChannelData back to back, as views of one chunk', () => {
    const frames = ok(new TurnStreamFramer().push(STREAM));
    expect(frames.map(hex)).toEqual(FRAMES.map(hex));
    for (const f of frames) expect(f.buffer).toBe(STREAM.buffer);
  });

  it('gives the same frames fed a byte at a time, holding only the partial frame', () => {
    const framer = new TurnStreamFramer();
    const frames: Uint8Array[] = [];
    let most = 0;
    for (const byte of STREAM) {
      frames.push(...ok(framer.push(Uint8Array.of(byte))));
      most = Math.max(most, framer.buffered);
    }
    expect(frames.map(hex)).toEqual(FRAMES.map(hex));
    expect(framer.buffered).toBe(0);
    expect(most).toBe(Math.max(...FRAMES.map((f) => f.length)) - 1);
  });

  it('gives the same frames for any chunking (seeded)', () => {
    const next = mulberry32(0x7e57);
    for (let run = 0; run < 200; run++) {
      const framer = new TurnStreamFramer();
      const frames: Uint8Array[] = [];
      for (let at = 0; at < STREAM.length;) {
        const size = 1 + Math.floor(next() * 40);
        frames.push(...ok(framer.push(STREAM.subarray(at, at + size))));
        at += size;
      }
      expect(frames.map(hex)).toEqual(FRAMES.map(hex));
    }
  });

  it('copies a frame that spans chunks, so later writes to the chunks do not reach it', () => {
    const framer = new TurnStreamFramer();
    const first = RFC5769_REQUEST.slice(0, 10);
    const second = RFC5769_REQUEST.slice(10);
    expect(ok(framer.push(first))).toEqual([]);
    const [frame] = ok(framer.push(second));
    first.fill(0);
    second.fill(0);
    expect(hex(frame!)).toBe(hex(RFC5769_REQUEST));
  });

  it('frames an empty ChannelData whose header is split', () => {
    const framer = new TurnStreamFramer();
    expect(ok(framer.push(fromHex('4000')))).toEqual([]);
    expect(ok(framer.push(fromHex('0000'))).map(hex)).toEqual(['40000000']);
    expect(ok(framer.push(new Uint8Array(0)))).toEqual([]);
  });

  it('accepts the largest frames a 16-bit length allows by default', () => {
    const big = encodeChannelData(0x4000, new Uint8Array(0xffff), { pad: true });
    expect(ok(new TurnStreamFramer().push(big)).map((f) => f.length)).toEqual([4 + 0x10000]);
  });

  describe('refuses, before buffering it, a frame longer than maxFrameSize', () => {
    it('ChannelData, as soon as its 4-byte header is in', () => {
      const framer = new TurnStreamFramer({ maxFrameSize: 1500 });
      expect(ok(framer.push(fromHex('4000')))).toEqual([]);
      const result = framer.push(fromHex('05d9')); // 4 + 1497 padded = 1504 > 1500
      expect(result).toEqual({ ok: false, reason: 'frame-too-large', frames: [] });
      expect(framer.buffered).toBe(0);
      expect(ok(new TurnStreamFramer({ maxFrameSize: 1500 }).push(fromHex('400005d8'))));
    });

    it('STUN, as soon as its length and cookie are in', () => {
      const framer = new TurnStreamFramer({ maxFrameSize: 1500 });
      const result = framer.push(fromHex('0016fffc 2112a442'));
      expect(result).toEqual({ ok: false, reason: 'frame-too-large', frames: [] });
      expect(framer.buffered).toBe(0);
    });

    it('and never holds more than maxFrameSize bytes, whatever arrives', () => {
      const framer = new TurnStreamFramer({ maxFrameSize: 256 });
      const next = mulberry32(99);
      let result: FramerResult = { ok: true, frames: [] };
      // Valid small frames, then a ChannelData header announcing 60 000 bytes, trickled in.
      const stream = concat([...FRAMES.slice(1, 3), fromHex('4000ea60'), new Uint8Array(1000)]);
      for (let at = 0; at < stream.length && result.ok;) {
        const size = 1 + Math.floor(next() * 3);
        result = framer.push(stream.subarray(at, at + size));
        at += size;
        expect(framer.buffered).toBeLessThan(256);
      }
      expect(result).toMatchObject({ ok: false, reason: 'frame-too-large' });
    });
  });

  it('fails a stream that is not TURN, keeping the frames before it', () => {
    const framer = new TurnStreamFramer();
    const result = framer.push(concat([FRAMES[1]!, fromHex('80600001')])); // then RTP
    expect(result.ok).toBe(false);
    expect(result).toMatchObject({ reason: 'not-turn' });
    expect(result.frames.map(hex)).toEqual([hex(FRAMES[1]!)]);
    // Dead from then on: nothing more is framed or held.
    expect(framer.push(FRAMES[1]!)).toEqual({ ok: false, reason: 'not-turn', frames: [] });
    expect(framer.buffered).toBe(0);
  });

  it('fails a STUN header with a bad length or no magic cookie', () => {
    expect(new TurnStreamFramer().push(fromHex('00010003 2112a442'))).toMatchObject({
      ok: false,
      reason: 'bad-length',
    });
    expect(new TurnStreamFramer().push(fromHex('00010004 2112a443'))).toMatchObject({
      ok: false,
      reason: 'not-turn',
    });
    // A TLS ClientHello starts 0x16, which reads as STUN until the cookie is missing.
    expect(new TurnStreamFramer().push(fromHex('16030100 c4010000'))).toMatchObject({
      ok: false,
      reason: 'not-turn',
    });
    // The same checks when the header arrives in pieces.
    const framer = new TurnStreamFramer();
    expect(ok(framer.push(fromHex('000100')))).toEqual([]);
    expect(framer.push(fromHex('04 2112a443'))).toMatchObject({ ok: false, reason: 'not-turn' });
  });

  it('checks its bound', () => {
    expect(() => new TurnStreamFramer({ maxFrameSize: 19 })).toThrow(RangeError);
    expect(() => new TurnStreamFramer({ maxFrameSize: 1.5e3 + 0.5 })).toThrow(RangeError);
  });
});
