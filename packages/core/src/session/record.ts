import type { Endpoint, PeerRole, RelayMode, Stats, Tally } from '../wire/common.js';

/** What a session is, as stored. Times are Unix seconds. */
export interface SessionRecord {
  readonly id: string;
  /** Random per instance: tokens carry it as `sid`, so a reused name never honours old tokens. */
  readonly instance: string;
  readonly streams: readonly string[];
  readonly passphrase: string;
  readonly pbkeylen: 16 | 24 | 32;
  readonly latencyMs: number;
  /** `auto`: direct first, relayed when no direct path opens; `always`: relayed only. */
  readonly relay: RelayMode;
  readonly createdAt: number;
  expiresAt: number;
  tally: Tally;
}

export interface HealthSample {
  readonly stream: string;
  readonly role: PeerRole;
  /** Milliseconds since the epoch. */
  readonly at: number;
  readonly stats: Stats;
}

/**
 * The storage contract a host fills (SQLite on Node, Durable Object storage on Workers).
 * Synchronous on purpose: both hosts' SQLite APIs are, and a room's turn must not interleave.
 */
export interface SessionStore {
  saveSession(record: SessionRecord): void;
  appendHealth(session: string, sample: HealthSample): void;
  healthHistory(session: string, streams: readonly string[] | null, limit: number): HealthSample[];
  deleteSession(session: string): void;
}

export type { Endpoint };
