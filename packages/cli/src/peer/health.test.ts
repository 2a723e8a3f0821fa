import { describe, expect, it } from 'vitest';
import { StatsSchema } from '@punch/core';
import { Traffic, isSrtData } from './health.js';
import type { MediaPath } from './media-path.js';

/** A path as health sees it: kind, up, RTT and loss (the rest is not read). */
function path(p: Partial<Pick<MediaPath, 'kind' | 'up' | 'rttMs' | 'lossPct'>>): MediaPath {
  return {
    kind: 'direct',
    up: true,
    remote: { ip: '203.0.113.7', port: 40000 },
    rttMs: undefined,
    lossPct: 0,
    send: () => false,
    onDatagram: () => false,
    close: () => undefined,
    ...p,
  };
}

/** An SRT data packet (media) of `bytes`: the header's first bit is 0. */
const data = (bytes: number): Buffer => Buffer.alloc(bytes);
/** An SRT control packet of `bytes` with control type `type` (first bit 1). */
const control = (bytes: number, type = 0x0001): Buffer => {
  const b = Buffer.alloc(bytes);
  b.writeUInt16BE(0x8000 | type, 0);
  return b;
};

describe('isSrtData', () => {
  it('a data packet counts; handshake, keepalive, ACK and shutdown control packets do not', () => {
    expect(isSrtData(data(1316 + 16))).toBe(true);
    // Control types (SRT draft, section 3.2): handshake 0, keepalive 1, ACK 2, shutdown 5.
    for (const type of [0x0000, 0x0001, 0x0002, 0x0005, 0x7fff]) {
      expect(isSrtData(control(64, type))).toBe(false);
    }
    // Shorter than an SRT header: not an SRT packet at all.
    expect(isSrtData(data(15))).toBe(false);
  });
});

describe('Traffic', () => {
  it('reports rates over the interval since the last sample, and running totals', () => {
    const t = new Traffic(0);
    t.sent(data(1000));
    t.sent(data(1000));
    t.received(control(500));
    expect(t.sample(path({}), undefined, 1000)).toEqual({
      path: 'direct',
      sendBps: 16_000,
      recvBps: 4000,
      sendBytes: 2000,
      recvBytes: 500,
      sendPackets: 2,
      recvPackets: 1,
      mediaBps: 16_000,
      mediaBytes: 2000,
      lossPct: 0,
    });
    t.sent(data(250));
    const second = t.sample(path({}), undefined, 3000);
    expect(second).toMatchObject({ sendBps: 1000, recvBps: 0, sendBytes: 2250, sendPackets: 3 });
  });

  it("takes the path's kind while it is up, and says none otherwise", () => {
    expect(new Traffic(0).sample(path({ kind: 'relay' }), undefined, 1000).path).toBe('relay');
    expect(new Traffic(0).sample(path({ up: false }), undefined, 1000).path).toBe('none');
    expect(new Traffic(0).sample(undefined, undefined, 1000).path).toBe('none');
  });

  it('rounds RTT to 0.01 ms and loss to 0.1 %, and reports loss only while up', () => {
    const up = new Traffic(0).sample(path({ rttMs: 12.3456, lossPct: 33.333 }), undefined, 1000);
    expect(up).toMatchObject({ rttMs: 12.35, lossPct: 33.3 });
    const down = new Traffic(0).sample(
      path({ up: false, rttMs: 12.3456, lossPct: 50 }),
      undefined,
      1000,
    );
    expect(down.rttMs).toBe(12.35); // the last RTT measured, while it punches again
    expect(down).not.toHaveProperty('lossPct');
  });

  it("carries srt-live-transmit's statistics, and passes core's schema", () => {
    const stats = new Traffic(0).sample(path({ rttMs: 1 }), { 'link.rtt': 0.047 }, 1000);
    expect(stats.srt).toEqual({ 'link.rtt': 0.047 });
    expect(StatsSchema.safeParse(stats).success).toBe(true);
  });

  it('never divides by a zero interval', () => {
    const t = new Traffic(5000);
    t.received(data(100));
    expect(t.sample(path({}), undefined, 5000).recvBps).toBe(800_000);
  });

  it("counts only SRT data as media: SRT's keepalives and ACKs while the encoder is stopped are not", () => {
    const t = new Traffic(0);
    for (let i = 0; i < 100; i++) t.sent(data(1316));
    t.received(control(44, 0x0002)); // the receiver's ACK
    const streaming = t.sample(path({}), undefined, 1000);
    expect(streaming).toMatchObject({ mediaBps: 100 * 1316 * 8, mediaBytes: 131_600 });
    // The encoder stops: SRT keeps the connection up with control packets both ways.
    for (let i = 0; i < 10; i++) {
      t.sent(control(16, 0x0001));
      t.received(control(44, 0x0002));
    }
    const stopped = t.sample(path({}), undefined, 2000);
    expect(stopped.mediaBps).toBe(0);
    expect(stopped.mediaBytes).toBe(131_600);
    expect(stopped.sendBps).toBeGreaterThan(0); // the path itself still carries packets
    expect(StatsSchema.safeParse(stopped).success).toBe(true);
  });
});
