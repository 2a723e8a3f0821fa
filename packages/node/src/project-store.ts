import Database from 'better-sqlite3';
import { SqlProjectStore, type SqlDriver, type SqlValue } from '@punch/core';

/** better-sqlite3 as core's `SqlDriver`, each statement prepared once. */
function driver(db: Database.Database): SqlDriver {
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
 * The projects realm's store on the Node host: core's `SqlProjectStore` in the data directory's
 * SQLite file (WAL, foreign keys on).
 */
export class SqliteProjectStore extends SqlProjectStore {
  readonly #db: Database.Database;

  constructor(file: string) {
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    super(driver(db));
    this.#db = db;
  }

  close(): void {
    this.flush();
    this.#db.close();
  }
}
