import {
  StatsSchema,
  TokenClaimsSchema,
  type ConnSnapshot,
  type HealthSample,
  type SessionRecord,
  type SessionStore,
} from '@punch/core';
import { z } from 'zod';

/**
 * A session's rows in its Durable Object's own SQLite database: the record, the health history
 * and, for hibernation, what the room knew of each live socket. One object holds one session,
 * so deleting the session deletes every row. Health is written as it comes, as on Node (a
 * redeploy loses none of it), one row per sample and no index: Durable Objects bill rows
 * written, index entries included, and a session's health table is small enough to scan.
 */
export class SqlSessionStore implements SessionStore {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    sql.exec(`CREATE TABLE IF NOT EXISTS session (id TEXT PRIMARY KEY, record TEXT NOT NULL)`);
    sql.exec(
      `CREATE TABLE IF NOT EXISTS health (at INTEGER NOT NULL, stream TEXT NOT NULL, role TEXT NOT NULL, stats TEXT NOT NULL)`,
    );
    sql.exec(`CREATE TABLE IF NOT EXISTS conns (id TEXT PRIMARY KEY, snapshot TEXT NOT NULL)`);
  }

  /** The session this object holds, if any. */
  load(): SessionRecord | undefined {
    const row = this.#sql
      .exec<{ record: string }>('SELECT record FROM session LIMIT 1')
      .toArray()[0];
    return row === undefined ? undefined : RecordSchema.parse(JSON.parse(row.record));
  }

  saveSession(record: SessionRecord): void {
    this.#sql.exec(
      'INSERT OR REPLACE INTO session (id, record) VALUES (?, ?)',
      record.id,
      JSON.stringify(record),
    );
  }

  appendHealth(_session: string, sample: HealthSample): void {
    this.#sql.exec(
      'INSERT INTO health (at, stream, role, stats) VALUES (?, ?, ?, ?)',
      sample.at,
      sample.stream,
      sample.role,
      JSON.stringify(sample.stats),
    );
  }

  healthHistory(
    _session: string,
    streams: readonly string[] | null,
    limit: number,
  ): HealthSample[] {
    const wanted = streams === null ? null : new Set(streams);
    const out: HealthSample[] = [];
    for (const r of this.#sql.exec<{ at: number; stream: string; role: string; stats: string }>(
      'SELECT at, stream, role, stats FROM health ORDER BY at DESC, rowid DESC',
    )) {
      if (out.length >= limit) break;
      if (wanted !== null && !wanted.has(r.stream)) continue;
      const stats: unknown = JSON.parse(r.stats);
      out.push(SampleSchema.parse({ at: r.at, stream: r.stream, role: r.role, stats }));
    }
    return out.reverse();
  }

  /** Health older than `beforeMs` goes (the Node host keeps an hour, too). */
  pruneHealth(beforeMs: number): void {
    this.#sql.exec('DELETE FROM health WHERE at < ?', beforeMs);
  }

  counts(): { sessions: number; health: number } {
    const n = (table: 'session' | 'health'): number =>
      this.#sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`).one().n;
    return { sessions: n('session'), health: n('health') };
  }

  deleteSession(): void {
    this.#sql.exec('DELETE FROM session');
    this.#sql.exec('DELETE FROM health');
    this.#sql.exec('DELETE FROM conns');
  }

  // ---- live sockets, for hibernation ----------------------------------------------------------

  snapshots(): Map<string, ConnSnapshot> {
    const out = new Map<string, ConnSnapshot>();
    for (const r of this.#sql.exec<{ id: string; snapshot: string }>(
      'SELECT id, snapshot FROM conns',
    )) {
      const parsed = SnapshotSchema.safeParse(JSON.parse(r.snapshot));
      if (parsed.success) out.set(r.id, parsed.data);
    }
    return out;
  }

  saveSnapshot(id: string, text: string): void {
    this.#sql.exec('INSERT OR REPLACE INTO conns (id, snapshot) VALUES (?, ?)', id, text);
  }

  deleteSnapshot(id: string): void {
    this.#sql.exec('DELETE FROM conns WHERE id = ?', id);
  }
}

// What was written by this code is read back through schemas too: a row is outside data once
// it has been on disk (and a later version of Punch may read it).
const EndpointSchema = z.object({ ip: z.string(), port: z.number() });
const RecordSchema = z.object({
  id: z.string(),
  instance: z.string(),
  streams: z.array(z.string()),
  passphrase: z.string(),
  pbkeylen: z.union([z.literal(16), z.literal(24), z.literal(32)]),
  latencyMs: z.number(),
  createdAt: z.number(),
  expiresAt: z.number(),
  tally: z.object({ program: z.array(z.string()), preview: z.array(z.string()) }),
});
const SampleSchema = z.object({
  at: z.number(),
  stream: z.string(),
  role: z.enum(['sender', 'receiver']),
  stats: StatsSchema,
});

const SnapshotSchema = z.object({
  claims: TokenClaimsSchema,
  slots: z.array(
    z.object({
      stream: z.string(),
      role: z.enum(['sender', 'receiver']),
      username: z.string(),
      public: EndpointSchema.nullable(),
      local: z.array(EndpointSchema),
    }),
  ),
});
