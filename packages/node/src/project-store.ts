import type Database from 'better-sqlite3';
import { SqlProjectStore } from '@punch/core';
import { isStorageError, type StorageHealth } from './storage-health.js';
import { openSqlite, probeWrite, soloHealth, sqliteDriver } from './store.js';

/**
 * The projects realm's store on the Node host: core's `SqlProjectStore` in the data directory's
 * SQLite file (WAL, foreign keys on). Its background writes never throw: buffered audit events
 * that cannot be written stay buffered (bounded, the oldest dropped and counted) and are
 * written by the storage probe once the disk takes writes again.
 */
export class SqliteProjectStore extends SqlProjectStore {
  readonly #db: Database.Database;
  readonly #health: StorageHealth;

  constructor(file: string, health: StorageHealth = soloHealth(file)) {
    const db = openSqlite(file);
    db.pragma('foreign_keys = ON');
    super(sqliteDriver(db, health), {
      onAuditDropped: (n) => {
        health.dropped('audit', n);
      },
    });
    this.#db = db;
    this.#health = health;
    health.retry(
      () => {
        probeWrite(db, health);
        super.flush();
      },
      { audit: () => this.pendingAudit },
    );
  }

  /**
   * Writes buffered audit events (the host's timer, each read of the log). While storage fails
   * it leaves them buffered for the storage probe, which retries with backoff, rather than
   * trying a failing write every second.
   */
  override flush(): void {
    if (this.#health.failing) return;
    try {
      super.flush();
    } catch (err) {
      // Kept in the buffer, and the failure started the probe that writes them later.
      if (!isStorageError(err)) throw err;
    }
  }

  /** Skipped while storage fails (the next prune catches up: it deletes by age). */
  override pruneAudit(beforeMs: number): number {
    if (this.#health.failing) return 0;
    try {
      return super.pruneAudit(beforeMs);
    } catch (err) {
      if (!isStorageError(err)) throw err;
      return 0;
    }
  }

  /** Writes what is buffered (a last try even while storage fails), then closes the file. */
  close(): void {
    try {
      super.flush();
    } catch (err) {
      if (!isStorageError(err)) throw err;
      // The process is ending: what cannot be written now is lost, and said so.
      this.#health.dropped(
        'audit',
        this.pendingAudit,
        'audit events lost at shutdown: storage failing',
      );
    }
    this.#db.close();
  }
}
