import type { Context, Hono } from 'hono';
import { routePath } from 'hono/route';
import { PunchError } from '../errors.js';
import type { Logger } from '../logger.js';
import { randomId, type RandomBytes, webRandom } from '../passphrase.js';
import { hashAccountKey, isAccountKey } from '../project/account.js';
import type { KeyDirectory } from '../project/directory.js';
import {
  algOf,
  generateProjectKey,
  keyId,
  parsePublicJwk,
  type KeyRecord,
  type PublicJwk,
} from '../project/keys.js';
import { keyRefused, verifyKeyProof } from '../project/proof.js';
import { importJWK } from 'jose';
import type { AccountRecord, ProjectRecord, ProjectStore } from '../project/store.js';
import type { RateLimiter } from '../ratelimit.js';
import { logFailure } from './auth.js';
import { enforceLimit } from './limits.js';
import { bearer } from '../token/token.js';
import { NameSchema } from '../wire/common.js';
import { AddMemberBody, CreateKeyBody, CreateProjectBody } from '../wire/projects.js';
import { readJson } from './body.js';

export interface ProjectApiDeps {
  readonly store: ProjectStore;
  readonly keys: KeyDirectory;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  readonly log: Logger;
  /** Per-IP limiter for every projects route (the seed's read limit). */
  readonly limiter: RateLimiter;
  readonly clientIp: (req: Request, env: unknown) => string;
  readonly random?: RandomBytes;
  readonly onAuthFailure?: (code: string) => void;
  /** Bounds the auth-failure log lines, as on the sessions routes (`AuthDeps`). */
  readonly authLogLimiter?: RateLimiter;
  readonly onRateLimited?: (limit: string) => void;
  /**
   * A key was deleted: close every live connection its tokens opened. Awaited before the
   * answer, so a host whose sockets live elsewhere (a Durable Object) closes them first.
   */
  readonly onKeyDeleted: (project: string, kid: string) => void | Promise<void>;
  /** A project was deleted: close all its connections (awaited, like `onKeyDeleted`). */
  /** The project and its keys are gone (`kids`: the keys it had): close its sockets. */
  readonly onProjectDeleted: (project: string, kids: readonly string[]) => void | Promise<void>;
}

type Ctx = Context;

/** A JWK of the right shape may still not be a key (an EC point off the curve): try it now. */
async function assertImportable(jwk: PublicJwk): Promise<void> {
  try {
    await importJWK(jwk, algOf(jwk));
  } catch (cause) {
    throw new PunchError('ERR_BAD_REQUEST', 'publicJwk: not a valid public key', { cause });
  }
}

const keyView = (k: KeyRecord): { kid: string; alg: string; createdAt: number } => ({
  kid: k.kid,
  alg: k.alg,
  createdAt: k.createdAt,
});

/**
 * The projects API of DESIGN.md ("Projects realm"): accounts authenticate with their `pa_` key;
 * only members may touch a project, and to anyone else a project does not exist (404).
 *
 * @example
 * mountProjectApi(app, { store, keys: new KeyDirectory(store), now: Date.now, log, limiter, … });
 */
export function mountProjectApi(app: Hono, deps: ProjectApiDeps): void {
  const random = deps.random ?? webRandom;
  const nowS = (): number => Math.floor(deps.now() / 1000);
  const ipOf = (c: Ctx): string => deps.clientIp(c.req.raw, c.env);
  const endpoint = (c: Ctx): string => `${c.req.method} ${routePath(c)}`;

  const account = async (c: Ctx): Promise<AccountRecord> => {
    // Every projects route counts against the read limit.
    enforceLimit(deps.limiter, ipOf(c), deps.now(), { endpoint: endpoint(c), limit: 'read' }, deps);
    const key = bearer(c.req.header('authorization') ?? null);
    let code: 'ERR_UNAUTHENTICATED' | 'ERR_ACCOUNT_KEY_INVALID' | undefined;
    let found: AccountRecord | undefined;
    if (key === undefined) code = 'ERR_UNAUTHENTICATED';
    else if (!isAccountKey(key)) code = 'ERR_ACCOUNT_KEY_INVALID';
    else {
      found = await deps.store.accountByKeyHash(await hashAccountKey(key));
      if (found === undefined) code = 'ERR_ACCOUNT_KEY_INVALID';
    }
    if (code !== undefined || found === undefined) {
      const err = new PunchError(
        code ?? 'ERR_ACCOUNT_KEY_INVALID',
        code === 'ERR_UNAUTHENTICATED' ? 'send Authorization: Bearer pa_…' : undefined,
      );
      logFailure(deps, { ip: ipOf(c), endpoint: endpoint(c) }, err.code);
      throw err;
    }
    return found;
  };

  /** The project in the path, when the caller is a member; ERR_PROJECT_NOT_FOUND otherwise. */
  const membership = async (c: Ctx): Promise<{ me: AccountRecord; project: ProjectRecord }> => {
    const me = await account(c);
    const id = c.req.param('id') ?? '';
    const project = await deps.store.project(id);
    if (project === undefined || !(await deps.store.isMember(id, me.name))) {
      throw new PunchError('ERR_PROJECT_NOT_FOUND');
    }
    return { me, project };
  };

  app.post('/api/projects', async (c) => {
    const me = await account(c);
    const body = await readJson(c.req.raw, CreateProjectBody);
    const project: ProjectRecord = {
      id: `pr-${randomId(8, random)}`,
      name: body.name,
      createdAt: nowS(),
    };
    await deps.store.createProject(project, me.name);
    deps.log.info({ project: project.id, account: me.name }, 'project created');
    return c.json({ ...project, members: [me.name] }, 201);
  });

  app.get('/api/projects', async (c) => {
    const me = await account(c);
    return c.json({ projects: await deps.store.projectsOf(me.name) });
  });

  app.get('/api/projects/:id', async (c) => {
    const { project } = await membership(c);
    const [members, keys] = await Promise.all([
      deps.store.members(project.id),
      deps.store.keys(project.id),
    ]);
    return c.json({ ...project, members, keys: keys.map(keyView) });
  });

  app.delete('/api/projects/:id', async (c) => {
    const { me, project } = await membership(c);
    const kids = await deps.store.deleteProject(project.id);
    for (const kid of kids) deps.keys.forget(kid);
    await deps.onProjectDeleted(project.id, kids);
    deps.log.info({ project: project.id, account: me.name }, 'project deleted');
    return c.body(null, 204);
  });

  app.get('/api/projects/:id/members', async (c) => {
    const { project } = await membership(c);
    return c.json({ members: await deps.store.members(project.id) });
  });

  app.post('/api/projects/:id/members', async (c) => {
    const { me, project } = await membership(c);
    const body = await readJson(c.req.raw, AddMemberBody);
    if ((await deps.store.account(body.account)) === undefined) {
      throw new PunchError('ERR_ACCOUNT_NOT_FOUND', `no account "${body.account}"`);
    }
    if (!(await deps.store.addMember(project.id, body.account))) {
      // Deleted while this request was under way (after the checks above): say which is gone.
      if ((await deps.store.project(project.id)) === undefined)
        throw new PunchError('ERR_PROJECT_NOT_FOUND');
      if ((await deps.store.account(body.account)) === undefined) {
        throw new PunchError('ERR_ACCOUNT_NOT_FOUND', `no account "${body.account}"`);
      }
      throw new PunchError('ERR_MEMBER_EXISTS', `"${body.account}" is a member already`);
    }
    deps.log.info({ project: project.id, account: me.name, member: body.account }, 'member added');
    return c.json({ project: project.id, account: body.account }, 201);
  });

  app.delete('/api/projects/:id/members/:account', async (c) => {
    const { me, project } = await membership(c);
    const name = c.req.param('account');
    const members = await deps.store.members(project.id);
    if (!NameSchema.safeParse(name).success || !members.includes(name)) {
      throw new PunchError('ERR_ACCOUNT_NOT_FOUND', `"${name}" is not a member`);
    }
    if (members.length === 1) {
      throw new PunchError('ERR_LAST_MEMBER', 'delete the project instead of its last member');
    }
    await deps.store.removeMember(project.id, name);
    deps.log.info({ project: project.id, account: me.name, member: name }, 'member removed');
    return c.body(null, 204);
  });

  app.post('/api/projects/:id/keys', async (c) => {
    const { me, project } = await membership(c);
    const body = await readJson(c.req.raw, CreateKeyBody, {});
    let record: KeyRecord;
    let privateJwk: unknown;
    if (body.publicJwk !== undefined) {
      const publicJwk = parsePublicJwk(body.publicJwk);
      await assertImportable(publicJwk);
      // Proof of possession: only the private key's holder may register its public half.
      await verifyKeyProof(body.proof, { publicJwk, project: project.id, now: deps.now() });
      record = {
        kid: await keyId(publicJwk),
        project: project.id,
        alg: algOf(publicJwk),
        publicJwk,
        createdAt: nowS(),
      };
    } else {
      const made = await generateProjectKey(body.alg ?? 'EdDSA');
      record = {
        kid: made.kid,
        project: project.id,
        alg: made.alg,
        publicJwk: made.publicJwk,
        createdAt: nowS(),
      };
      // `project` rides along so mintPeerToken can set `aud` from the key file alone.
      privateJwk = { ...made.privateJwk, project: project.id };
    }
    // Registered here, elsewhere, or deleted once: the same answer as a bad proof, so an upload
    // never tells whether a public key is known to another project.
    const added = await deps.store.addKey(record);
    // Deleted while this upload was under way (after the membership check): it is gone.
    if (added === 'project-gone') throw new PunchError('ERR_PROJECT_NOT_FOUND');
    if (added === 'exists') throw keyRefused();
    deps.log.info(
      {
        project: project.id,
        account: me.name,
        kid: record.kid,
        alg: record.alg,
        generated: privateJwk !== undefined,
      },
      'key added',
    );
    return c.json(
      privateJwk === undefined ? keyView(record) : { ...keyView(record), privateJwk },
      201,
    );
  });

  app.get('/api/projects/:id/keys', async (c) => {
    const { project } = await membership(c);
    return c.json({ keys: (await deps.store.keys(project.id)).map(keyView) });
  });

  app.delete('/api/projects/:id/keys/:kid', async (c) => {
    const { me, project } = await membership(c);
    const kid = c.req.param('kid');
    if (!(await deps.store.deleteKey(project.id, kid))) {
      throw new PunchError('ERR_KEY_NOT_FOUND', `no key ${kid} in this project`);
    }
    // Forget it before answering: from now on no token it signed verifies, and live sockets close.
    deps.keys.forget(kid);
    await deps.onKeyDeleted(project.id, kid);
    deps.log.info({ project: project.id, account: me.name, kid }, 'key deleted');
    return c.body(null, 204);
  });

  app.get('/api/projects/:id/jwks', async (c) => {
    const { project } = await membership(c);
    const keys = await deps.store.keys(project.id);
    return c.json({
      keys: keys.map((k) => ({ ...k.publicJwk, kid: k.kid, alg: k.alg, use: 'sig' })),
    });
  });

  app.get('/api/projects/:id/audit', async (c) => {
    const { project } = await membership(c);
    const since = Number(c.req.query('since') ?? 'NaN');
    const limitParam = Number(c.req.query('limit') ?? '500');
    const limit = Number.isInteger(limitParam) && limitParam > 0 ? Math.min(limitParam, 5000) : 500;
    const events = await deps.store.audit(
      project.id,
      Number.isFinite(since) ? { since, limit } : { limit },
    );
    return c.json({
      project: project.id,
      events: events.map((e) => ({
        at: e.at,
        kind: e.kind,
        from: e.from,
        to: e.to,
        outcome: e.outcome,
      })),
    });
  });
}
