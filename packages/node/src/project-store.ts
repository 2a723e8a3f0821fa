import type Database from 'better-sqlite3';
import { SqlProjectStore } from '@punch/core';
import { openSqlite, sqliteDriver } from './store.js';

/**
 * The projects realm's store on the Node host: core's `SqlProjectStore` in the data directory's
 * SQLite file (WAL, foreign keys on).
 */
export class SqliteProjectStore extends SqlProjectStore {
  readonly #db: Database.Database;

  constructor(file: string) {
    const db = openSqlite(file);
    db.pragma('foreign_keys = ON');
    super(sqliteDriver(db));
    this.#db = db;
  }

  close(): void {
    this.flush();
    this.#db.close();
  }
}
