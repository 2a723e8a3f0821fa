import Database from 'better-sqlite3';
import { z } from 'zod';
import {
  NameSchema,
  PeerRoleSchema,
  StatsSchema,
  TallySchema,
  type HealthSample,
  type SessionRecord,
  type SessionStore,
} from '@punch/core';

const SessionRow = z.object({
  id: NameSchema,
  instance: z.string(),
  streams: z.string(),
  passphrase: z.string(),
  pbkeylen: z.union([z.literal(16), z.literal(24), z.literal(32)]),
  latency_ms: z.number().int(),
  created_at: z.number().int(),
  expires_at: z.number().int(),
  tally: z.string(),
});

const HealthRow = z.object({
  stream: z.string(),
  role: PeerRoleSchema,
  at: z.number(),
  stats: z.string(),
});

/**
 * SQLite persistence for the Node host: sessions (with passphrase and tally) and health
 * history, so a restart keeps live shows. Rows go when their session ends.
 */
export class SqliteStore implements SessionStore {
  readonly #db: Database.Database;
  readonly #stmts;

  constructor(file: string) {
    this.#db = new Database(file);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = NORMAL');
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS sessions (
        id TEXT PRIMARY KEY,
        instance TEXT NOT NULL,
        streams TEXT NOT NULL,
        passphrase TEXT NOT NULL,
        pbkeylen INTEGER NOT NULL,
        latency_ms INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        tally TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS health (
        session TEXT NOT NULL,
        stream TEXT NOT NULL,
        role TEXT NOT NULL,
        at INTEGER NOT NULL,
        stats TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS health_by_session ON health (session, at);
      CREATE INDEX IF NOT EXISTS health_by_stream ON health (session, stream, at);
    `);
    this.#stmts = {
      upsert: this.#db.prepare(
        `INSERT INTO sessions (id, instance, streams, passphrase, pbkeylen, latency_ms, created_at, expires_at, tally)
         VALUES (@id, @instance, @streams, @passphrase, @pbkeylen, @latency_ms, @created_at, @expires_at, @tally)
         ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at, tally = excluded.tally`,
      ),
      insertHealth: this.#db.prepare(
        'INSERT INTO health (session, stream, role, at, stats) VALUES (?, ?, ?, ?, ?)',
      ),
      history: this.#db.prepare(
        'SELECT stream, role, at, stats FROM health WHERE session = ? ORDER BY at DESC, rowid DESC LIMIT ?',
      ),
      historyOf: this.#db.prepare(
        `SELECT stream, role, at, stats FROM health
         WHERE session = ? AND stream IN (SELECT value FROM json_each(?))
         ORDER BY at DESC, rowid DESC LIMIT ?`,
      ),
      deleteSession: this.#db.prepare('DELETE FROM sessions WHERE id = ?'),
      deleteHealth: this.#db.prepare('DELETE FROM health WHERE session = ?'),
      all: this.#db.prepare('SELECT * FROM sessions'),
      prune: this.#db.prepare('DELETE FROM health WHERE at < ?'),
      counts: this.#db.prepare(
        'SELECT (SELECT COUNT(*) FROM sessions WHERE id = @id) AS sessions, (SELECT COUNT(*) FROM health WHERE session = @id) AS health',
      ),
    };
  }

  saveSession(r: SessionRecord): void {
    this.#stmts.upsert.run({
      id: r.id,
      instance: r.instance,
      streams: JSON.stringify(r.streams),
      passphrase: r.passphrase,
      pbkeylen: r.pbkeylen,
      latency_ms: r.latencyMs,
      created_at: r.createdAt,
      expires_at: r.expiresAt,
      tally: JSON.stringify(r.tally),
    });
  }

  appendHealth(session: string, s: HealthSample): void {
    this.#stmts.insertHealth.run(session, s.stream, s.role, s.at, JSON.stringify(s.stats));
  }

  healthHistory(session: string, streams: readonly string[] | null, limit: number): HealthSample[] {
    const rows =
      streams === null
        ? this.#stmts.history.all(session, limit)
        : this.#stmts.historyOf.all(session, JSON.stringify(streams), limit);
    return rows
      .map((raw) => {
        const row = HealthRow.parse(raw);
        return {
          stream: row.stream,
          role: row.role,
          at: row.at,
          stats: StatsSchema.parse(JSON.parse(row.stats)),
        };
      })
      .reverse();
  }

  deleteSession(session: string): void {
    this.#db.transaction(() => {
      this.#stmts.deleteHealth.run(session);
      this.#stmts.deleteSession.run(session);
    })();
  }

  /** Every stored session (validated): the host loads them at start. */
  loadSessions(): SessionRecord[] {
    return this.#stmts.all.all().map((raw) => {
      const row = SessionRow.parse(raw);
      return {
        id: row.id,
        instance: row.instance,
        streams: z.array(NameSchema).parse(JSON.parse(row.streams)),
        passphrase: row.passphrase,
        pbkeylen: row.pbkeylen,
        latencyMs: row.latency_ms,
        createdAt: row.created_at,
        expiresAt: row.expires_at,
        tally: TallySchema.parse(JSON.parse(row.tally)),
      };
    });
  }

  /** Deletes health samples older than `beforeMs`. */
  pruneHealth(beforeMs: number): number {
    return this.#stmts.prune.run(beforeMs).changes;
  }

  /** Row counts for one session (tests and diagnostics). */
  rowCounts(session: string): { sessions: number; health: number } {
    return z
      .object({ sessions: z.number(), health: z.number() })
      .parse(this.#stmts.counts.get({ id: session }));
  }

  close(): void {
    this.#db.close();
  }
}
