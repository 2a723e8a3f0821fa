import type { Stats } from '@punch/core';
import type { MediaPath } from './media-path.js';

/** An SRT header's length: anything shorter is not an SRT packet. */
const SRT_HEADER_BYTES = 16;

/**
 * Whether an SRT packet carries media: a data packet has the header's first bit 0; a control
 * packet (handshake, keepalive, ACK, NAK, shutdown) has it 1 (SRT draft, "Packet Structure":
 * https://datatracker.ietf.org/doc/html/draft-sharabayko-srt-01#section-3).
 *
 * @example
 * isSrtData(Buffer.from('8001000000000000000000000000000a', 'hex')); // false: a keepalive
 */
export function isSrtData(packet: Uint8Array): boolean {
  const first = packet[0];
  return packet.byteLength >= SRT_HEADER_BYTES && first !== undefined && (first & 0x80) === 0;
}

/**
 * What crossed the media path, and the health report made of it once a second (DESIGN.md
 * "The data path"): the path's kind, rates over the last interval, totals, the path's RTT and
 * loss, and srt-live-transmit's statistics when the agent runs it. Media (`mediaBps`,
 * `mediaBytes`) counts SRT data packets only, either way: SRT's own control packets flow while
 * the encoder is stopped, and must not look like a signal.
 */
export class Traffic {
  #sendBytes = 0;
  #recvBytes = 0;
  #sendPackets = 0;
  #recvPackets = 0;
  #mediaBytes = 0;
  #last: { sendBytes: number; recvBytes: number; mediaBytes: number; at: number };

  constructor(now: number = Date.now()) {
    this.#last = { sendBytes: 0, recvBytes: 0, mediaBytes: 0, at: now };
  }

  /** An SRT packet went to the other side. */
  sent(packet: Uint8Array): void {
    this.#sendBytes += packet.byteLength;
    this.#sendPackets++;
    if (isSrtData(packet)) this.#mediaBytes += packet.byteLength;
  }

  /** An SRT packet came from the other side. */
  received(packet: Uint8Array): void {
    this.#recvBytes += packet.byteLength;
    this.#recvPackets++;
    if (isSrtData(packet)) this.#mediaBytes += packet.byteLength;
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
      mediaBps: Math.round(((this.#mediaBytes - this.#last.mediaBytes) * 8) / dt),
      mediaBytes: this.#mediaBytes,
    };
    this.#last = {
      sendBytes: this.#sendBytes,
      recvBytes: this.#recvBytes,
      mediaBytes: this.#mediaBytes,
      at: now,
    };
    const rtt = path?.rttMs;
    if (rtt !== undefined) stats.rttMs = Math.round(rtt * 100) / 100;
    if (path?.up === true) stats.lossPct = Math.round(path.lossPct * 10) / 10;
    if (srt !== undefined) stats.srt = srt;
    return stats;
  }
}
