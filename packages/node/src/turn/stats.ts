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
  /** Datagrams dropped: `bandwidth` (over the cap), `permission` (no permission or channel). */
  readonly dropped: Map<'bandwidth' | 'permission', number>;
  /** Datagrams whose handling threw (hostile input, a send that failed). */
  errors: number;
}

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
  };
}

/** Adds one to `key` in a counter map. */
export function bump<K>(map: Map<K, number>, key: K): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}
