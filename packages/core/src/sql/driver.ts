import type { z } from 'zod';

/**
 * The one contract a host fills to store anything: core owns every schema and statement
 * (`SqlProjectStore`, `SqlSessionStore`, `SqlSignalStore`), a host supplies only a driver.
 */

/** A value a statement binds. */
export type SqlValue = string | number | null;

/**
 * The SQLite a host has, as core's stores (projects, sessions, signalling rooms) need it: better-sqlite3 on Node, a Durable
 * Object's `ctx.storage.sql` on Workers. Both are synchronous.
 */
export interface SqlDriver {
  /** Runs one statement; returns how many rows it inserted, updated or deleted. */
  run(sql: string, ...params: SqlValue[]): number;
  /** Runs one query; returns its rows as plain objects. */
  all(sql: string, ...params: SqlValue[]): unknown[];
  /** Runs `fn` in one transaction: all of it or none of it. */
  transaction<T>(fn: () => T): T;
}

/**
 * A JSON column read back through `schema`: `undefined` when the text is not JSON or does not
 * fit. For rows a reader can do without, such as a socket's snapshot (the host closes that
 * socket instead); rows a store cannot do without are parsed with `schema.parse` and throw.
 *
 * @example
 * parseJsonColumn(z.object({ n: z.number() }), '{"n":1}'); // { n: 1 }
 * parseJsonColumn(z.object({ n: z.number() }), '{"n":'); // undefined
 */
export function parseJsonColumn<T>(schema: z.ZodType<T>, text: string): T | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    // Not JSON is one way for a row not to fit; anything else is not about the row.
    if (err instanceof SyntaxError) return undefined;
    throw err;
  }
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}
