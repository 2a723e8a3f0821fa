import type { SqlDriver, SqlValue } from '@punch/core';

/**
 * A Durable Object's SQLite (`ctx.storage.sql`) as core's `SqlDriver`: synchronous, like
 * better-sqlite3 on Node, so the same store code runs on both hosts.
 */
export function sqlDriver(storage: DurableObjectStorage): SqlDriver {
  const sql = storage.sql;
  return {
    run(query: string, ...params: SqlValue[]): number {
      sql.exec(query, ...params);
      return sql.exec<{ n: number }>('SELECT changes() AS n').one().n;
    },
    all(query: string, ...params: SqlValue[]): unknown[] {
      return sql.exec(query, ...params).toArray();
    },
    transaction<T>(fn: () => T): T {
      return storage.transactionSync(fn);
    },
  };
}
