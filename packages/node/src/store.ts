import { chmodSync, closeSync, existsSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import {
  SqlSessionStore,
  silentLogger,
  type HealthSample,
  type SessionRecord,
  type SqlDriver,
  type SqlValue,
} from '@punch/core';
import { isStorageError, StorageHealth } from './storage-health.js';

/**
 * better-sqlite3 as core's `SqlDriver`, each statement prepared once. The one place a SQLite
 * storage fault (disk full, I/O error…) becomes ERR_STORAGE: `health.fault` counts it and
 * starts the failure episode; any other error passes unchanged.
 */
export function sqliteDriver(
  db: Database.Database,
  health: StorageHealth = soloHealth(),
): SqlDriver {
  const statements = new Map<string, Database.Statement>();
  const prepared = (sql: string): Database.Statement => {
    let s = statements.get(sql);
    if (s === undefined) {
      s = db.prepare(sql);
      statements.set(sql, s);
    }
    return s;
  };
  const guarded = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      throw health.fault(err);
    }
  };
  return {
    run: (sql: string, ...params: SqlValue[]) =>
      guarded(() => prepared(sql).run(...params).changes),
    all: (sql: string, ...params: SqlValue[]) => guarded(() => prepared(sql).all(...params)),
    transaction: <T>(fn: () => T): T => guarded(() => db.transaction(fn)()),
  };
}

/**
 * A SQLite write that needs the disk (one page to the write-ahead log): the store's part of
 * the storage probe, which the file system probe alone would pass on a database gone read-only
 * or corrupt.
 */
export function probeWrite(db: Database.Database, health: StorageHealth): void {
  try {
    const version = Number(db.pragma('user_version', { simple: true }));
    db.pragma(`user_version = ${version}`);
  } catch (err) {
    throw health.fault(err);
  }
}

/** The health a store opened alone (tests, the CLI) reports to: silent, probing its directory. */
export function soloHealth(file?: string): StorageHealth {
  return new StorageHealth({
    log: silentLogger,
    ...(file === undefined ? {} : { dir: dirname(file) }),
  });
}

/**
 * Opens the data directory's SQLite file as every Node store does: write-ahead log (readers
 * never wait for the writer) and `synchronous = NORMAL`, which in WAL mode can lose the last
 * transactions on power loss but never corrupts the file. The file and its `-wal` and `-shm`
 * are readable by the owner only, whatever the umask and the directory's mode (SQLite gives
 * the log and index files the mode of the database file), and deleted rows are overwritten
 * with zeros (`secure_delete`): a passphrase is secret.
 */
export function openSqlite(file: string): Database.Database {
  ownerOnly(file);
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('secure_delete = ON');
  return db;
}

/** Creates `file` 0600 if missing, and makes it and its SQLite companions 0600 if not. */
function ownerOnly(file: string): void {
  // `wx` fails on an existing file, which is then left as it is but for its mode.
  try {
    closeSync(openSync(file, 'wx', 0o600));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    if (existsSync(f)) chmodSync(f, 0o600);
  }
}

/**
 * The sessions realm's store on the Node host: core's `SqlSessionStore` in the data
 * directory's SQLite file, so a restart keeps live shows. One file holds every session, so
 * health is indexed by session.
 */
export class SqliteStore extends SqlSessionStore {
  readonly #db: Database.Database;
  readonly #health: StorageHealth;
  /** Ended sessions whose rows could not be deleted yet (storage failing): retried. */
  readonly #undeleted = new Set<string>();
  /** A checkpoint is due: deleted rows' old copies may still be in the write-ahead log. */
  #due = false;
  /** Set while a turn of the event loop has checkpointed once; cleared right after it. */
  #batch: NodeJS.Immediate | undefined;

  constructor(file: string, health: StorageHealth = soloHealth(file)) {
    const db = openSqlite(file);
    super(sqliteDriver(db, health), { indexHealth: true });
    this.#db = db;
    this.#health = health;
    health.retry(
      () => {
        probeWrite(db, health);
        for (const session of [...this.#undeleted]) this.#delete(session);
        this.#checkpointNow();
      },
      { 'session-delete': () => this.#undeleted.size },
    );
  }

  /**
   * Deletes the session's rows (see `#delete`). Never throws for a failing disk: the session
   * has ended for its sockets already, so its rows are deleted on a later try instead (each
   * storage probe; a restart before that brings back a session that had not expired).
   */
  override deleteSession(session: string): void {
    try {
      this.#delete(session);
    } catch (err) {
      if (!isStorageError(err)) throw err;
      this.#undeleted.add(session);
    }
  }

  /**
   * A session's record. A name whose old rows still wait for deletion gets them deleted first,
   * or the save fails (ERR_STORAGE): a later retry must never delete the new session's rows.
   */
  override saveSession(record: SessionRecord): void {
    if (this.#undeleted.has(record.id)) this.#delete(record.id);
    super.saveSession(record);
  }

  /**
   * A health sample that cannot be stored is dropped and counted, not answered with an error:
   * the agent sends one a second, and the live view (sent to admins) does not need the row.
   * While storage fails it is not even tried: a failing disk is not asked for a write per
   * stream side every second.
   */
  override appendHealth(session: string, sample: HealthSample): void {
    if (this.#health.failing) {
      this.#health.dropped('health-sample');
      return;
    }
    try {
      super.appendHealth(session, sample);
    } catch (err) {
      if (!isStorageError(err)) throw err;
      this.#health.dropped('health-sample');
    }
  }

  /** Skipped while storage fails (the next prune catches up: it deletes by age). */
  override pruneHealth(beforeMs: number): number {
    if (this.#health.failing) return 0;
    try {
      return super.pruneHealth(beforeMs);
    } catch (err) {
      if (!isStorageError(err)) throw err;
      return 0;
    }
  }

  /**
   * Deletes the session's rows, then has the write-ahead log checkpointed and truncated: with
   * `secure_delete` the deleted rows are zeros in the database file, and the log's earlier
   * copies of them (the passphrase) go with it, so an ended session leaves nothing on disk.
   * Throws ERR_STORAGE while storage fails.
   */
  #delete(session: string): void {
    const existed = this.#undeleted.has(session) || this.rowCounts(session).sessions > 0;
    super.deleteSession(session);
    this.#undeleted.delete(session);
    if (existed) this.#checkpoint();
  }

  /**
   * The first deletion in a turn of the event loop is checkpointed at once (a `DELETE` answered
   * means nothing is left on disk); later ones in the same turn (thousands of sessions can
   * expire in the same second, and a checkpoint costs about a millisecond) share one, right
   * after it. One that fails (storage failing) stays due for each storage probe.
   */
  #checkpoint(): void {
    this.#due = true;
    if (this.#batch !== undefined) return;
    this.#batch = setImmediate(() => {
      this.#batch = undefined;
      this.#checkpointIfDue();
    });
    this.#checkpointNow();
  }

  /** Runs a due checkpoint; one that fails for a failing disk stays due for the probe. */
  #checkpointIfDue(): void {
    try {
      this.#checkpointNow();
    } catch (err) {
      // Recorded by the storage health already; the probe runs it again (`retry` above).
      if (!isStorageError(err)) throw err;
    }
  }

  /** Runs a due checkpoint now; throws ERR_STORAGE (and it stays due) while storage fails. */
  #checkpointNow(): void {
    if (!this.#due) return;
    try {
      this.#db.pragma('wal_checkpoint(TRUNCATE)');
    } catch (err) {
      throw this.#health.fault(err);
    }
    this.#due = false;
  }

  close(): void {
    clearImmediate(this.#batch);
    this.#checkpointIfDue();
    this.#db.close();
  }
}
