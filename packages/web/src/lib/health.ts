import type { Stats } from '@punch/core';

/** One second of a stream's link, merged from both sides' reports. */
export interface Point {
  /** Unix seconds. */
  t: number;
  /**
   * Bits per second of media arriving at the receiver (or leaving the sender when only it
   * reports): `mediaBps` where the agent counts it (SRT data only), else every SRT packet.
   */
  bps: number | null;
  rttMs: number | null;
  lossPct: number | null;
}

export interface Sample {
  role: 'sender' | 'receiver';
  /** Milliseconds since the epoch. */
  at: number;
  stats: Stats;
}

/** How much history a chart keeps. */
export const WINDOW_S = 5 * 60;

const max = (a: number | null, b: number | undefined): number | null =>
  b === undefined ? a : a === null ? b : Math.max(a, b);

/**
 * A stream's recent health, one point per second. Reports from the receiver give the rate
 * that arrives; the sender's rate is used only for seconds where the receiver said nothing.
 * RTT and loss take the worse side.
 *
 * @example
 * const h = new HealthSeries();
 * h.add({ role: 'receiver', at: Date.now(), stats: { recvBps: 8e6, rttMs: 20 } });
 * h.latest()?.bps // 8000000
 */
export class HealthSeries {
  readonly #byT = new Map<number, Point & { fromReceiver: boolean }>();
  #version = 0;

  /** Changes with every sample added (a chart redraws only when its own series changed). */
  get version(): number {
    return this.#version;
  }

  add(s: Sample): void {
    this.#version++;
    const t = Math.floor(s.at / 1000);
    const p = this.#byT.get(t) ?? { t, bps: null, rttMs: null, lossPct: null, fromReceiver: false };
    const { stats } = s;
    // SRT's own keepalives and ACKs are not the picture: a stopped encoder reads as 0 bit/s.
    const rate = stats.mediaBps ?? (s.role === 'receiver' ? stats.recvBps : stats.sendBps);
    if (s.role === 'receiver' && rate !== undefined) {
      p.bps = p.fromReceiver ? Math.max(p.bps ?? 0, rate) : rate;
      p.fromReceiver = true;
    } else if (s.role === 'sender' && rate !== undefined && !p.fromReceiver) {
      p.bps = max(p.bps, rate);
    }
    p.rttMs = max(p.rttMs, stats.rttMs);
    p.lossPct = max(p.lossPct, stats.lossPct);
    this.#byT.set(t, p);
    this.#prune(t);
  }

  #prune(nowT: number): void {
    for (const t of this.#byT.keys()) if (t < nowT - WINDOW_S) this.#byT.delete(t);
  }

  /** Points in time order. */
  points(): Point[] {
    return [...this.#byT.values()]
      .sort((a, b) => a.t - b.t)
      .map(({ t, bps, rttMs, lossPct }) => ({ t, bps, rttMs, lossPct }));
  }

  latest(): Point | undefined {
    return this.points().at(-1);
  }

  get size(): number {
    return this.#byT.size;
  }
}

/** Columns for uPlot: time, Mbit/s, RTT ms, loss %. */
export function chartColumns(points: readonly Point[]): [number[], ...(number | null)[][]] {
  return [
    points.map((p) => p.t),
    points.map((p) => (p.bps === null ? null : p.bps / 1e6)),
    points.map((p) => p.rttMs),
    points.map((p) => p.lossPct),
  ];
}
