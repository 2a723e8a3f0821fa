import {
  errorFields,
  type AccountRecord,
  type AuditEvent,
  type KeyRecord,
  type Logger,
  type ProjectRecord,
  type ProjectStore,
} from '@punch/core';
import type { Env } from './env.js';

/** The directory object's RPC surface, as a caller sees it (every call is a promise). */
export interface DirectoryRpc extends Omit<ProjectStore, 'appendAudit'> {
  appendAudit(event: AuditEvent): Promise<void>;
  createAccount(name: string, keyHash: string, createdAt: number): Promise<boolean>;
  rekeyAccount(name: string, keyHash: string): Promise<boolean>;
}

/** The one directory object (see DirectoryObject for why one). */
export function directory(env: Env): DirectoryRpc {
  return env.DIRECTORY.get(env.DIRECTORY.idFromName('directory')) as unknown as DirectoryRpc;
}

/**
 * Core's `ProjectStore` over the directory object: what the projects API and token
 * verification use on Workers. Nothing is cached here: every isolate asks the object, so a
 * deleted key is refused everywhere at once. Each call takes a fresh stub: a stub belongs to
 * the request that made it, and this store outlives requests.
 */
export function directoryStore(env: Env, log: Logger): ProjectStore {
  const d = new Proxy({} as DirectoryRpc, {
    get:
      (_target, method: keyof DirectoryRpc) =>
      (...args: unknown[]): unknown =>
        (directory(env)[method] as (...a: unknown[]) => unknown)(...args),
  });
  return {
    accountByKeyHash: (h: string): Promise<AccountRecord | undefined> => d.accountByKeyHash(h),
    account: (name: string) => d.account(name),
    createProject: (p: ProjectRecord, owner: string) => d.createProject(p, owner),
    project: (id: string) => d.project(id),
    projectsOf: (account: string) => d.projectsOf(account),
    deleteProject: (id: string) => d.deleteProject(id),
    members: (project: string) => d.members(project),
    isMember: (project: string, account: string) => d.isMember(project, account),
    addMember: (project: string, account: string) => d.addMember(project, account),
    removeMember: (project: string, account: string) => d.removeMember(project, account),
    addKey: (key: KeyRecord) => d.addKey(key),
    key: (kid: string) => d.key(kid),
    keys: (project: string) => d.keys(project),
    deleteKey: (project: string, kid: string) => d.deleteKey(project, kid),
    // Fire and forget, as the room's audit sink is: a failed write is logged, never thrown
    // into the relay.
    appendAudit: (event: AuditEvent) => {
      d.appendAudit(event).catch((err: unknown) => {
        log.error({ project: event.project, err: errorFields(err) }, 'audit write failed');
      });
    },
    audit: (project: string, options: { since?: number; limit: number }) =>
      d.audit(project, options),
  };
}
