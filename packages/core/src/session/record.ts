import type { Endpoint, PeerRole, RelayMode, Stats, Tally, TallyOrigin } from '../wire/common.js';

/** What a session is, as stored. Times are Unix seconds. */
export interface SessionRecord {
  readonly id: string;
  /** Random per instance: tokens carry it as `sid`, so a reused name never honours old tokens. */
  readonly instance: string;
  readonly streams: readonly string[];
  /**
   * The session's SRT passphrase from before streams had their own: every stream of a session
   * stored without `passphrases` uses it. For newer sessions, the first stream's.
   */
  readonly passphrase: string;
  /**
   * Each stream's own passphrase (DESIGN.md "Streams on show day"), so a token scoped to one
   * stream never learns another stream's key. Absent for sessions stored before.
   */
  readonly passphrases?: Readonly<Record<string, string>>;
  readonly pbkeylen: 16 | 24 | 32;
  readonly latencyMs: number;
  /** `auto`: direct first, relayed when no direct path opens; `always`: relayed only. */
  readonly relay: RelayMode;
  readonly createdAt: number;
  expiresAt: number;
  tally: Tally;
  /** Who set `tally` last, and when (shown to admins only); absent until it is first set. */
  tallyOrigin?: TallyOrigin;
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

/**
 * The SRT passphrase of `stream`: its own, or the session's for a session stored before
 * streams had their own.
 *
 * @example
 * streamPassphrase(record, 'cam-wide'); // 'Qx81…' (32 characters)
 */
export function streamPassphrase(record: SessionRecord, stream: string): string {
  return record.passphrases?.[stream] ?? record.passphrase;
}

export type { Endpoint };
