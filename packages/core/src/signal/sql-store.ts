import { z } from 'zod';
import { parseJsonColumn, type SqlDriver } from '../sql/driver.js';
import type { PeerIdentity } from '../token/peer-token.js';
import { AllowPolicySchema, PeerIdSchema } from './policy.js';

/**
 * `meta` holds the room's project (`k = 'project'`) and whether it was deleted
 * (`k = 'deleted'`); `peers` holds who each live socket speaks for, by socket id.
 */
const SCHEMA = [
  'CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL)',
  'CREATE TABLE IF NOT EXISTS peers (id TEXT PRIMARY KEY, identity TEXT NOT NULL)',
];

// An identity was verified before it was stored; it is parsed again when read back, since a
// row is outside data once it has been on disk (and a later version of Punch may read it).
const IdentitySchema = z.object({
  project: z.string(),
  kid: z.string(),
  group: PeerIdSchema,
  peer: PeerIdSchema,
  allow: AllowPolicySchema,
  expiresAt: z.number(),
});
const MetaRow = z.object({ v: z.string() });
const PeerRow = z.object({ id: z.string(), identity: z.string() });

/**
 * What a projects-realm signalling room keeps in SQLite so that it can be rebuilt around its
 * sockets after its host forgot it (a hibernated Durable Object keeps its sockets, not its
 * memory): the project it serves, whether that project was deleted, and each socket's
 * identity with its allow policy (too big for a socket attachment). One room per database.
 *
 * @example
 * const store = new SqlSignalStore(driver);
 * store.setProject('p1');
 * store.saveIdentity(conn.id, conn.identity);
 * store.identities().get(conn.id); // the identity, parsed
 */
export class SqlSignalStore {
  readonly #db: SqlDriver;

  constructor(db: SqlDriver) {
    this.#db = db;
    for (const statement of SCHEMA) db.run(statement);
  }

  /** The project this room serves, once it has served one. */
  project(): string | undefined {
    const row = this.#db.all("SELECT v FROM meta WHERE k = 'project'")[0];
    return row === undefined ? undefined : MetaRow.parse(row).v;
  }

  setProject(project: string): void {
    this.#db.run("INSERT OR REPLACE INTO meta (k, v) VALUES ('project', ?)", project);
  }

  /** The project was deleted: ids are never reused, so the room stays shut. */
  deleted(): boolean {
    return this.#db.all("SELECT 1 AS yes FROM meta WHERE k = 'deleted'").length > 0;
  }

  /** Marks the room deleted and forgets every socket's identity. */
  markDeleted(): void {
    this.#db.transaction(() => {
      this.#db.run('DELETE FROM peers');
      this.#db.run("INSERT OR REPLACE INTO meta (k, v) VALUES ('deleted', '1')");
    });
  }

  /**
   * Every stored identity, by socket id. A row that does not parse is left out: the host
   * closes that socket ("state lost; reconnect") as it does one with no row at all.
   */
  identities(): Map<string, PeerIdentity> {
    const out = new Map<string, PeerIdentity>();
    for (const raw of this.#db.all('SELECT id, identity FROM peers')) {
      const row = PeerRow.parse(raw);
      const value = parseJsonColumn(IdentitySchema, row.identity);
      if (value !== undefined) out.set(row.id, value);
    }
    return out;
  }

  /** Stores who socket `id` speaks for (at join and after a refresh: the only times it changes). */
  saveIdentity(id: string, identity: PeerIdentity): void {
    this.#db.run(
      'INSERT OR REPLACE INTO peers (id, identity) VALUES (?, ?)',
      id,
      JSON.stringify(identity),
    );
  }

  deleteIdentity(id: string): void {
    this.#db.run('DELETE FROM peers WHERE id = ?', id);
  }
}
