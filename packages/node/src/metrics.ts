import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { SignalOutcome } from '@punch/core';

/** The Node host's Prometheus metrics, on their own registry. */
export function createMetrics(sources: { sessions: () => number; connections: () => number }) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'punch_' });
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
