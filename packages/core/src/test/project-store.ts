/**
 * A `ProjectStore` in memory, for tests that drive the projects API without SQLite (the SQL
 * store itself is tested on real SQLite in packages/node). Used only by tests.
 */
import type { KeyRecord } from '../project/keys.js';
import type { AccountRecord, AddKeyResult, ProjectRecord, ProjectStore } from '../project/store.js';
import type { AuditEvent } from '../signal/audit.js';

export class MemoryProjectStore implements ProjectStore {
  readonly accounts = new Map<string, { record: AccountRecord; keyHash: string }>();
  readonly projects = new Map<string, { record: ProjectRecord; members: Set<string> }>();
  readonly keyRecords = new Map<string, KeyRecord>();
  readonly events: AuditEvent[] = [];

  addAccount(name: string, keyHash: string, createdAt = 0): void {
    this.accounts.set(name, { record: { name, createdAt }, keyHash });
  }
  accountByKeyHash(keyHash: string): Promise<AccountRecord | undefined> {
    const found = [...this.accounts.values()].find((a) => a.keyHash === keyHash);
    return Promise.resolve(found?.record);
  }
  account(name: string): Promise<AccountRecord | undefined> {
    return Promise.resolve(this.accounts.get(name)?.record);
  }
  createProject(project: ProjectRecord, owner: string): Promise<void> {
    this.projects.set(project.id, { record: project, members: new Set([owner]) });
    return Promise.resolve();
  }
  project(id: string): Promise<ProjectRecord | undefined> {
    return Promise.resolve(this.projects.get(id)?.record);
  }
  projectsOf(account: string): Promise<ProjectRecord[]> {
    const mine = [...this.projects.values()].filter((p) => p.members.has(account));
    return Promise.resolve(mine.map((p) => p.record));
  }
  deleteProject(id: string): Promise<string[]> {
    this.projects.delete(id);
    const kids = [...this.keyRecords.values()].filter((k) => k.project === id).map((k) => k.kid);
    for (const kid of kids) this.keyRecords.delete(kid);
    return Promise.resolve(kids);
  }
  members(project: string): Promise<string[]> {
    return Promise.resolve([...(this.projects.get(project)?.members ?? [])]);
  }
  isMember(project: string, account: string): Promise<boolean> {
    return Promise.resolve(this.projects.get(project)?.members.has(account) ?? false);
  }
  addMember(project: string, account: string): Promise<boolean> {
    const p = this.projects.get(project);
    if (p === undefined || p.members.has(account)) return Promise.resolve(false);
    p.members.add(account);
    return Promise.resolve(true);
  }
  removeMember(project: string, account: string): Promise<boolean> {
    return Promise.resolve(this.projects.get(project)?.members.delete(account) ?? false);
  }
  addKey(key: KeyRecord): Promise<AddKeyResult> {
    if (!this.projects.has(key.project)) return Promise.resolve('project-gone');
    if (this.keyRecords.has(key.kid)) return Promise.resolve('exists');
    this.keyRecords.set(key.kid, key);
    return Promise.resolve('added');
  }
  key(kid: string): Promise<KeyRecord | undefined> {
    return Promise.resolve(this.keyRecords.get(kid));
  }
  keys(project: string): Promise<KeyRecord[]> {
    return Promise.resolve([...this.keyRecords.values()].filter((k) => k.project === project));
  }
  deleteKey(project: string, kid: string): Promise<boolean> {
    const k = this.keyRecords.get(kid);
    if (k?.project !== project) return Promise.resolve(false);
    this.keyRecords.delete(kid);
    return Promise.resolve(true);
  }
  appendAudit(event: AuditEvent): void {
    this.events.push(event);
  }
  audit(project: string, options: { since?: number; limit: number }): Promise<AuditEvent[]> {
    const since = options.since ?? -Infinity;
    const mine = this.events.filter((e) => e.project === project && e.at >= since);
    return Promise.resolve(mine.slice(-options.limit));
  }
}
