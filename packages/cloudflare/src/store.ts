import { SqlSessionStore, SqlSignalStore } from '@punch/core';
import { sqlDriver } from './sql-driver.js';

/**
 * A session object's rows: core's `SqlSessionStore` in the object's own SQLite. One object
 * holds one session, so deleting the session deletes every row. Health is written as it
 * comes, as on Node (a redeploy loses none of it), one row per sample and no index: Durable
 * Objects bill rows written, index entries included, and a session's health table is small
 * enough to scan.
 */
export function sessionStore(storage: DurableObjectStorage): SqlSessionStore {
  return new SqlSessionStore(sqlDriver(storage), { indexHealth: false });
}

/** A signalling room's rows (its project, and who each socket speaks for): core's `SqlSignalStore`. */
export function signalStore(storage: DurableObjectStorage): SqlSignalStore {
  return new SqlSignalStore(sqlDriver(storage));
}
