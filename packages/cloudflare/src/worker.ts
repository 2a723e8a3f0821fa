import {
  CreateSessionBody,
  NameSchema,
  PunchError,
  RateLimiter,
  authenticate,
  createSessionApi,
  problemResponse,
  readJson,
  randomId,
  type LimitConfig,
  type Logger,
} from '@punch/core';
import type { Hono } from 'hono';
import { assetReader } from './assets.js';
import { clientIp, keyRing, limitConfig, publicBase, type Env } from './env.js';
import { consoleLogger } from './log.js';

export { SessionObject } from './session-object.js';

const SESSION_PATH = /^\/api\/session\/([^/]+)(\/[a-z]+)?$/;

/**
 * Per-isolate edge state: rate limiters (the seed's limits, enforced here before a request
 * reaches a Durable Object) and the app that answers what no session owns.
 */
interface Edge {
  readonly limits: {
    readonly create: RateLimiter;
    readonly read: RateLimiter;
    readonly connect: RateLimiter;
  };
  readonly authLog: RateLimiter;
  readonly log: Logger;
  app?: Hono;
}
const edges = new WeakMap<Env, Edge>();

function edgeOf(env: Env): Edge {
  let e = edges.get(env);
  if (e === undefined) {
    const l: LimitConfig = limitConfig(env);
    e = {
      limits: {
        create: new RateLimiter(l.create),
        read: new RateLimiter(l.read),
        connect: new RateLimiter(l.connect),
      },
      authLog: new RateLimiter({ limit: 20, windowMs: 60_000 }),
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
        edgeOf(env).log.error(
          { err: err instanceof Error ? err.name : 'unknown' },
          'request failed',
        );
      }
      return problemResponse(err);
    }
  },
} satisfies ExportedHandler<Env>;

async function route(req: Request, env: Env): Promise<Response> {
  const url = new URL(req.url);
  const edge = edgeOf(env);
  const ip = clientIp(req);
  const limit = (name: 'create' | 'read' | 'connect', endpoint: string): void => {
    const d = edge.limits[name].take(ip, Date.now());
    if (d.ok) return;
    edge.log.warn({ ip, endpoint, limit: name }, 'rate limited');
    throw new PunchError('ERR_RATE_LIMITED', `too many requests; retry in ${d.retryAfter} s`, {
      retryAfter: d.retryAfter,
    });
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
    limit('create', 'POST /api/session');
    if (req.headers.get('authorization') !== null) await auth(undefined, 'POST /api/session');
    // The session's name picks its Durable Object: a request without one gets one here.
    const body = await readJson(req, CreateSessionBody, {});
    const name = body.name ?? `s-${randomId(6)}`;
    const forwarded = new Request(req.url, {
      method: 'POST',
      headers: req.headers,
      body: JSON.stringify({ ...body, name }),
    });
    return stub(env, name).fetch(forwarded);
  }

  const m = SESSION_PATH.exec(url.pathname);
  if (m !== null) {
    const id = decodeURIComponent(m[1] ?? '');
    const sub = m[2] ?? '';
    if (!NameSchema.safeParse(id).success) throw new PunchError('ERR_SESSION_NOT_FOUND');
    const upgrade = req.headers.get('upgrade')?.toLowerCase() === 'websocket';
    const endpoint = `${req.method} /api/session/:id${sub}`;
    if (sub === '/ws' && upgrade) limit('connect', endpoint);
    else if (req.method === 'GET' && ['', '/connect', '/health'].includes(sub))
      limit('read', endpoint);
    // Bad tokens stop here, before any Durable Object wakes; the object checks the instance.
    await auth(id, endpoint, sub === '/ws');
    return stub(env, id).fetch(req);
  }

  edge.app ??= createSessionApi({
    keys: await keyRing(env),
    now: () => Date.now(),
    log: edge.log,
    limits: { create: edge.limits.create, read: edge.limits.read },
    clientIp: (r) => clientIp(r),
    publicBase: (r) => publicBase(env, r),
    rooms: { get: () => undefined, create: () => undefined },
    ...(env.ASSETS === undefined ? {} : { assets: assetReader(env.ASSETS) }),
  });
  return edge.app.fetch(req);
}

function stub(env: Env, session: string): DurableObjectStub {
  return env.SESSIONS.get(env.SESSIONS.idFromName(session));
}
