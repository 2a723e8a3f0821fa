import { chmodSync, closeSync, existsSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import { SqlSessionStore, type SqlDriver, type SqlValue } from '@punch/core';

/** better-sqlite3 as core's `SqlDriver`, each statement prepared once. */
export function sqliteDriver(db: Database.Database): SqlDriver {
  const statements = new Map<string, Database.Statement>();
  const prepared = (sql: string): Database.Statement => {
    let s = statements.get(sql);
    if (s === undefined) {
      s = db.prepare(sql);
      statements.set(sql, s);
    }
    return s;
  };
  return {
    run: (sql: string, ...params: SqlValue[]) => prepared(sql).run(...params).changes,
    all: (sql: string, ...params: SqlValue[]) => prepared(sql).all(...params),
    transaction: <T>(fn: () => T): T => db.transaction(fn)(),
  };
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

  constructor(file: string) {
    const db = openSqlite(file);
    super(sqliteDriver(db), { indexHealth: true });
    this.#db = db;
  }

  /**
   * Deletes the session's rows, then checkpoints the write-ahead log and truncates it: with
   * `secure_delete` the deleted rows are zeros in the database file, and the log's earlier
   * copies of them (the passphrase) go with it, so an ended session leaves nothing on disk.
   */
  override deleteSession(session: string): void {
    const existed = this.rowCounts(session).sessions > 0;
    super.deleteSession(session);
    if (existed) this.#db.pragma('wal_checkpoint(TRUNCATE)');
  }

  close(): void {
    this.#db.close();
  }
}
