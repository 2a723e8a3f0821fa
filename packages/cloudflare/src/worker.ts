import {
  errorFields,
  CreateSessionBody,
  KeyDirectory,
  NameSchema,
  SIGNAL_PATH,
  PunchError,
  AuthLogLimiter,
  assertTtl,
  authenticate,
  bearer,
  logFailure,
  createSessionApi,
  enforceLimit,
  isSignalPath,
  parseSessionPath,
  routeLimit,
  routeLimiters,
  hashAccountKey,
  newAccountKey,
  problemResponse,
  readJson,
  randomId,
  utf8,
  type Logger,
  type RouteLimiters,
} from '@punch/core';
import { z } from 'zod';
import { directory, directoryStore } from './directory-client.js';
import { verifyPeer } from './peers.js';
import type { Hono } from 'hono';
import { assetReader } from './assets.js';
import { clientIp, keyRing, limitConfig, maxTtl, publicBase, type Env } from './env.js';
import { consoleLogger } from './log.js';
import { turnSource } from './turn-config.js';

export { SessionObject } from './session-object.js';
export { DirectoryObject } from './directory-object.js';
export { SignalObject } from './signal-object.js';

/**
 * Per-isolate edge state: rate limiters (the seed's limits, enforced here before a request
 * reaches a Durable Object) and the app that answers what no session owns.
 */
interface Edge {
  readonly limits: RouteLimiters;
  readonly authLog: AuthLogLimiter;
  readonly log: Logger;
  app?: Hono;
}
const edges = new WeakMap<Env, Edge>();

function edgeOf(env: Env): Edge {
  let e = edges.get(env);
  if (e === undefined) {
    e = {
      limits: routeLimiters(limitConfig(env)),
      authLog: new AuthLogLimiter(),
      log: consoleLogger('edge'),
    };
    edges.set(env, e);
  }
  return e;
}

/**
 * The Worker: authenticates (stateless HMAC), rate-limits and routes each session's requests to
 * its own Durable Object; serves health, the API description and the web pages itself.
 */
export default {
  async fetch(req: Request, env: Env): Promise<Response> {
    try {
      return await route(req, env);
    } catch (err) {
      if (!(err instanceof PunchError)) {
        edgeOf(env).log.error({ err: errorFields(err) }, 'request failed');
      }
      return problemResponse(err);
    }
  },
} satisfies ExportedHandler<Env>;

async function route(req: Request, env: Env): Promise<Response> {
  const url = new URL(req.url);
  const edge = edgeOf(env);
  // A half-configured TURN fails every request, with the fix in the answer and in the log,
  // rather than sessions quietly getting no relay.
  turnSource(env, edge.log);
  const ip = clientIp(req);
  // The seed's limits, by core's route table, before any Durable Object wakes.
  const limit = (endpoint: string): void => {
    const name = routeLimit(endpoint);
    if (name === undefined) return;
    enforceLimit(edge.limits[name], ip, Date.now(), { endpoint, limit: name }, edge);
  };
  const auth = async (session: string | undefined, endpoint: string, ws = false) =>
    authenticate(
      {
        keys: await keyRing(env),
        now: () => Date.now(),
        log: edge.log,
        authLogLimiter: edge.authLog,
      },
      req.headers,
      session,
      { ip, endpoint },
      ws,
    );

  if (url.pathname === '/api/session' && req.method === 'POST') {
    limit('POST /api/session');
    if (req.headers.get('authorization') !== null) await auth(undefined, 'POST /api/session');
    // The session's name picks its Durable Object: a request without one gets one here.
    const body = await readJson(req, CreateSessionBody, {});
    // Refused here, before an object wakes; the object checks again (and on PATCH).
    assertTtl(body.ttl, maxTtl(env));
    const name = body.name ?? `s-${randomId(6)}`;
    const headers = new Headers(req.headers);
    headers.delete('content-length'); // the body changed
    const forwarded = new Request(req.url, {
      method: 'POST',
      headers,
      body: JSON.stringify({ ...body, name }),
    });
    return stub(env, name).fetch(forwarded);
  }

  if (isSignalPath(url.pathname) && req.headers.get('upgrade')?.toLowerCase() === 'websocket') {
    limit(`GET ${SIGNAL_PATH}`);
    // The token names the project, and so its room; the room verifies it again (a key deleted
    // between the two is refused there).
    const identity = await verifyPeer(env, req.headers, ip, edge.log);
    return signalRoom(env, identity.project).fetch(req);
  }

  if (url.pathname === '/api/accounts' && req.method === 'POST') {
    limit('POST /api/accounts');
    return createAccount(req, env, edge, ip);
  }

  const path = parseSessionPath(req.method, url.pathname);
  if (path !== undefined) {
    const { id, sub, endpoint } = path;
    if (id === undefined) throw new PunchError('ERR_SESSION_NOT_FOUND');
    limit(endpoint);
    // Bad tokens stop here, before any Durable Object wakes; the object checks the instance.
    await auth(id, endpoint, sub === '/ws');
    return stub(env, id).fetch(req);
  }

  edge.app ??= createSessionApi({
    keys: await keyRing(env),
    now: () => Date.now(),
    log: edge.log,
    limits: edge.limits,
    clientIp: (r) => clientIp(r),
    publicBase: (r) => publicBase(env, r),
    rooms: { get: () => undefined, create: () => undefined },
    ...(env.ASSETS === undefined ? {} : { assets: assetReader(env.ASSETS) }),
    projects: projectDeps(env, edge),
  });
  return edge.app.fetch(req);
}

function stub(env: Env, session: string): DurableObjectStub {
  return env.SESSIONS.get(env.SESSIONS.idFromName(session));
}

/** A project's signalling room object, with the RPC the Worker calls on deletions. */
function signalRoom(
  env: Env,
  project: string,
): DurableObjectStub & { closeKey(kid: string): Promise<number>; closeAll(): Promise<void> } {
  return env.SIGNALS.get(env.SIGNALS.idFromName(project)) as unknown as DurableObjectStub & {
    closeKey(kid: string): Promise<number>;
    closeAll(): Promise<void>;
  };
}

/** The projects API's dependencies on Workers: the directory object and the rooms' RPC. */
function projectDeps(
  env: Env,
  edge: Edge,
): NonNullable<Parameters<typeof createSessionApi>[0]['projects']> {
  const store = directoryStore(env, edge.log);
  return {
    store,
    // Only `forget` is used by the API; verification builds a fresh directory per upgrade.
    keys: new KeyDirectory(store),
    now: () => Date.now(),
    log: edge.log,
    limiter: edge.limits.read,
    authLogLimiter: edge.authLog,
    clientIp: (r) => clientIp(r),
    onKeyDeleted: async (project, kid) => {
      const closed = await retried(() => signalRoom(env, project).closeKey(kid));
      if (closed > 0) edge.log.info({ project, kid, closed }, 'key deleted: connections closed');
    },
    onProjectDeleted: async (project) => {
      await retried(() => signalRoom(env, project).closeAll());
    },
  };
}

/**
 * Retries a call to another object a few times: the key or project is already gone from the
 * directory when its room is told, so a transient failure must not leave sockets open.
 */
async function retried<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (attempt >= 3) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}

const AccountBody = z.object({ name: NameSchema }).strict();

/**
 * `POST /api/accounts {name}` with the operator's key (PUNCH_OPERATOR_KEY): the Workers
 * counterpart of `punch account create` on a Node data directory. The account's `pa_` key is in
 * the answer this once; the directory keeps only its hash.
 */
async function createAccount(req: Request, env: Env, edge: Edge, ip: string): Promise<Response> {
  const log = edge.log;
  const operator = env.PUNCH_OPERATOR_KEY;
  if (operator === undefined || operator === '') throw new PunchError('ERR_NOT_FOUND');
  if (utf8(operator).byteLength < 32)
    throw new PunchError(
      'ERR_INTERNAL',
      'PUNCH_OPERATOR_KEY must be at least 32 bytes: `openssl rand -base64 32 | wrangler secret put PUNCH_OPERATOR_KEY`',
    );
  const given = bearer(req.headers.get('authorization')) ?? '';
  if (!(await sameSecret(given, operator))) {
    logFailure(
      { now: () => Date.now(), log, authLogLimiter: edge.authLog },
      { ip, endpoint: 'POST /api/accounts' },
      'ERR_UNAUTHENTICATED',
    );
    throw new PunchError('ERR_UNAUTHENTICATED', 'send the operator key as a bearer token');
  }
  const { name } = await readJson(req, AccountBody);
  const key = newAccountKey();
  const created = await directory(env).createAccount(
    name,
    await hashAccountKey(key),
    Math.floor(Date.now() / 1000),
  );
  if (!created) throw new PunchError('ERR_ACCOUNT_EXISTS', `account "${name}" exists`);
  log.info({ account: name }, 'account created');
  return new Response(JSON.stringify({ account: name, key }), {
    status: 201,
    headers: { 'content-type': 'application/json' },
  });
}

/** Compares two secrets in constant time (their SHA-256 digests, byte by byte, to the end). */
async function sameSecret(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([
    crypto.subtle.digest('SHA-256', utf8(a)),
    crypto.subtle.digest('SHA-256', utf8(b)),
  ]);
  const p = new Uint8Array(x);
  const q = new Uint8Array(y);
  let diff = 0;
  for (let i = 0; i < p.length; i++) diff |= (p[i] ?? 0) ^ (q[i] ?? 0);
  return diff === 0;
}
