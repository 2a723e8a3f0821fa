import Database from 'better-sqlite3';
import { z } from 'zod';
import {
  NameSchema,
  PeerRefSchema,
  PublicJwkSchema,
  type AccountRecord,
  type AuditEvent,
  type KeyRecord,
  type ProjectRecord,
  type ProjectStore,
} from '@punch/core';

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
 * SQLite persistence of the projects realm for the Node host: accounts (key hashes only),
 * projects, members, public keys and the audit log. Audit events are buffered and written in
 * batches (`flush`, called by the host every second and before every read), so relaying signals
 * never waits on a disk write.
 */
export class SqliteProjectStore implements ProjectStore {
  readonly #db: Database.Database;
  readonly #s;
  #pending: AuditEvent[] = [];

  constructor(file: string) {
    this.#db = new Database(file);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = NORMAL');
    this.#db.pragma('foreign_keys = ON');
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS accounts (
        name TEXT PRIMARY KEY,
        key_hash TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS projects (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS members (
        project TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        account TEXT NOT NULL REFERENCES accounts (name) ON DELETE CASCADE,
        PRIMARY KEY (project, account)
      );
      CREATE TABLE IF NOT EXISTS keys (
        kid TEXT PRIMARY KEY,
        project TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        alg TEXT NOT NULL,
        public_jwk TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS keys_by_project ON keys (project);
      CREATE TABLE IF NOT EXISTS audit (
        project TEXT NOT NULL,
        at INTEGER NOT NULL,
        kind TEXT NOT NULL,
        from_group TEXT NOT NULL,
        from_peer TEXT NOT NULL,
        to_group TEXT,
        to_peer TEXT,
        outcome TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS audit_by_project ON audit (project, at);
      CREATE INDEX IF NOT EXISTS audit_by_time ON audit (at);
    `);
    const db = this.#db;
    this.#s = {
      createAccount: db.prepare(
        'INSERT INTO accounts (name, key_hash, created_at) VALUES (?, ?, ?)',
      ),
      rekeyAccount: db.prepare('UPDATE accounts SET key_hash = ? WHERE name = ?'),
      accountByHash: db.prepare('SELECT name, created_at FROM accounts WHERE key_hash = ?'),
      account: db.prepare('SELECT name, created_at FROM accounts WHERE name = ?'),
      createProject: db.prepare('INSERT INTO projects (id, name, created_at) VALUES (?, ?, ?)'),
      project: db.prepare('SELECT id, name, created_at FROM projects WHERE id = ?'),
      projectsOf: db.prepare(
        `SELECT p.id, p.name, p.created_at FROM projects p JOIN members m ON m.project = p.id
         WHERE m.account = ? ORDER BY p.created_at, p.id`,
      ),
      deleteProject: db.prepare('DELETE FROM projects WHERE id = ?'),
      deleteAudit: db.prepare('DELETE FROM audit WHERE project = ?'),
      members: db.prepare('SELECT account FROM members WHERE project = ? ORDER BY account'),
      isMember: db.prepare('SELECT 1 AS yes FROM members WHERE project = ? AND account = ?'),
      addMember: db.prepare('INSERT OR IGNORE INTO members (project, account) VALUES (?, ?)'),
      removeMember: db.prepare('DELETE FROM members WHERE project = ? AND account = ?'),
      addKey: db.prepare(
        'INSERT OR IGNORE INTO keys (kid, project, alg, public_jwk, created_at) VALUES (?, ?, ?, ?, ?)',
      ),
      key: db.prepare('SELECT * FROM keys WHERE kid = ?'),
      keys: db.prepare('SELECT * FROM keys WHERE project = ? ORDER BY created_at, kid'),
      kidsOf: db.prepare('SELECT kid FROM keys WHERE project = ?'),
      deleteKey: db.prepare('DELETE FROM keys WHERE project = ? AND kid = ?'),
      insertAudit: db.prepare(
        `INSERT INTO audit (project, at, kind, from_group, from_peer, to_group, to_peer, outcome)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      audit: db.prepare(
        'SELECT * FROM audit WHERE project = ? AND at >= ? ORDER BY at DESC, rowid DESC LIMIT ?',
      ),
      pruneAudit: db.prepare('DELETE FROM audit WHERE at < ?'),
    };
  }

  /** Creates an account holding the hash of its API key (the operator's `punch account create`). */
  createAccount(name: string, keyHash: string, createdAt: number): boolean {
    try {
      this.#s.createAccount.run(name, keyHash, createdAt);
      return true;
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') return false;
      throw err;
    }
  }

  /** Replaces an account's API key (the old one stops working at once). */
  rekeyAccount(name: string, keyHash: string): boolean {
    return this.#s.rekeyAccount.run(keyHash, name).changes === 1;
  }

  accountByKeyHash(keyHash: string): Promise<AccountRecord | undefined> {
    return Promise.resolve(toAccount(this.#s.accountByHash.get(keyHash)));
  }

  account(name: string): Promise<AccountRecord | undefined> {
    return Promise.resolve(toAccount(this.#s.account.get(name)));
  }

  createProject(project: ProjectRecord, owner: string): Promise<void> {
    this.#db.transaction(() => {
      this.#s.createProject.run(project.id, project.name, project.createdAt);
      this.#s.addMember.run(project.id, owner);
    })();
    return Promise.resolve();
  }

  project(id: string): Promise<ProjectRecord | undefined> {
    return Promise.resolve(toProject(this.#s.project.get(id)));
  }

  projectsOf(account: string): Promise<ProjectRecord[]> {
    return Promise.resolve(
      this.#s.projectsOf.all(account).map((r) => toProject(r) ?? fail('project row')),
    );
  }

  deleteProject(id: string): Promise<string[]> {
    const kids = this.#db.transaction(() => {
      const k = this.#s.kidsOf.all(id).map((r) => z.object({ kid: z.string() }).parse(r).kid);
      this.#pending = this.#pending.filter((e) => e.project !== id);
      this.#s.deleteAudit.run(id);
      this.#s.deleteProject.run(id);
      return k;
    })();
    return Promise.resolve(kids);
  }

  members(project: string): Promise<string[]> {
    return Promise.resolve(
      this.#s.members.all(project).map((r) => z.object({ account: z.string() }).parse(r).account),
    );
  }

  isMember(project: string, account: string): Promise<boolean> {
    return Promise.resolve(this.#s.isMember.get(project, account) !== undefined);
  }

  addMember(project: string, account: string): Promise<boolean> {
    return Promise.resolve(this.#s.addMember.run(project, account).changes === 1);
  }

  removeMember(project: string, account: string): Promise<boolean> {
    return Promise.resolve(this.#s.removeMember.run(project, account).changes === 1);
  }

  addKey(key: KeyRecord): Promise<boolean> {
    const r = this.#s.addKey.run(
      key.kid,
      key.project,
      key.alg,
      JSON.stringify(key.publicJwk),
      key.createdAt,
    );
    return Promise.resolve(r.changes === 1);
  }

  key(kid: string): Promise<KeyRecord | undefined> {
    const row = this.#s.key.get(kid);
    return Promise.resolve(row === undefined ? undefined : toKey(row));
  }

  keys(project: string): Promise<KeyRecord[]> {
    return Promise.resolve(this.#s.keys.all(project).map(toKey));
  }

  deleteKey(project: string, kid: string): Promise<boolean> {
    return Promise.resolve(this.#s.deleteKey.run(project, kid).changes === 1);
  }

  appendAudit(event: AuditEvent): void {
    this.#pending.push(event);
    if (this.#pending.length >= AUDIT_BATCH) this.flush();
  }

  /** Writes buffered audit events in one transaction. */
  flush(): void {
    if (this.#pending.length === 0) return;
    const batch = this.#pending;
    this.#pending = [];
    this.#db.transaction(() => {
      for (const e of batch) {
        this.#s.insertAudit.run(
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
    })();
  }

  audit(project: string, options: { since?: number; limit: number }): Promise<AuditEvent[]> {
    this.flush();
    const rows = this.#s.audit.all(project, options.since ?? 0, options.limit);
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
    return this.#s.pruneAudit.run(beforeMs).changes;
  }

  close(): void {
    this.flush();
    this.#db.close();
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
