/**
 * The relay's counters, kept as plain numbers on the hot path (one increment per datagram) and
 * handed to Prometheus when `/metrics` is scraped (metrics.ts).
 */
export interface TurnStats {
  /** Allocations alive now. */
  readonly active: () => number;
  /** Allocations ever made. */
  readonly allocated: () => number;
  /** Requests answered with an error, by code (401 challenges included). */
  readonly refused: Map<number, number>;
  /** Relayed datagrams and payload bytes, by direction. */
  readonly relayed: {
    readonly toPeer: { bytes: number; packets: number };
    readonly toClient: { bytes: number; packets: number };
  };
  /**
   * Datagrams dropped: `bandwidth` (over the cap), `permission` (no permission or channel),
   * `backlog` (a TCP client that does not read fast enough).
   */
  readonly dropped: Map<'bandwidth' | 'permission' | 'backlog', number>;
  /** Datagrams whose handling threw (hostile input, a send that failed). */
  errors: number;
  /** TCP connections to the STUN port (RFC 8656 §3.1). */
  readonly tcp: {
    /** Open now. */
    open: number;
    /** Accepted, ever. */
    accepted: number;
    /** Refused at accept: over the total or the per-IP cap. */
    readonly refused: Map<'total' | 'per-ip', number>;
    /** Closed by the server, by reason (a client's own close is not counted here). */
    readonly closed: Map<TcpCloseReason, number>;
  };
}

/**
 * Why the relay closed a TCP connection: no allocation for the idle time, bytes that are not
 * TURN framing, a frame over the size cap, more unread bytes queued than the cap.
 */
export type TcpCloseReason = 'idle' | 'garbage' | 'too-large' | 'backlog';

export function createTurnStats(sources: {
  active: () => number;
  allocated: () => number;
}): TurnStats {
  return {
    ...sources,
    refused: new Map(),
    relayed: { toPeer: { bytes: 0, packets: 0 }, toClient: { bytes: 0, packets: 0 } },
    dropped: new Map(),
    errors: 0,
    tcp: { open: 0, accepted: 0, refused: new Map(), closed: new Map() },
  };
}

/** Adds one to `key` in a counter map. */
export function bump<K>(map: Map<K, number>, key: K): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}
