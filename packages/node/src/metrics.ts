import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { SignalOutcome } from '@punch/core';
import type { TurnStats } from './turn/stats.js';

/** What `/metrics` shows of storage faults (security.md "Storage"). */
export interface StorageStats {
  readonly failing: boolean;
  /** Writes that failed, by SQLite code. */
  readonly failures: ReadonlyMap<string, number>;
  /** Items given up on, by what they were (`audit`, `health-sample`). */
  readonly dropped: ReadonlyMap<string, number>;
  /** Items waiting to be written, by what they are (`audit`, `session-delete`). */
  readonly pending: ReadonlyMap<string, number>;
}

/** The Node host's Prometheus metrics, on their own registry. */
export function createMetrics(sources: {
  sessions: () => number;
  connections: () => number;
  /** The relay's counters, once it runs (undefined with `--no-relay`). */
  turn?: () => TurnStats | undefined;
  /** Storage faults (StorageHealth), and what waits to be written. */
  storage?: () => StorageStats;
}) {
  const registry = new Registry();
  // The event-loop delay histogram samples on a timer: prom-client's 10 ms default wakes an idle
  // server 100 times a second (half of the idle budget in bench/idle-scale.mjs); 100 ms still
  // shows a stalled loop.
  collectDefaultMetrics({
    register: registry,
    prefix: 'punch_',
    eventLoopMonitoringPrecision: 100,
  });
  const metrics = {
    registry,
    sessionsCreated: new Counter({
      name: 'punch_sessions_created_total',
      help: 'Sessions created',
      registers: [registry],
    }),
    sessionsClosed: new Counter({
      name: 'punch_sessions_closed_total',
      help: 'Sessions ended, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    pairings: new Counter({
      name: 'punch_pairings_total',
      help: 'Stream pairings sent (peer to both sides)',
      registers: [registry],
    }),
    stunRequests: new Counter({
      name: 'punch_stun_requests_total',
      help: 'STUN Binding requests answered, by whether the USERNAME was a known registration',
      labelNames: ['known'] as const,
      registers: [registry],
    }),
    authFailures: new Counter({
      name: 'punch_auth_failures_total',
      help: 'Authentication failures by error code',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'punch_rate_limited_total',
      help: 'Requests refused by a rate limit',
      labelNames: ['limit'] as const,
      registers: [registry],
    }),
  };
  // Every signal counts; kept in plain numbers on the hot path, handed over when scraped.
  const signals = new Map<SignalOutcome, number>();
  const signalsReported = new Map<SignalOutcome, number>();
  new Counter({
    name: 'punch_signals_total',
    help: 'Project signals by outcome (delivered, refused by either policy, offline)',
    labelNames: ['outcome'] as const,
    registers: [registry],
    collect() {
      for (const [outcome, n] of signals) {
        this.inc({ outcome }, n - (signalsReported.get(outcome) ?? 0));
        signalsReported.set(outcome, n);
      }
    },
  });
  // Counted in a plain number on the hot path and handed to prom-client when scraped.
  let wsMessages = 0;
  let wsMessagesReported = 0;
  new Counter({
    name: 'punch_ws_messages_total',
    help: 'WebSocket messages received',
    registers: [registry],
    collect() {
      this.inc(wsMessages - wsMessagesReported);
      wsMessagesReported = wsMessages;
    },
  });
  new Gauge({
    name: 'punch_sessions_active',
    help: 'Live sessions',
    registers: [registry],
    collect() {
      this.set(sources.sessions());
    },
  });
  new Gauge({
    name: 'punch_ws_connections',
    help: 'Open WebSocket connections',
    registers: [registry],
    collect() {
      this.set(sources.connections());
    },
  });
  registerTurnMetrics(registry, () => sources.turn?.());
  if (sources.storage !== undefined) registerStorageMetrics(registry, sources.storage);
  return {
    ...metrics,
    /** One WebSocket message received. */
    wsMessage(): void {
      wsMessages++;
    },
    signal(outcome: SignalOutcome): void {
      signals.set(outcome, (signals.get(outcome) ?? 0) + 1);
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** A counter fed from a running total kept elsewhere: it adds what grew since the last scrape. */
function totalCounter<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  read: () => Iterable<[Partial<Record<L, string>>, number]>,
): void {
  const reported = new Map<string, number>();
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      for (const [labels, total] of read()) {
        const key = JSON.stringify(labels);
        this.inc(labels, total - (reported.get(key) ?? 0));
        reported.set(key, total);
      }
    },
  });
}

/** The relay's metrics (DESIGN.md "The relay": every counter is in `/metrics`). */
function registerTurnMetrics(registry: Registry, stats: () => TurnStats | undefined): void {
  new Gauge({
    name: 'punch_turn_allocations_active',
    help: 'TURN allocations alive now',
    registers: [registry],
    collect() {
      this.set(stats()?.active() ?? 0);
    },
  });
  totalCounter(registry, 'punch_turn_allocations_total', 'TURN allocations made', [], () => {
    const s = stats();
    return s === undefined ? [] : [[{}, s.allocated()]];
  });
  totalCounter(
    registry,
    'punch_turn_refused_total',
    'TURN requests answered with an error, by code (401 challenges included)',
    ['code'],
    () => [...(stats()?.refused ?? [])].map(([code, n]) => [{ code: String(code) }, n]),
  );
  const relayed = (field: 'bytes' | 'packets') => (): [{ direction: string }, number][] => {
    const s = stats();
    if (s === undefined) return [];
    return [
      [{ direction: 'to_peer' }, s.relayed.toPeer[field]],
      [{ direction: 'to_client' }, s.relayed.toClient[field]],
    ];
  };
  totalCounter(
    registry,
    'punch_turn_relayed_bytes_total',
    'Payload bytes relayed, by direction',
    ['direction'],
    relayed('bytes'),
  );
  totalCounter(
    registry,
    'punch_turn_relayed_packets_total',
    'Datagrams relayed, by direction',
    ['direction'],
    relayed('packets'),
  );
  totalCounter(
    registry,
    'punch_turn_dropped_total',
    'Datagrams dropped: over the bandwidth cap, without a permission or channel, or a TCP client not reading (backlog)',
    ['reason'],
    () => [...(stats()?.dropped ?? [])].map(([reason, n]) => [{ reason }, n]),
  );
  new Gauge({
    name: 'punch_turn_tcp_connections',
    help: 'TCP connections to the STUN port open now (TURN over TCP)',
    registers: [registry],
    collect() {
      this.set(stats()?.tcp.open ?? 0);
    },
  });
  totalCounter(
    registry,
    'punch_turn_tcp_connections_total',
    'TCP connections to the STUN port: accepted, or refused over the total or per-IP cap',
    ['outcome'],
    () => {
      const s = stats();
      if (s === undefined) return [];
      return [
        [{ outcome: 'accepted' }, s.tcp.accepted],
        ...[...s.tcp.refused].map(([cap, n]): [{ outcome: string }, number] => [
          { outcome: `refused-${cap}` },
          n,
        ]),
      ];
    },
  );
  totalCounter(
    registry,
    'punch_turn_tcp_closed_total',
    'TCP connections the relay closed, by reason (idle, garbage, too-large, backlog)',
    ['reason'],
    () => [...(stats()?.tcp.closed ?? [])].map(([reason, n]) => [{ reason }, n]),
  );
  totalCounter(
    registry,
    'punch_turn_errors_total',
    'TURN datagrams whose handling failed',
    [],
    () => {
      const s = stats();
      return s === undefined ? [] : [[{}, s.errors]];
    },
  );
}

/** Storage faults: what failed, what was dropped, what waits (DESIGN.md "storage faults"). */
function registerStorageMetrics(registry: Registry, stats: () => StorageStats): void {
  new Gauge({
    name: 'punch_storage_failing',
    help: '1 while writes to the data directory fail (then /healthz answers 503), else 0',
    registers: [registry],
    collect() {
      this.set(stats().failing ? 1 : 0);
    },
  });
  totalCounter(
    registry,
    'punch_storage_failures_total',
    'Writes that failed for the storage (disk full, I/O error…), by SQLite code',
    ['code'],
    () => [...stats().failures].map(([code, n]) => [{ code }, n]),
  );
  totalCounter(
    registry,
    'punch_storage_dropped_total',
    'Items never written because storage failed: audit events past the buffer, health samples',
    ['what'],
    () => [...stats().dropped].map(([what, n]) => [{ what }, n]),
  );
  new Gauge({
    name: 'punch_storage_pending',
    help: 'Writes waiting for storage to recover: buffered audit events, ended sessions not yet deleted',
    labelNames: ['what'] as const,
    registers: [registry],
    collect() {
      for (const [what, n] of stats().pending) this.set({ what }, n);
    },
  });
}
