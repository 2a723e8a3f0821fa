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
 * transactions on power loss but never corrupts the file.
 */
export function openSqlite(file: string): Database.Database {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  return db;
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

  close(): void {
    this.#db.close();
  }
}
