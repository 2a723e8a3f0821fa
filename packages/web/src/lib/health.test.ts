import { describe, expect, it } from 'vitest';
import { HealthSeries, WINDOW_S, chartColumns } from './health.js';

const T = 1_795_000_000_000;

describe('HealthSeries', () => {
  it("prefers the receiver's arriving rate over the sender's, and takes the worse RTT and loss", () => {
    const h = new HealthSeries();
    h.add({ role: 'sender', at: T, stats: { sendBps: 9e6, rttMs: 20, lossPct: 0 } });
    h.add({ role: 'receiver', at: T + 400, stats: { recvBps: 8e6, rttMs: 35, lossPct: 1.5 } });
    h.add({ role: 'sender', at: T + 800, stats: { sendBps: 9.5e6 } });
    expect(h.points()).toEqual([{ t: T / 1000, bps: 8e6, rttMs: 35, lossPct: 1.5 }]);
  });

  it("uses the sender's rate when the receiver does not report", () => {
    const h = new HealthSeries();
    h.add({ role: 'sender', at: T, stats: { sendBps: 5e6 } });
    expect(h.latest()?.bps).toBe(5e6);
  });

  it("shows the media rate where the agent counts it, not SRT's control traffic", () => {
    const h = new HealthSeries();
    h.add({ role: 'receiver', at: T, stats: { recvBps: 3000, mediaBps: 0 } });
    expect(h.latest()?.bps).toBe(0);
    h.add({ role: 'sender', at: T + 1000, stats: { sendBps: 4.1e6, mediaBps: 4e6 } });
    expect(h.latest()?.bps).toBe(4e6);
  });

  it('keeps one point per second, in order, and forgets what is older than the window', () => {
    const h = new HealthSeries();
    h.add({ role: 'receiver', at: T + 2000, stats: { recvBps: 2 } });
    h.add({ role: 'receiver', at: T, stats: { recvBps: 1 } });
    expect(h.points().map((p) => p.bps)).toEqual([1, 2]);
    h.add({ role: 'receiver', at: T + (WINDOW_S + 1) * 1000, stats: { recvBps: 3 } });
    expect(h.points().map((p) => p.bps)).toEqual([2, 3]);
  });

  it('gives uPlot columns: seconds, Mbit/s, ms, % (gaps as null)', () => {
    expect(
      chartColumns([
        { t: 1, bps: 8e6, rttMs: 20, lossPct: null },
        { t: 2, bps: null, rttMs: null, lossPct: 0.5 },
      ]),
    ).toEqual([
      [1, 2],
      [8, null],
      [20, null],
      [null, 0.5],
    ]);
  });
});
