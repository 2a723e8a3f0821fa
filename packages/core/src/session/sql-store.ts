import { z } from 'zod';
// From the index, not from room.ts: the type's home may move, its export stays.
import type { ConnSnapshot } from '../index.js';
import { parseJsonColumn, type SqlDriver } from '../sql/driver.js';
import { TokenClaimsSchema } from '../token/claims.js';
import {
  NameSchema,
  PeerRoleSchema,
  RelayModeSchema,
  StatsView,
  TallyOriginSchema,
  TallySchema,
} from '../wire/common.js';
import { TakeoverView } from '../wire/http.js';
import { HEALTH_ROW_BYTES, HealthBounds, HealthBytesRow } from './health-bounds.js';
import type { HealthSample, SessionRecord, SessionStore } from './record.js';

/**
 * One schema for every host. Rows are keyed by session id: the Node host keeps every session
 * in one database, a Durable Object keeps one. `conns` holds, per live socket, what the room
 * knew of it (a `ConnSnapshot`), for hosts whose sockets outlive the room's memory
 * (hibernation); the Node host leaves it empty. The `sessions` and `health` tables are the
 * ones the Node host has always written, so its data directories open unchanged.
 */
const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    instance TEXT NOT NULL,
    streams TEXT NOT NULL,
    passphrase TEXT NOT NULL,
    pbkeylen INTEGER NOT NULL,
    latency_ms INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    tally TEXT NOT NULL,
    relay TEXT NOT NULL DEFAULT 'auto',
    passphrases TEXT,
    tally_origin TEXT
  )`,
  `CREATE TABLE IF NOT EXISTS health (
    session TEXT NOT NULL,
    stream TEXT NOT NULL,
    role TEXT NOT NULL,
    at INTEGER NOT NULL,
    stats TEXT NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS conns (
    session TEXT NOT NULL,
    id TEXT NOT NULL,
    snapshot TEXT NOT NULL,
    PRIMARY KEY (session, id)
  )`,
];

/** See `SqlSessionStoreOptions.indexHealth`. */
const HEALTH_INDEXES = [
  'CREATE INDEX IF NOT EXISTS health_by_session ON health (session, at)',
  'CREATE INDEX IF NOT EXISTS health_by_stream ON health (session, stream, at)',
];

/**
 * Durable Objects written before this schema kept their one session in `session` (the record
 * as JSON), `health` and `conns`, neither with a session column. A wake with this schema moves
 * their rows over, in one transaction, and drops the old tables. Each table is judged by its
 * own shape, not by the presence of another (an older build that runs again after the move,
 * a rollback, re-creates an empty `session` beside the new tables): only a `health` or `conns`
 * without a session column is moved, and `session` rows replace `sessions` rows of the same id
 * (an older build wrote them last). The copy is plain SQL (`json_extract`), so the rows are
 * parsed on read like any other. Health and sockets of an object with no session row have no
 * owner and are dropped (deleting a session deleted all three tables' rows, so there are
 * none). The move writes each row once more, once per object.
 */
const TABLE_SQL = "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?";
const TableSql = z.object({ sql: z.string() });
const LEGACY_SESSIONS = `INSERT OR REPLACE INTO sessions (id, instance, streams, passphrase, pbkeylen, latency_ms, created_at, expires_at, tally)
   SELECT id, json_extract(record, '$.instance'), json_extract(record, '$.streams'),
     json_extract(record, '$.passphrase'), json_extract(record, '$.pbkeylen'),
     json_extract(record, '$.latencyMs'), json_extract(record, '$.createdAt'),
     json_extract(record, '$.expiresAt'), json_extract(record, '$.tally')
   FROM session`;
const LEGACY_TABLES = {
  // In rowid order: equal times are read back in insertion order.
  health: `INSERT INTO health (session, stream, role, at, stats)
   SELECT s.id, h.stream, h.role, h.at, h.stats FROM legacy_health h CROSS JOIN session s
   ORDER BY h.rowid`,
  conns: `INSERT INTO conns (session, id, snapshot)
   SELECT s.id, c.id, c.snapshot FROM legacy_conns c CROSS JOIN session s`,
} as const;

// What was written by this code is read back through schemas too: a row is outside data once
// it has been on disk (and a later version of Punch may read it).
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
  relay: RelayModeSchema,
  passphrases: z.string().nullable().optional(),
  tally_origin: z.string().nullable().optional(),
});
// Built once: a zod schema costs more to build than to run, and loading runs them per row
// (100,000 sessions at a restart).
const StreamsColumn = z.array(NameSchema);
const PassphrasesColumn = z.record(NameSchema, z.string());
const HealthRow = z.object({
  stream: z.string(),
  role: PeerRoleSchema,
  at: z.number(),
  stats: z.string(),
});
const CountsRow = z.object({ sessions: z.number(), health: z.number() });
const SessionBytesRow = z.object({ session: z.string(), bytes: z.number() });
const ConnRow = z.object({ id: z.string(), snapshot: z.string() });
const SnapshotEndpointSchema = z.object({ ip: z.string(), port: z.number() });
const SnapshotSchema = z.object({
  claims: TokenClaimsSchema,
  slots: z.array(
    z.object({
      stream: z.string(),
      role: PeerRoleSchema,
      username: z.string(),
      public: SnapshotEndpointSchema.nullable(),
      local: z.array(SnapshotEndpointSchema),
      relay: SnapshotEndpointSchema.nullable().optional(),
      takeover: TakeoverView.nullable().optional(),
    }),
  ),
});

export interface SqlSessionStoreOptions {
  /**
   * Index health by session and by stream. A database that holds many sessions (the Node
   * host's file) wants both: without them, each history read and each session's deletion
   * scans every session's samples. A database that holds one session (a Durable Object) does
   * better without: its table is that one session's recent samples, small enough to scan, and
   * Durable Objects bill rows written with index entries included, so two indexes would
   * triple the cost of every sample stored.
   */
  readonly indexHealth: boolean;
}

/**
 * Sessions in SQLite, for every host: each session's record (with its passphrase and tally),
 * its health history and, for hibernation, a snapshot of each live socket. Rows go when their
 * session ends. Opening a database written by an earlier Workers host migrates it (see above).
 *
 * @example
 * const store = new SqlSessionStore(driver, { indexHealth: true });
 * for (const record of store.loadSessions()) rooms.set(record.id, new Room(record, deps));
 */
export class SqlSessionStore implements SessionStore {
  readonly #db: SqlDriver;
  readonly #bounds: HealthBounds;

  constructor(db: SqlDriver, options: SqlSessionStoreOptions) {
    this.#db = db;
    this.#bounds = new HealthBounds(db);
    db.transaction(() => {
      const sqlOf = (table: string): string | undefined => {
        const row = db.all(TABLE_SQL, table)[0];
        return row === undefined ? undefined : TableSql.parse(row).sql;
      };
      const legacy = sqlOf('session') !== undefined;
      const sessions = sqlOf('sessions');
      // The old tables had no session column; the new ones start with it.
      const moved = (Object.keys(LEGACY_TABLES) as (keyof typeof LEGACY_TABLES)[]).filter(
        (t) => legacy && !/\(\s*session\s+TEXT/i.test(sqlOf(t) ?? '(session TEXT'),
      );
      for (const t of moved) db.run(`ALTER TABLE ${t} RENAME TO legacy_${t}`);
      for (const statement of SCHEMA) db.run(statement);
      // Sessions stored before the relay: `auto`, as they behaved.
      if (sessions !== undefined && !/\brelay\s+TEXT/i.test(sessions))
        db.run("ALTER TABLE sessions ADD COLUMN relay TEXT NOT NULL DEFAULT 'auto'");
      // Sessions stored before streams had their own passphrases keep the session's (NULL).
      if (sessions !== undefined && !/\bpassphrases\s+TEXT/i.test(sessions))
        db.run('ALTER TABLE sessions ADD COLUMN passphrases TEXT');
      // Sessions stored before tally had an origin: none known (NULL).
      if (sessions !== undefined && !/\btally_origin\s+TEXT/i.test(sessions))
        db.run('ALTER TABLE sessions ADD COLUMN tally_origin TEXT');
      if (legacy) {
        db.run(LEGACY_SESSIONS);
        for (const t of moved) {
          db.run(LEGACY_TABLES[t]);
          db.run(`DROP TABLE legacy_${t}`);
        }
        db.run('DROP TABLE session');
      }
      if (options.indexHealth) for (const statement of HEALTH_INDEXES) db.run(statement);
    });
  }

  saveSession(r: SessionRecord): void {
    // An upsert, not INSERT OR REPLACE: only expiry and tally (with its origin) ever change,
    // and an update in place writes one row where a replace writes a deletion and an insertion.
    this.#db.run(
      `INSERT INTO sessions (id, instance, streams, passphrase, pbkeylen, latency_ms, created_at, expires_at, tally, relay, passphrases, tally_origin)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at, tally = excluded.tally,
         tally_origin = excluded.tally_origin`,
      r.id,
      r.instance,
      JSON.stringify(r.streams),
      r.passphrase,
      r.pbkeylen,
      r.latencyMs,
      r.createdAt,
      r.expiresAt,
      JSON.stringify(r.tally),
      r.relay,
      r.passphrases === undefined ? null : JSON.stringify(r.passphrases),
      r.tallyOrigin === undefined ? null : JSON.stringify(r.tallyOrigin),
    );
  }

  /** Every stored session (validated): the Node host loads them all at start, a Durable Object its one. */
  loadSessions(): SessionRecord[] {
    return this.#db.all('SELECT * FROM sessions').map((raw) => {
      const row = SessionRow.parse(raw);
      // Only shown, never acted on: an origin that does not read back is forgotten, and the
      // session loads.
      const origin =
        row.tally_origin === null || row.tally_origin === undefined
          ? undefined
          : parseJsonColumn(TallyOriginSchema, row.tally_origin);
      return {
        id: row.id,
        instance: row.instance,
        streams: StreamsColumn.parse(JSON.parse(row.streams)),
        passphrase: row.passphrase,
        pbkeylen: row.pbkeylen,
        latencyMs: row.latency_ms,
        createdAt: row.created_at,
        expiresAt: row.expires_at,
        tally: TallySchema.parse(JSON.parse(row.tally)),
        relay: row.relay,
        ...(row.passphrases === null || row.passphrases === undefined
          ? {}
          : { passphrases: PassphrasesColumn.parse(JSON.parse(row.passphrases)) }),
        ...(origin === undefined ? {} : { tallyOrigin: origin }),
      };
    });
  }

  /**
   * Stores one sample, then keeps the session's health within its bounds: samples older than
   * HEALTH_THIN_AFTER_MS thinned to one per HEALTH_THIN_INTERVAL_MS per side (at most one
   * query per interval per session), and at most HEALTH_MAX_BYTES (the oldest go first).
   */
  appendHealth(session: string, s: HealthSample): void {
    const row = this.#db.all(
      `INSERT INTO health (session, stream, role, at, stats) VALUES (?, ?, ?, ?, ?)
       RETURNING ${HEALTH_ROW_BYTES} AS bytes`,
      session,
      s.stream,
      s.role,
      s.at,
      JSON.stringify(s.stats),
    )[0];
    this.#bounds.stored(session, HealthBytesRow.parse(row).bytes, s.at);
  }

  /** The health bytes a session stores (see HEALTH_MAX_BYTES): tests and diagnostics. */
  healthBytes(session: string): number {
    return this.#bounds.bytes(session);
  }

  healthHistory(session: string, streams: readonly string[] | null, limit: number): HealthSample[] {
    const rows =
      streams === null
        ? this.#db.all(
            'SELECT stream, role, at, stats FROM health WHERE session = ? ORDER BY at DESC, rowid DESC LIMIT ?',
            session,
            limit,
          )
        : this.#db.all(
            `SELECT stream, role, at, stats FROM health
             WHERE session = ? AND stream IN (SELECT value FROM json_each(?))
             ORDER BY at DESC, rowid DESC LIMIT ?`,
            session,
            JSON.stringify(streams),
            limit,
          );
    return rows
      .map((raw) => {
        const row = HealthRow.parse(raw);
        return {
          stream: row.stream,
          role: row.role,
          at: row.at,
          stats: StatsView.parse(JSON.parse(row.stats)),
        };
      })
      .reverse();
  }

  /** Deletes health samples older than `beforeMs` (every session's); returns how many. */
  pruneHealth(beforeMs: number): number {
    const rows = this.#db.all(
      `DELETE FROM health WHERE at < ? RETURNING session, ${HEALTH_ROW_BYTES} AS bytes`,
      beforeMs,
    );
    for (const raw of rows) {
      const row = SessionBytesRow.parse(raw);
      this.#bounds.freed(row.session, row.bytes);
    }
    return rows.length;
  }

  /** Deletes the session and every row it has (health, socket snapshots). */
  deleteSession(session: string): void {
    this.#db.transaction(() => {
      this.#db.run('DELETE FROM health WHERE session = ?', session);
      this.#db.run('DELETE FROM conns WHERE session = ?', session);
      this.#db.run('DELETE FROM sessions WHERE id = ?', session);
    });
    this.#bounds.forget(session);
  }

  /**
   * Row counts for one session, or for the whole database without one (a Durable Object
   * holds a single session, and still answers after it has forgotten which): tests and
   * diagnostics.
   */
  rowCounts(session?: string): { sessions: number; health: number } {
    const row =
      session === undefined
        ? this.#db.all(
            'SELECT (SELECT COUNT(*) FROM sessions) AS sessions, (SELECT COUNT(*) FROM health) AS health',
          )[0]
        : this.#db.all(
            'SELECT (SELECT COUNT(*) FROM sessions WHERE id = ?) AS sessions, (SELECT COUNT(*) FROM health WHERE session = ?) AS health',
            session,
            session,
          )[0];
    return CountsRow.parse(row);
  }

  // ---- live sockets, for hibernation ------------------------------------------------------

  /**
   * The stored snapshot of each of the session's sockets, by socket id. A row that does not
   * parse is left out: the host closes that socket ("state lost; reconnect") as it does one
   * with no row at all.
   */
  snapshots(session: string): Map<string, ConnSnapshot> {
    const out = new Map<string, ConnSnapshot>();
    for (const raw of this.#db.all('SELECT id, snapshot FROM conns WHERE session = ?', session)) {
      const row = ConnRow.parse(raw);
      const value = parseJsonColumn(SnapshotSchema, row.snapshot);
      if (value !== undefined) out.set(row.id, value);
    }
    return out;
  }

  /** Stores what the room knows of one socket (replacing what was stored for it). */
  saveSnapshot(session: string, id: string, snapshot: ConnSnapshot): void {
    this.#db.run(
      `INSERT INTO conns (session, id, snapshot) VALUES (?, ?, ?)
       ON CONFLICT (session, id) DO UPDATE SET snapshot = excluded.snapshot`,
      session,
      id,
      JSON.stringify(snapshot),
    );
  }

  deleteSnapshot(session: string, id: string): void {
    this.#db.run('DELETE FROM conns WHERE session = ? AND id = ?', session, id);
  }
}
