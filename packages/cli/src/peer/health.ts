import type { Stats } from '@punch/core';
import type { MediaPath } from './media-path.js';

/**
 * What crossed the media path, and the health report made of it once a second (DESIGN.md
 * "The data path"): the path's kind, rates over the last interval, totals, the path's RTT and
 * loss, and srt-live-transmit's statistics when the agent runs it.
 */
export class Traffic {
  #sendBytes = 0;
  #recvBytes = 0;
  #sendPackets = 0;
  #recvPackets = 0;
  #last: { sendBytes: number; recvBytes: number; at: number };

  constructor(now: number = Date.now()) {
    this.#last = { sendBytes: 0, recvBytes: 0, at: now };
  }

  /** An SRT packet of `bytes` went to the other side. */
  sent(bytes: number): void {
    this.#sendBytes += bytes;
    this.#sendPackets++;
  }

  /** An SRT packet of `bytes` came from the other side. */
  received(bytes: number): void {
    this.#recvBytes += bytes;
    this.#recvPackets++;
  }

  /** The stats since the previous sample (rates) and overall (totals); starts a new interval. */
  sample(
    path: MediaPath | undefined,
    srt: Record<string, number> | undefined,
    now: number = Date.now(),
  ): Stats {
    const dt = Math.max(1, now - this.#last.at) / 1000;
    const stats: Stats = {
      path: path?.up === true ? path.kind : 'none',
      sendBps: Math.round(((this.#sendBytes - this.#last.sendBytes) * 8) / dt),
      recvBps: Math.round(((this.#recvBytes - this.#last.recvBytes) * 8) / dt),
      sendBytes: this.#sendBytes,
      recvBytes: this.#recvBytes,
      sendPackets: this.#sendPackets,
      recvPackets: this.#recvPackets,
    };
    this.#last = { sendBytes: this.#sendBytes, recvBytes: this.#recvBytes, at: now };
    const rtt = path?.rttMs;
    if (rtt !== undefined) stats.rttMs = Math.round(rtt * 100) / 100;
    if (path?.up === true) stats.lossPct = Math.round(path.lossPct * 10) / 10;
    if (srt !== undefined) stats.srt = srt;
    return stats;
  }
}
