import { z } from 'zod';
import { PeerRefSchema } from '../signal/policy.js';
import type { AuditEvent } from '../signal/audit.js';
import { NameSchema } from '../wire/common.js';
import { PublicJwkSchema, type KeyRecord } from './keys.js';
import type { AccountRecord, AddKeyResult, ProjectRecord, ProjectStore } from './store.js';
import type { SqlDriver } from '../sql/driver.js';

const AccountRow = z.object({ name: NameSchema, created_at: z.number().int() });
const ProjectRow = z.object({ id: z.string(), name: z.string(), created_at: z.number().int() });
const KeyRow = z.object({
  kid: z.string(),
  project: z.string(),
  alg: z.enum(['EdDSA', 'ES256']),
  public_jwk: z.string(),
  created_at: z.number().int(),
});
const AuditRow = z.object({
  project: z.string(),
  at: z.number(),
  kind: z.enum(['connect', 'signal']),
  from_group: z.string(),
  from_peer: z.string(),
  to_group: z.string().nullable(),
  to_peer: z.string().nullable(),
  outcome: z.enum([
    'connected',
    'replaced',
    'delivered',
    'refused-by-sender-policy',
    'refused-by-target-policy',
    'offline',
  ]),
});

/** Audit rows are buffered and written in one transaction at most this many at a time. */
const AUDIT_BATCH = 2000;
/**
 * Audit events kept unwritten at most (about 200 bytes each) while writes fail (a full disk);
 * past it the oldest are dropped, and counted (`onAuditDropped`).
 */
export const AUDIT_PENDING_MAX = 50_000;

export interface SqlProjectStoreOptions {
  /** Audit events kept unwritten at most; default AUDIT_PENDING_MAX. */
  readonly maxPendingAudit?: number;
  /** `n` buffered audit events were dropped (the buffer was full while writes failed). */
  readonly onAuditDropped?: (n: number) => void;
}

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS accounts (
    name TEXT PRIMARY KEY,
    key_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS projects (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS members (
    project TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    account TEXT NOT NULL REFERENCES accounts (name) ON DELETE CASCADE,
    PRIMARY KEY (project, account)
  )`,
  `CREATE TABLE IF NOT EXISTS keys (
    kid TEXT PRIMARY KEY,
    project TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    alg TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    created_at INTEGER NOT NULL
  )`,
  'CREATE INDEX IF NOT EXISTS keys_by_project ON keys (project)',
  // Revocation is final (DESIGN): a deleted kid is never accepted again, in any project. Kept
  // forever on purpose: 43 characters and a time per deleted key.
  `CREATE TABLE IF NOT EXISTS deleted_kids (
    kid TEXT PRIMARY KEY,
    deleted_at INTEGER NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS audit (
    project TEXT NOT NULL,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    from_group TEXT NOT NULL,
    from_peer TEXT NOT NULL,
    to_group TEXT,
    to_peer TEXT,
    outcome TEXT NOT NULL
  )`,
  'CREATE INDEX IF NOT EXISTS audit_by_project ON audit (project, at)',
  'CREATE INDEX IF NOT EXISTS audit_by_time ON audit (at)',
];

/**
 * The projects realm in SQLite, for every host: accounts (key hashes only), projects, members,
 * public keys and the audit log. Audit events are buffered and written in batches (`flush`,
 * which the host calls every second and which every read calls first), so relaying signals
 * never waits on a write.
 *
 * @example
 * const store = new SqlProjectStore(driver);
 * await store.createProject({ id: 'p1', name: 'calls', createdAt: 0 }, 'ada');
 */
export class SqlProjectStore implements ProjectStore {
  readonly #db: SqlDriver;
  readonly #maxPending: number;
  readonly #onDropped: ((n: number) => void) | undefined;
  #pending: AuditEvent[] = [];
  /** Events ever appended: a batch's worth of them triggers a write. */
  #appended = 0;

  constructor(db: SqlDriver, options: SqlProjectStoreOptions = {}) {
    this.#db = db;
    this.#maxPending = options.maxPendingAudit ?? AUDIT_PENDING_MAX;
    this.#onDropped = options.onAuditDropped;
    for (const statement of SCHEMA) db.run(statement);
  }

  /** Creates an account holding the hash of its API key (the operator's `punch account create`). */
  createAccount(name: string, keyHash: string, createdAt: number): boolean {
    if (this.#db.all('SELECT 1 AS yes FROM accounts WHERE name = ?', name).length > 0) return false;
    this.#db.run(
      'INSERT INTO accounts (name, key_hash, created_at) VALUES (?, ?, ?)',
      name,
      keyHash,
      createdAt,
    );
    return true;
  }

  /** Replaces an account's API key (the old one stops working at once). */
  rekeyAccount(name: string, keyHash: string): boolean {
    return this.#db.run('UPDATE accounts SET key_hash = ? WHERE name = ?', keyHash, name) === 1;
  }

  accountByKeyHash(keyHash: string): Promise<AccountRecord | undefined> {
    return Promise.resolve(
      toAccount(
        this.#db.all('SELECT name, created_at FROM accounts WHERE key_hash = ?', keyHash)[0],
      ),
    );
  }

  account(name: string): Promise<AccountRecord | undefined> {
    return Promise.resolve(
      toAccount(this.#db.all('SELECT name, created_at FROM accounts WHERE name = ?', name)[0]),
    );
  }

  createProject(project: ProjectRecord, owner: string): Promise<void> {
    this.#db.transaction(() => {
      this.#db.run(
        'INSERT INTO projects (id, name, created_at) VALUES (?, ?, ?)',
        project.id,
        project.name,
        project.createdAt,
      );
      this.#db.run(
        'INSERT OR IGNORE INTO members (project, account) VALUES (?, ?)',
        project.id,
        owner,
      );
    });
    return Promise.resolve();
  }

  project(id: string): Promise<ProjectRecord | undefined> {
    return Promise.resolve(
      toProject(this.#db.all('SELECT id, name, created_at FROM projects WHERE id = ?', id)[0]),
    );
  }

  projectsOf(account: string): Promise<ProjectRecord[]> {
    return Promise.resolve(
      this.#db
        .all(
          `SELECT p.id, p.name, p.created_at FROM projects p JOIN members m ON m.project = p.id
           WHERE m.account = ? ORDER BY p.created_at, p.id`,
          account,
        )
        .map((r) => toProject(r) ?? fail('project row')),
    );
  }

  deleteProject(id: string): Promise<string[]> {
    const kids = this.#db.transaction(() => {
      const k = this.#db
        .all('SELECT kid FROM keys WHERE project = ?', id)
        .map((r) => z.object({ kid: z.string() }).parse(r).kid);
      this.#db.run('DELETE FROM audit WHERE project = ?', id);
      for (const kid of k) this.#forbid(kid);
      // Explicit, not only ON DELETE CASCADE: not every host's SQLite enforces foreign keys.
      this.#db.run('DELETE FROM keys WHERE project = ?', id);
      this.#db.run('DELETE FROM members WHERE project = ?', id);
      this.#db.run('DELETE FROM projects WHERE id = ?', id);
      return k;
    });
    // Only once deleted: a deletion that failed (ERR_STORAGE) keeps the project and its log.
    this.#pending = this.#pending.filter((e) => e.project !== id);
    return Promise.resolve(kids);
  }

  members(project: string): Promise<string[]> {
    return Promise.resolve(
      this.#db
        .all('SELECT account FROM members WHERE project = ? ORDER BY account', project)
        .map((r) => z.object({ account: z.string() }).parse(r).account),
    );
  }

  isMember(project: string, account: string): Promise<boolean> {
    return Promise.resolve(
      this.#db.all(
        'SELECT 1 AS yes FROM members WHERE project = ? AND account = ?',
        project,
        account,
      ).length > 0,
    );
  }

  addMember(project: string, account: string): Promise<boolean> {
    // Only while both still exist: a request racing the project's (or the account's) deletion
    // adds nothing, instead of failing the foreign key (an error, a 500); the route says which.
    return Promise.resolve(
      this.#db.run(
        `INSERT OR IGNORE INTO members (project, account) SELECT ?, ?
           WHERE EXISTS (SELECT 1 FROM projects WHERE id = ?)
             AND EXISTS (SELECT 1 FROM accounts WHERE name = ?)`,
        project,
        account,
        project,
        account,
      ) === 1,
    );
  }

  removeMember(project: string, account: string): Promise<boolean> {
    return Promise.resolve(
      this.#db.run('DELETE FROM members WHERE project = ? AND account = ?', project, account) === 1,
    );
  }

  addKey(key: KeyRecord): Promise<AddKeyResult> {
    // The project is checked in the same transaction as the insert: a key upload that raced a
    // project deletion finds the project gone instead of failing the foreign key (an error, a
    // 500) or, where foreign keys are not enforced, storing a key for a project that is gone.
    const result = this.#db.transaction((): AddKeyResult => {
      if (this.#db.all('SELECT 1 AS yes FROM projects WHERE id = ?', key.project).length === 0) {
        return 'project-gone';
      }
      // A deleted kid never comes back: revocation is final.
      if (this.#db.all('SELECT 1 AS yes FROM deleted_kids WHERE kid = ?', key.kid).length > 0) {
        return 'exists';
      }
      const changed = this.#db.run(
        'INSERT OR IGNORE INTO keys (kid, project, alg, public_jwk, created_at) VALUES (?, ?, ?, ?, ?)',
        key.kid,
        key.project,
        key.alg,
        JSON.stringify(key.publicJwk),
        key.createdAt,
      );
      return changed === 1 ? 'added' : 'exists';
    });
    return Promise.resolve(result);
  }

  key(kid: string): Promise<KeyRecord | undefined> {
    const row = this.#db.all('SELECT * FROM keys WHERE kid = ?', kid)[0];
    return Promise.resolve(row === undefined ? undefined : toKey(row));
  }

  keys(project: string): Promise<KeyRecord[]> {
    return Promise.resolve(
      this.#db
        .all('SELECT * FROM keys WHERE project = ? ORDER BY created_at, kid', project)
        .map(toKey),
    );
  }

  deleteKey(project: string, kid: string): Promise<boolean> {
    const deleted = this.#db.transaction(() => {
      const gone = this.#db.run('DELETE FROM keys WHERE project = ? AND kid = ?', project, kid);
      if (gone === 1) this.#forbid(kid);
      return gone === 1;
    });
    return Promise.resolve(deleted);
  }

  /** Remembers a deleted kid for good (see deleted_kids). */
  #forbid(kid: string): void {
    this.#db.run(
      'INSERT OR IGNORE INTO deleted_kids (kid, deleted_at) VALUES (?, ?)',
      kid,
      Math.floor(Date.now() / 1000),
    );
  }

  /**
   * Buffers one event; a full batch is written at once. Past `maxPendingAudit` unwritten events
   * (writes failing), the oldest is dropped and counted.
   */
  appendAudit(event: AuditEvent): void {
    this.#pending.push(event);
    if (this.#pending.length > this.#maxPending) {
      this.#pending.shift();
      this.#onDropped?.(1);
    }
    // Once per batch of events appended, not on every event while the buffer is long: while
    // writes fail, the host's periodic flush retries, and relaying signals does not try a
    // failing write each time.
    if (++this.#appended % AUDIT_BATCH === 0) this.flush();
  }

  /** Audit events buffered and not yet written. */
  get pendingAudit(): number {
    return this.#pending.length;
  }

  /**
   * Writes buffered audit events, a batch per transaction, oldest first. A batch leaves the
   * buffer only once written: a write that fails (a full disk) throws and keeps it, and every
   * later one, for the next flush.
   */
  flush(): void {
    while (this.#pending.length > 0) {
      const batch = this.#pending.slice(0, AUDIT_BATCH);
      this.#write(batch);
      this.#pending.splice(0, batch.length);
    }
  }

  #write(batch: readonly AuditEvent[]): void {
    this.#db.transaction(() => {
      for (const e of batch) {
        this.#db.run(
          `INSERT INTO audit (project, at, kind, from_group, from_peer, to_group, to_peer, outcome)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          e.project,
          e.at,
          e.kind,
          e.from.group,
          e.from.peer,
          e.to?.group ?? null,
          e.to?.peer ?? null,
          e.outcome,
        );
      }
    });
  }

  audit(project: string, options: { since?: number; limit: number }): Promise<AuditEvent[]> {
    this.flush();
    const rows = this.#db.all(
      'SELECT * FROM audit WHERE project = ? AND at >= ? ORDER BY at DESC, rowid DESC LIMIT ?',
      project,
      options.since ?? 0,
      options.limit,
    );
    return Promise.resolve(
      rows.map((raw) => {
        const r = AuditRow.parse(raw);
        return {
          project: r.project,
          at: r.at,
          kind: r.kind,
          from: PeerRefSchema.parse({ group: r.from_group, peer: r.from_peer }),
          to:
            r.to_group === null || r.to_peer === null
              ? null
              : { group: r.to_group, peer: r.to_peer },
          outcome: r.outcome,
        };
      }),
    );
  }

  /** Deletes audit events older than `beforeMs`. */
  pruneAudit(beforeMs: number): number {
    this.flush();
    return this.#db.run('DELETE FROM audit WHERE at < ?', beforeMs);
  }
}

function toAccount(raw: unknown): AccountRecord | undefined {
  if (raw === undefined) return undefined;
  const r = AccountRow.parse(raw);
  return { name: r.name, createdAt: r.created_at };
}

function toProject(raw: unknown): ProjectRecord | undefined {
  if (raw === undefined) return undefined;
  const r = ProjectRow.parse(raw);
  return { id: r.id, name: r.name, createdAt: r.created_at };
}

function toKey(raw: unknown): KeyRecord {
  const r = KeyRow.parse(raw);
  return {
    kid: r.kid,
    project: r.project,
    alg: r.alg,
    publicJwk: PublicJwkSchema.parse(JSON.parse(r.public_jwk)),
    createdAt: r.created_at,
  };
}

function fail(what: string): never {
  throw new Error(`unreadable ${what}`);
}
