import type { CloudflareTurnApi } from './cf-turn.js';

/**
 * The Cloudflare TURN usernames an object handed out and that have not expired yet, so they can
 * be revoked when what they were minted for ends: a session's (at its close), a project key's
 * (at its deletion; `scope` is the kid). One table in the object's own SQLite. Only the
 * Workers host revokes credentials (coturn's TURN REST credentials cannot be revoked), so the
 * schema lives with its one user rather than in core's stores.
 *
 * Bounded: expired rows go at every write, and past `cap` the soonest to expire are forgotten
 * (not revoked: they still lapse with the token that got them).
 */
export class IssuedCredentials {
  readonly #sql: SqlStorage;
  readonly #cap: number;

  constructor(storage: DurableObjectStorage, cap: number) {
    this.#sql = storage.sql;
    this.#cap = cap;
    this.#sql.exec(
      `CREATE TABLE IF NOT EXISTS turn_issued (
         username TEXT PRIMARY KEY,
         scope TEXT NOT NULL,
         expires_at INTEGER NOT NULL
       )`,
    );
  }

  /** Remembers `username` (expiring at `expiresAt`, Unix seconds) under `scope`. */
  remember(username: string, scope: string, expiresAt: number, nowMs: number): void {
    const now = Math.floor(nowMs / 1000);
    this.#sql.exec('DELETE FROM turn_issued WHERE expires_at <= ?', now);
    this.#sql.exec(
      'INSERT OR REPLACE INTO turn_issued (username, scope, expires_at) VALUES (?, ?, ?)',
      username,
      scope,
      Math.floor(expiresAt),
    );
    const n = this.#sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM turn_issued').one().n;
    if (n > this.#cap)
      this.#sql.exec(
        'DELETE FROM turn_issued WHERE username IN (SELECT username FROM turn_issued ORDER BY expires_at LIMIT ?)',
        n - this.#cap,
      );
  }

  /**
   * Forgets every username under `scope` (every one, when undefined) and returns those still
   * valid: the ones to revoke.
   */
  take(scope: string | undefined, nowMs: number): string[] {
    const now = Math.floor(nowMs / 1000);
    const where = scope === undefined ? '' : ' AND scope = ?';
    const args = scope === undefined ? [] : [scope];
    const rows = this.#sql
      .exec<{ username: string }>(
        `SELECT username FROM turn_issued WHERE expires_at > ?${where}`,
        now,
        ...args,
      )
      .toArray();
    this.#sql.exec(`DELETE FROM turn_issued WHERE 1 = 1${where}`, ...args);
    return rows.map((r) => r.username);
  }

  /** How many usernames are remembered (operators and tests, over RPC). */
  count(): number {
    return this.#sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM turn_issued').one().n;
  }
}

/** Workers allows six connections at once per invocation: revocations go six at a time. */
const PARALLEL = 6;

/**
 * Revokes `usernames` with Cloudflare; resolves to how many the API confirmed. A failure is
 * logged by the client and the rest go on: each credential still lapses at its expiry.
 */
export async function revokeAll(api: CloudflareTurnApi, usernames: string[]): Promise<number> {
  let revoked = 0;
  for (let i = 0; i < usernames.length; i += PARALLEL) {
    const batch = usernames.slice(i, i + PARALLEL);
    const done = await Promise.all(batch.map((u) => api.revoke(u)));
    revoked += done.filter(Boolean).length;
  }
  return revoked;
}
