import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AUTH_LOG_PER_IP,
  AuthLogLimiter,
  KeyDirectory,
  RateLimiter,
  generateProjectKey,
  hashAccountKey,
  mountProjectApi,
  newAccountKey,
  problemResponse,
  silentLogger,
  type KeyRecord,
  type Logger,
  type ProjectStore,
} from '@punch/core';
import { SqliteProjectStore } from './project-store.js';

// Core's project store on the Node host's real SQLite, foreign keys enforced: the key-upload /
// project-deletion race, with the deletion forced in between the membership check and the insert.

let dir: string;
let store: SqliteProjectStore;
const apiKey = newAccountKey();
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'punch-projects-'));
  store = new SqliteProjectStore(join(dir, 'punch.sqlite'));
  expect(store.createAccount('ada', await hashAccountKey(apiKey), 0)).toBe(true);
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The projects API over `over`, answering errors as the hosts do. */
function projectApi(
  over: ProjectStore,
  extra: { log?: Logger; authLogLimiter?: RateLimiter } = {},
): Hono {
  const app = new Hono();
  app.onError((err) => problemResponse(err));
  mountProjectApi(app, {
    store: over,
    keys: new KeyDirectory(store),
    now: () => 1_000_000,
    log: silentLogger,
    limiter: new RateLimiter({ limit: 1000, windowMs: 60_000 }),
    clientIp: () => '192.0.2.1',
    onKeyDeleted: () => undefined,
    onProjectDeleted: () => undefined,
    ...extra,
  });
  return app;
}

async function keyFor(project: string): Promise<KeyRecord> {
  const made = await generateProjectKey('EdDSA');
  return { kid: made.kid, project, alg: made.alg, publicJwk: made.publicJwk, createdAt: 1 };
}

describe('SqliteProjectStore.addKey', () => {
  it('stores a key, then finds its kid taken', async () => {
    await store.createProject({ id: 'pr-a', name: 'a', createdAt: 0 }, 'ada');
    const key = await keyFor('pr-a');
    expect(await store.addKey(key)).toBe('added');
    expect(await store.addKey(key)).toBe('exists');
  });

  it('answers project-gone, and stores nothing, when the project was deleted', async () => {
    await store.createProject({ id: 'pr-a', name: 'a', createdAt: 0 }, 'ada');
    await store.deleteProject('pr-a');
    const key = await keyFor('pr-a');
    expect(await store.addKey(key)).toBe('project-gone');
    expect(await store.key(key.kid)).toBeUndefined();
  });
});

describe('POST /api/projects/:id/keys racing DELETE /api/projects/:id', () => {
  it('answers 404 ERR_PROJECT_NOT_FOUND when the project goes after the membership check', async () => {
    await store.createProject({ id: 'pr-a', name: 'a', createdAt: 0 }, 'ada');
    // The deletion lands right after the route has checked membership, before it stores the key.
    const isMember: ProjectStore['isMember'] = async (project, account) => {
      const member = await store.isMember(project, account);
      await store.deleteProject(project);
      return member;
    };
    const racing = new Proxy(store, {
      get: (target, name) => {
        if (name === 'isMember') return isMember;
        const value: unknown = Reflect.get(target, name);
        return typeof value === 'function'
          ? (value as (...args: unknown[]) => unknown).bind(target)
          : value;
      },
    });
    const app = projectApi(racing);
    const res = await app.request('/api/projects/pr-a/keys', {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ alg: 'EdDSA' }),
    });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { code: string }).code).toBe('ERR_PROJECT_NOT_FOUND');
    expect(await store.keys('pr-a')).toEqual([]);
  });
});

describe('POST /api/projects/:id/members racing DELETE /api/projects/:id', () => {
  it('answers 404 ERR_PROJECT_NOT_FOUND, adds nothing, when the project goes after the checks', async () => {
    await store.createProject({ id: 'pr-a', name: 'a', createdAt: 0 }, 'ada');
    expect(store.createAccount('bob', await hashAccountKey(newAccountKey()), 0)).toBe(true);
    // The deletion lands right after the route has checked the new member's account.
    const account: ProjectStore['account'] = async (name) => {
      const found = await store.account(name);
      if (name === 'bob') await store.deleteProject('pr-a');
      return found;
    };
    const racing = new Proxy(store, {
      get: (target, name) => {
        if (name === 'account') return account;
        const value: unknown = Reflect.get(target, name);
        return typeof value === 'function'
          ? (value as (...args: unknown[]) => unknown).bind(target)
          : value;
      },
    });
    const res = await projectApi(racing).request('/api/projects/pr-a/members', {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ account: 'bob' }),
    });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { code: string }).code).toBe('ERR_PROJECT_NOT_FOUND');
    expect(await store.members('pr-a')).toEqual([]);
  });
});

describe('projects routes: auth failures', () => {
  it('are logged within the auth-log bounds, like the sessions routes', async () => {
    const warned: Record<string, unknown>[] = [];
    const log: Logger = { ...silentLogger, warn: (fields) => warned.push(fields) };
    const app = projectApi(store, { log, authLogLimiter: new AuthLogLimiter() });
    for (let i = 0; i < AUTH_LOG_PER_IP.limit + 10; i++) {
      const res = await app.request('/api/projects', {
        headers: { authorization: `Bearer ${newAccountKey()}` },
      });
      expect(res.status).toBe(401);
    }
    expect(warned).toHaveLength(AUTH_LOG_PER_IP.limit);
    expect(warned[0]).toEqual({
      ip: '192.0.2.1',
      endpoint: 'GET /api/projects',
      code: 'ERR_ACCOUNT_KEY_INVALID',
    });
  });
});
