import { DurableObject } from 'cloudflare:workers';
import {
  AUDIT_RETENTION_S,
  SqlProjectStore,
  type AccountRecord,
  type AddKeyResult,
  type AuditEvent,
  type KeyRecord,
  type ProjectRecord,
} from '@punch/core';
import { seconds, type Env } from './env.js';
import { sqlDriver } from './sql-driver.js';

/** How often old audit events are pruned. */
const PRUNE_EVERY_MS = 3600_000;

/**
 * The projects realm's directory: accounts, projects, members, public keys and the audit log,
 * in one Durable Object's SQLite, reached over RPC. One object, not D1: a deleted key must be
 * refused at once by every later verification, and a single object is strongly consistent
 * with no replica to lag behind, needs nothing provisioned beyond this binding, and runs the
 * very same SQL as the Node host (core's SqlProjectStore).
 */
export class DirectoryObject extends DurableObject<Env> {
  readonly #store: SqlProjectStore;
  /** Whether the pruning alarm is known to be set (saves a read per audit event). */
  #pruning = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#store = new SqlProjectStore(sqlDriver(ctx.storage));
  }

  // ---- the ProjectStore contract, over RPC --------------------------------------------------

  accountByKeyHash(keyHash: string): Promise<AccountRecord | undefined> {
    return this.#store.accountByKeyHash(keyHash);
  }
  account(name: string): Promise<AccountRecord | undefined> {
    return this.#store.account(name);
  }
  createProject(project: ProjectRecord, owner: string): Promise<void> {
    return this.#store.createProject(project, owner);
  }
  project(id: string): Promise<ProjectRecord | undefined> {
    return this.#store.project(id);
  }
  projectsOf(account: string): Promise<ProjectRecord[]> {
    return this.#store.projectsOf(account);
  }
  deleteProject(id: string): Promise<string[]> {
    return this.#store.deleteProject(id);
  }
  members(project: string): Promise<string[]> {
    return this.#store.members(project);
  }
  isMember(project: string, account: string): Promise<boolean> {
    return this.#store.isMember(project, account);
  }
  addMember(project: string, account: string): Promise<boolean> {
    return this.#store.addMember(project, account);
  }
  removeMember(project: string, account: string): Promise<boolean> {
    return this.#store.removeMember(project, account);
  }
  addKey(key: KeyRecord): Promise<AddKeyResult> {
    return this.#store.addKey(key);
  }
  key(kid: string): Promise<KeyRecord | undefined> {
    return this.#store.key(kid);
  }
  keys(project: string): Promise<KeyRecord[]> {
    return this.#store.keys(project);
  }
  deleteKey(project: string, kid: string): Promise<boolean> {
    return this.#store.deleteKey(project, kid);
  }
  /** Written at once: an object may be evicted, and a buffered event would go with it. */
  async appendAudit(event: AuditEvent): Promise<void> {
    this.#store.appendAudit(event);
    this.#store.flush();
    if (this.#pruning) return;
    if ((await this.ctx.storage.getAlarm()) === null)
      await this.ctx.storage.setAlarm(Date.now() + PRUNE_EVERY_MS);
    this.#pruning = true;
  }
  audit(project: string, options: { since?: number; limit: number }): Promise<AuditEvent[]> {
    return this.#store.audit(project, options);
  }

  // ---- operator -----------------------------------------------------------------------------

  /** Creates an account holding only the hash of its key; false when the name is taken. */
  createAccount(name: string, keyHash: string, createdAt: number): boolean {
    return this.#store.createAccount(name, keyHash, createdAt);
  }

  /** Replaces an account's key hash; false when there is no such account. */
  rekeyAccount(name: string, keyHash: string): boolean {
    return this.#store.rekeyAccount(name, keyHash);
  }

  override async alarm(): Promise<void> {
    const retention = seconds(
      this.env.PUNCH_AUDIT_RETENTION,
      'PUNCH_AUDIT_RETENTION',
      AUDIT_RETENTION_S,
    );
    this.#store.pruneAudit(Date.now() - retention * 1000);
    await this.ctx.storage.setAlarm(Date.now() + PRUNE_EVERY_MS);
  }
}
