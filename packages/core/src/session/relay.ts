import { z } from 'zod';
import { turnCredentials, type TurnConfig } from '../signal/ice.js';
import type { SqlDriver } from '../sql/driver.js';
import type { RelayCredentials } from '../wire/common.js';

/**
 * TURN credentials for the sessions realm (DESIGN.md "The relay"). Each session socket gets its
 * own, minted by the host when the socket is seated and again with every fresh token, so they
 * never outlive the token that got them. The TURN REST username's id names the session and
 * the socket (`<expiry>:<session>/<socket id>`): Punch's own relay reads it back to hold a
 * session's credentials to the addresses Punch handed that socket.
 */

/** What a host needs to mint one socket's relay credentials. */
export interface RelayRequest {
  readonly session: string;
  /** The socket's id (`Conn.id`). */
  readonly conn: string;
  /** Unix seconds: the token's expiry, never later. */
  readonly expiresAt: number;
  /**
   * The host name the client reached Punch by (`Conn.stun.host`), for a host whose relay is
   * reached at the same name; undefined when unknown.
   */
  readonly host: string | undefined;
}

/** Mints a socket's relay credentials, or null when the host has no relay to offer. */
export type RelayIssuer = (request: RelayRequest) => Promise<RelayCredentials | null>;

/**
 * An issuer of TURN REST credentials for `config.urls` (Punch's own relay, or coturn with
 * `use-auth-secret`): `username = "<expiry>:<session>/<socket>"`, `credential =
 * base64(HMAC-SHA1(secret, username))`.
 *
 * @example
 * const issue = turnRestIssuer({ secret, urls: ['turn:punch.example:3478?transport=udp'] });
 * await issue({ session: 'show', conn: 'k3v9', expiresAt: 1767225600 });
 * // { urls: […], username: '1767225600:show/k3v9', credential: '…', expiresAt: 1767225600 }
 */
export function turnRestIssuer(config: TurnConfig): RelayIssuer {
  return (request) => turnRestCredentials(config, request);
}

/**
 * One socket's TURN REST credentials for `config.urls` (see {@link turnRestIssuer}); null when
 * there are no URLs.
 *
 * @example
 * await turnRestCredentials({ secret, urls }, { session: 'show', conn: 'k3v9', expiresAt, host });
 */
export async function turnRestCredentials(
  config: TurnConfig,
  { session, conn, expiresAt }: RelayRequest,
): Promise<RelayCredentials | null> {
  if (config.urls.length === 0) return null;
  const at = Math.floor(expiresAt);
  const creds = await turnCredentials(config.secret, `${session}/${conn}`, at);
  return { urls: [...config.urls], ...creds, expiresAt: at };
}

/**
 * The session and socket a TURN REST id (the part of the username after the colon) was minted
 * for by {@link turnRestIssuer}, or undefined when it is not a session socket's (a project
 * peer's id, or anything else).
 *
 * @example
 * sessionRelayId('show/k3v9'); // { session: 'show', conn: 'k3v9' }
 * sessionRelayId('alice');     // undefined
 */
export function sessionRelayId(id: string): { session: string; conn: string } | undefined {
  // A slash is in no project peer id (letters, digits and . _ @ + -), so a peer named
  // "alice.smith" is never read as a session socket.
  const m = /^(?<session>[a-z0-9][a-z0-9-]{1,62})\/(?<conn>[A-Za-z0-9_-]{1,64})$/.exec(id)?.groups;
  const { session, conn } = m ?? {};
  return session === undefined || conn === undefined ? undefined : { session, conn };
}

const UsernameRow = z.object({ username: z.string() });
const CountRow = z.object({ n: z.number() });

/**
 * The relay credentials a host issued that it may have to revoke, by username, each filed under
 * a scope (what ends them: a session, a project key's kid), in one table over the host's
 * `SqlDriver`. TURN REST credentials cannot be revoked; a provider's API-minted ones can
 * (Cloudflare Realtime TURN, on the Workers host), and are revoked when their scope ends.
 * Bounded: expired rows go at every write, and past `cap` the soonest to expire are forgotten
 * (unrevoked: they still lapse with the token that got them).
 *
 * @example
 * const issued = new SqlIssuedRelays(driver, 256);
 * issued.remember('bc91…', 'session', expiresAt, Date.now());
 * issued.take('session', Date.now()); // ['bc91…'], forgotten now: revoke them
 */
export class SqlIssuedRelays {
  readonly #db: SqlDriver;
  readonly #cap: number;

  constructor(db: SqlDriver, cap: number) {
    this.#db = db;
    this.#cap = cap;
    db.run(
      `CREATE TABLE IF NOT EXISTS relay_issued (
         username TEXT PRIMARY KEY,
         scope TEXT NOT NULL,
         expires_at INTEGER NOT NULL
       )`,
    );
  }

  /** Files `username` (expiring at `expiresAt`, Unix seconds) under `scope`. */
  remember(username: string, scope: string, expiresAt: number, nowMs: number): void {
    this.#db.run('DELETE FROM relay_issued WHERE expires_at <= ?', Math.floor(nowMs / 1000));
    this.#db.run(
      'INSERT OR REPLACE INTO relay_issued (username, scope, expires_at) VALUES (?, ?, ?)',
      username,
      scope,
      Math.floor(expiresAt),
    );
    const over = this.count() - this.#cap;
    if (over > 0)
      this.#db.run(
        'DELETE FROM relay_issued WHERE username IN (SELECT username FROM relay_issued ORDER BY expires_at LIMIT ?)',
        over,
      );
  }

  /**
   * Forgets every username under `scope` (every one, when undefined) and returns those still
   * valid: the ones to revoke.
   */
  take(scope: string | undefined, nowMs: number): string[] {
    const now = Math.floor(nowMs / 1000);
    return this.#db.transaction(() => {
      const rows =
        scope === undefined
          ? this.#db.all('SELECT username FROM relay_issued WHERE expires_at > ?', now)
          : this.#db.all(
              'SELECT username FROM relay_issued WHERE expires_at > ? AND scope = ?',
              now,
              scope,
            );
      if (scope === undefined) this.#db.run('DELETE FROM relay_issued');
      else this.#db.run('DELETE FROM relay_issued WHERE scope = ?', scope);
      return rows.map((r) => UsernameRow.parse(r).username);
    });
  }

  /** How many usernames are remembered. */
  count(): number {
    const [row] = this.#db.all('SELECT COUNT(*) AS n FROM relay_issued');
    return CountRow.parse(row).n;
  }
}
