import type { AuditEvent } from '../signal/audit.js';
import type { KeyRecord } from './keys.js';

export interface AccountRecord {
  /** The account's name (one account per person), e.g. `ada`. */
  readonly name: string;
  /** Unix seconds. */
  readonly createdAt: number;
}

/** What storing a key did: stored it, found its kid taken, or found its project deleted. */
export type AddKeyResult = 'added' | 'exists' | 'project-gone';

export interface ProjectRecord {
  readonly id: string;
  readonly name: string;
  /** Unix seconds. */
  readonly createdAt: number;
}

/**
 * Where a host keeps accounts, projects, members, keys and the audit log. Async throughout so
 * a remote store (D1, a Durable Object) fits as well as SQLite.
 */
export interface ProjectStore {
  /** The account whose API key hashes to `keyHash`. */
  accountByKeyHash(keyHash: string): Promise<AccountRecord | undefined>;
  account(name: string): Promise<AccountRecord | undefined>;
  /** Creates a project with `owner` as its first member. */
  createProject(project: ProjectRecord, owner: string): Promise<void>;
  project(id: string): Promise<ProjectRecord | undefined>;
  projectsOf(account: string): Promise<ProjectRecord[]>;
  /**
   * Deletes the project with its members, keys and audit log; returns the deleted kids (which,
   * as with deleteKey, are never accepted again).
   */
  deleteProject(id: string): Promise<string[]>;
  members(project: string): Promise<string[]>;
  isMember(project: string, account: string): Promise<boolean>;
  /** False when the account is a member already. */
  /** False when the account is a member already, or the project or the account is gone. */
  addMember(project: string, account: string): Promise<boolean>;
  /** False when the account was not a member. */
  removeMember(project: string, account: string): Promise<boolean>;
  /**
   * `exists` when a key with this kid exists (in any project); `project-gone` when the key's
   * project no longer exists (deleted since the caller looked it up).
   */
  addKey(key: KeyRecord): Promise<AddKeyResult>;
  key(kid: string): Promise<KeyRecord | undefined>;
  keys(project: string): Promise<KeyRecord[]>;
  /** False when the project has no such key. Its kid is remembered: never accepted again. */
  deleteKey(project: string, kid: string): Promise<boolean>;
  appendAudit(event: AuditEvent): void;
  /** Events newest first, at most `limit`, optionally only those at or after `since` (ms). */
  audit(project: string, options: { since?: number; limit: number }): Promise<AuditEvent[]>;
}
