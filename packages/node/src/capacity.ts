import type { Duplex } from 'node:stream';
import {
  CAPACITY_DEFAULTS,
  MAX_TTL_DEFAULT,
  capacityError,
  type CapacityBound,
  type CapacityLimits,
  type Logger,
} from '@punch/core';

/** `punch serve`'s capacity flags; each unset one takes core's default. */
export interface CapacityOptions {
  /** Live sessions at most (`--max-sessions`, default 10,000). */
  readonly maxSessions?: number;
  /** Open WebSockets at most, both realms together (`--max-sockets`, default 20,000). */
  readonly maxSockets?: number;
  /** Open WebSockets from one IP at most (`--max-sockets-per-ip`, default 200). */
  readonly maxSocketsPerIp?: number;
  /** The longest session lifetime granted, seconds (`--max-ttl`, default 24 h). */
  readonly maxTtl?: number;
}

/**
 * What the Node host holds at most, and the socket count behind it. A socket is counted from
 * the moment its upgrade is admitted (before the token check's awaits, so a burst of upgrades
 * cannot all pass a check that none of them has yet counted towards) until its TCP socket
 * closes: that event comes whether the upgrade was refused, failed, or the WebSocket later
 * closed, so no path leaks a count.
 */
export class Capacity {
  readonly limits: CapacityLimits;
  readonly maxTtl: number;
  readonly #log: Logger;
  readonly #perIp = new Map<string, number>();
  #total = 0;

  constructor(options: CapacityOptions, log: Logger) {
    this.limits = {
      sessions: options.maxSessions ?? CAPACITY_DEFAULTS.sessions,
      sockets: options.maxSockets ?? CAPACITY_DEFAULTS.sockets,
      socketsPerIp: options.maxSocketsPerIp ?? CAPACITY_DEFAULTS.socketsPerIp,
    };
    this.maxTtl = options.maxTtl ?? MAX_TTL_DEFAULT;
    this.#log = log;
  }

  /** Sockets counted now (admitted upgrades and open WebSockets). */
  get sockets(): number {
    return this.#total;
  }

  /** Sockets counted now for `ip`. */
  socketsOf(ip: string): number {
    return this.#perIp.get(ip) ?? 0;
  }

  /**
   * True when `live` sessions fill the host (`--max-sessions`). The caller passes its own
   * count (the rooms map's size, kept in step with create, close and expiry): O(1).
   */
  sessionsFull(live: number): boolean {
    return live >= this.limits.sessions;
  }

  /**
   * Counts an upgrade from `ip` on `socket` until the socket closes; past a bound throws
   * ERR_CAPACITY (503, `Retry-After`) and counts nothing.
   */
  admit(ip: string, socket: Duplex): void {
    // Already closed (a reset during the upgrade): its close event has passed, so it is not
    // counted; the upgrade finds the socket gone and stops.
    if (socket.closed) return;
    const mine = this.#perIp.get(ip) ?? 0;
    if (this.#total >= this.limits.sockets) throw this.#refused('sockets', ip);
    if (mine >= this.limits.socketsPerIp) throw this.#refused('sockets-per-ip', ip);
    this.#total++;
    this.#perIp.set(ip, mine + 1);
    socket.once('close', () => {
      this.#release(ip);
    });
  }

  #release(ip: string): void {
    this.#total--;
    const left = (this.#perIp.get(ip) ?? 1) - 1;
    // An IP with no socket is forgotten: the map holds only addresses with open sockets.
    if (left <= 0) this.#perIp.delete(ip);
    else this.#perIp.set(ip, left);
  }

  #refused(bound: CapacityBound, ip: string): ReturnType<typeof capacityError> {
    this.#log.warn({ bound, ip }, 'at capacity');
    return capacityError(bound);
  }
}
