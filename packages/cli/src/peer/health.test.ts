import { describe, expect, it } from 'vitest';
import { StatsSchema } from '@punch/core';
import { Traffic } from './health.js';
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

describe('Traffic', () => {
  it('reports rates over the interval since the last sample, and running totals', () => {
    const t = new Traffic(0);
    t.sent(1000);
    t.sent(1000);
    t.received(500);
    expect(t.sample(path({}), undefined, 1000)).toEqual({
      path: 'direct',
      sendBps: 16_000,
      recvBps: 4000,
      sendBytes: 2000,
      recvBytes: 500,
      sendPackets: 2,
      recvPackets: 1,
      lossPct: 0,
    });
    t.sent(250);
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
    t.received(100);
    expect(t.sample(path({}), undefined, 5000).recvBps).toBe(800_000);
  });
});
