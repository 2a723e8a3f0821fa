import { Hono, type Context } from 'hono';
import { routePath } from 'hono/route';
import { PunchError } from '../errors.js';
import { connectionStrings } from '../connect.js';
import { errorFields, type Logger } from '../logger.js';
import { generatePassphrase, randomId, type RandomBytes, webRandom } from '../passphrase.js';
import { authorize, coversStream } from '../permissions.js';
import type { LimitName, RateLimiter } from '../ratelimit.js';
import { qrSvg } from '../qr.js';
import { mountPages, type AssetReader } from './pages.js';
import { mountProjectApi, type ProjectApiDeps } from './projects.js';
import { streamPassphrase, type SessionRecord } from '../session/record.js';
import type { Room } from '../session/room.js';
import type { TokenClaims } from '../token/claims.js';
import { signToken, type KeyRing } from '../token/token.js';
import {
  CreateSessionBody,
  CreateTokenBody,
  ExtendSessionBody,
  MAX_TTL_DEFAULT,
  SetTallyBody,
  TTL_DEFAULT,
} from '../wire/http.js';
import { assertTtl, capacityError } from './capacity.js';
import { NameSchema } from '../wire/common.js';
import { authenticate, authenticateSession } from './auth.js';
import { readJson } from './body.js';
import { enforceLimit, routeLimit } from './limits.js';
import { problemResponse } from './problem.js';
import { buildOpenApi } from './openapi.js';

/** Where a host keeps its rooms. */
export interface RoomDirectory {
  get(id: string): Room | undefined;
  /** Creates and stores a room; undefined when the id is taken. */
  create(record: SessionRecord): Room | undefined;
  /**
   * True when the host holds as many live sessions as it may (`--max-sessions`): a new one is
   * refused with ERR_CAPACITY. Asked once per create, so it must be O(1) (a count, not a scan).
   */
  readonly full?: () => boolean;
}

export interface ApiDeps {
  readonly keys: KeyRing;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  readonly rooms: RoomDirectory;
  /** Per-IP limiters for the HTTP routes of ROUTE_LIMITS (upgrades are limited by the host). */
  readonly limits: Readonly<Record<Exclude<LimitName, 'connect' | 'message'>, RateLimiter>>;
  /** The longest session lifetime granted, seconds (`--max-ttl`); default MAX_TTL_DEFAULT. */
  readonly maxTtl?: number;
  /** The client's IP for this request (rate limits; auth-failure logs). */
  readonly clientIp: (req: Request, env: unknown) => string;
  /** Base URL clients should use (scheme://host[:port]), from the request or configuration. */
  readonly publicBase: (req: Request) => string;
  readonly log: Logger;
  readonly random?: RandomBytes;
  readonly onAuthFailure?: (code: string) => void;
  readonly authLogLimiter?: RateLimiter;
  readonly onRateLimited?: (limit: string) => void;
  /** Extra routes (metrics, health) the host mounts before the API's not-found handler. */
  readonly extend?: (app: Hono) => void;
  /** The built web app (dashboard and operator page); without it those pages answer 503. */
  readonly assets?: AssetReader;
  /** The projects realm (accounts, projects, keys, audit); absent on hosts without it. */
  readonly projects?: ProjectApiDeps;
  /**
   * What `/healthz` answers: ok, or why not (the Node host's storage failing). Absent: always
   * ok (Workers: Cloudflare watches its own storage).
   */
  readonly health?: () => HealthStatus;
}

/** Seconds a client is told to wait (`Retry-After`) after `/healthz` answered 503. */
export const HEALTH_RETRY_AFTER_S = 5;

/** `/healthz`'s answer: 200 `{ok: true}`, or 503 with the reason and since when (Unix seconds). */
export type HealthStatus =
  { readonly ok: true } | { readonly ok: false; readonly reason: string; readonly since: number };

type Ctx = Context;

/**
 * The sessions HTTP API of DESIGN.md as a Hono app: web standards only, so the Node host and
 * the Workers host serve the same routes with the same checks.
 *
 * @example
 * const app = createSessionApi(deps);
 * serve({ fetch: app.fetch, port: 8787 });
 */
export function createSessionApi(deps: ApiDeps): Hono {
  const app = new Hono();
  const random = deps.random ?? webRandom;
  const nowS = (): number => Math.floor(deps.now() / 1000);
  const maxTtl = deps.maxTtl ?? MAX_TTL_DEFAULT;

  const ipOf = (c: Ctx): string => deps.clientIp(c.req.raw, c.env);

  /** Counts the request against the limit its route has in the seed's table (ROUTE_LIMITS). */
  const limit = (c: Ctx): void => {
    const endpoint = `${c.req.method} ${routePath(c)}`;
    const name = routeLimit(endpoint);
    if (name === undefined || name === 'connect') return; // upgrades are limited by the host
    enforceLimit(deps.limits[name], ipOf(c), deps.now(), { endpoint, limit: name }, deps);
  };

  /** Authenticates for the session in the path and finds its room. */
  const session = async (c: Ctx): Promise<{ room: Room; claims: TokenClaims }> => {
    const id = c.req.param('id') ?? '';
    if (!NameSchema.safeParse(id).success) throw new PunchError('ERR_SESSION_NOT_FOUND');
    const { claims, room } = await authenticateSession(deps, c.req.raw.headers, id, {
      ip: ipOf(c),
      endpoint: `${c.req.method} ${routePath(c)}`,
    });
    return { room, claims };
  };

  const urls = (c: Ctx, id: string): { dashboard: string; api: string; ws: string } => {
    const base = deps.publicBase(c.req.raw);
    return {
      dashboard: `${base}/session/${id}`,
      api: `${base}/api/session/${id}`,
      ws: `${base.replace(/^http/, 'ws')}/api/session/${id}/ws`,
    };
  };

  app.onError((err, c) => {
    if (!(err instanceof PunchError)) {
      deps.log.error(
        { err: errorFields(err), endpoint: `${c.req.method} ${routePath(c)}` },
        'request failed',
      );
    }
    return problemResponse(err);
  });
  app.notFound(() => {
    throw new PunchError('ERR_NOT_FOUND');
  });

  app.get('/healthz', (c) => {
    const health = deps.health?.() ?? { ok: true };
    if (health.ok) return c.json(health, 200);
    // As ERR_STORAGE's answers say: the host probes its storage again within seconds.
    return c.json(health, 503, { 'retry-after': String(HEALTH_RETRY_AFTER_S) });
  });
  app.get('/api/openapi.json', (c) => c.json(buildOpenApi()));
  deps.extend?.(app);
  if (deps.assets !== undefined) mountPages(app, deps.assets);
  if (deps.projects !== undefined) {
    // The projects routes' auth failures share the sessions routes' log bounds by default.
    const { authLogLimiter } = deps;
    mountProjectApi(
      app,
      authLogLimiter === undefined ? deps.projects : { authLogLimiter, ...deps.projects },
    );
    app.get('/api/signal', () => {
      throw new PunchError(
        'ERR_UPGRADE_REQUIRED',
        'connect with a WebSocket client (Upgrade: websocket)',
      );
    });
  }

  app.post('/api/session', async (c) => {
    limit(c);
    // Before any signature check or body parse: a full server spends nothing on the request.
    if (deps.rooms.full?.() === true) {
      deps.log.warn({ ip: ipOf(c), bound: 'sessions' }, 'at capacity');
      throw capacityError('sessions');
    }
    if (c.req.header('authorization') !== undefined) {
      const { claims } = await authenticate(deps, c.req.raw.headers, undefined, {
        ip: ipOf(c),
        endpoint: 'POST /api/session',
      });
      authorize(claims, 'session.create');
    }
    const body = await readJson(c.req.raw, CreateSessionBody, {});
    assertTtl(body.ttl, maxTtl);
    const now = nowS();
    const record: SessionRecord = {
      id: body.name ?? `s-${randomId(6, random)}`,
      instance: randomId(10, random),
      streams: body.streams ?? ['main'],
      ...passphrasesFor(body.streams ?? ['main'], random),
      pbkeylen: body.pbkeylen ?? 32,
      latencyMs: body.latencyMs ?? 120,
      relay: body.relay ?? 'auto',
      createdAt: now,
      // A cap below the default lowers the default with it.
      expiresAt: now + (body.ttl ?? Math.min(TTL_DEFAULT, maxTtl)),
      tally: { program: [], preview: [] },
    };
    const room = deps.rooms.create(record);
    if (room === undefined)
      throw new PunchError('ERR_SESSION_EXISTS', `session "${record.id}" exists`);
    const token = await signToken(deps.keys, {
      session: record.id,
      role: 'admin',
      stream: null,
      exp: record.expiresAt,
      iat: now,
      sid: record.instance,
    });
    deps.log.info(
      { session: record.id, streams: record.streams.length, ttl: record.expiresAt - now },
      'session created',
    );
    return c.json(
      {
        session: record.id,
        token,
        expiresAt: record.expiresAt,
        streams: record.streams,
        relay: record.relay,
        urls: urls(c, record.id),
      },
      201,
    );
  });

  app.get('/api/session/:id', async (c) => {
    limit(c);
    const { room, claims } = await session(c);
    return c.json(room.view(claims));
  });

  app.patch('/api/session/:id', async (c) => {
    limit(c);
    const { room, claims } = await session(c);
    authorize(claims, 'session.close');
    const body = await readJson(c.req.raw, ExtendSessionBody);
    // Never shortens (DESIGN.md "Streams on show day"): asking for less than is left keeps the
    // end where it is, and still hands out a fresh admin token. Never past the lifetime cap
    // either: an extension is "at least until", so asking beyond the cap ends at the cap (the
    // answer's expiresAt says so) rather than failing a dashboard's "+30 min" near it.
    const expiresAt = Math.max(room.record.expiresAt, nowS() + Math.min(body.ttl, maxTtl));
    if (expiresAt > room.record.expiresAt) await room.extend(expiresAt);
    const token = await signToken(deps.keys, { ...claims, exp: expiresAt, iat: nowS() });
    deps.log.info({ session: room.id, ttl: body.ttl }, 'session extended');
    return c.json({ session: room.id, token, expiresAt });
  });

  app.delete('/api/session/:id', async (c) => {
    limit(c);
    const { room, claims } = await session(c);
    authorize(claims, 'session.close');
    room.close('closed');
    return c.body(null, 204);
  });

  app.post('/api/session/:id/tokens', async (c) => {
    limit(c);
    const { room, claims } = await session(c);
    authorize(claims, 'token.create');
    const body = await readJson(c.req.raw, CreateTokenBody);
    if (body.stream !== null) room.assertStream(body.stream);
    const now = nowS();
    const exp = Math.min(room.record.expiresAt, body.ttl === undefined ? Infinity : now + body.ttl);
    const token = await signToken(deps.keys, {
      session: room.id,
      role: 'peer',
      stream: body.stream,
      exp,
      iat: now,
      sid: room.record.instance,
    });
    const url = `${deps.publicBase(c.req.raw)}/s/${room.id}?t=${token}`;
    deps.log.info({ session: room.id, scoped: body.stream !== null }, 'peer token created');
    return c.json({ token, stream: body.stream, expiresAt: exp, url, qr: qrSvg(url) }, 201);
  });

  app.get('/api/session/:id/connect', async (c) => {
    limit(c);
    const { room, claims } = await session(c);
    authorize(claims, 'session.connect');
    const r = room.record;
    const server = deps.publicBase(c.req.raw);
    // IP privacy: with `always`, not even the producer's strings carry a peer's address.
    const endpointsOf = (name: string): ReturnType<typeof room.endpoints> =>
      r.relay === 'always' ? { sender: null, receiver: null } : room.endpoints(name);
    return c.json({
      // Older clients read this one: the first stream's. Each stream has its own below.
      passphrase: streamPassphrase(r, r.streams[0] ?? ''),
      pbkeylen: r.pbkeylen,
      latencyMs: r.latencyMs,
      streams: r.streams.map((name, index) => {
        const ep = endpointsOf(name);
        return {
          name,
          sender: ep.sender,
          receiver: ep.receiver,
          passphrase: streamPassphrase(r, name),
          rendezvousPort: 20000 + index,
          commands: connectionStrings({
            server,
            session: room.id,
            stream: name,
            index,
            passphrase: streamPassphrase(r, name),
            pbkeylen: r.pbkeylen,
            latencyMs: r.latencyMs,
            sender: ep.sender,
            receiver: ep.receiver,
          }),
        };
      }),
    });
  });

  app.put('/api/session/:id/tally', async (c) => {
    limit(c);
    const { room, claims } = await session(c);
    authorize(claims, 'tally.set');
    const body = await readJson(c.req.raw, SetTallyBody);
    room.setTally({ program: body.program, preview: body.preview }, body.source ?? null);
    return c.json(room.record.tally);
  });

  app.get('/api/session/:id/health', async (c) => {
    limit(c);
    const { room, claims } = await session(c);
    const stream = c.req.query('stream');
    const limitParam = Number(c.req.query('limit') ?? '600');
    const max = Number.isInteger(limitParam) && limitParam > 0 ? Math.min(limitParam, 3600) : 600;
    let streams: string[] | null;
    if (stream !== undefined) {
      // Authorise first: a peer must not learn which other stream names exist.
      authorize(claims, 'health.view.own', stream);
      room.assertStream(stream);
      streams = [stream];
    } else if (claims.role === 'admin') {
      authorize(claims, 'health.view.all');
      streams = null;
    } else if (claims.stream !== null) {
      streams = [claims.stream];
    } else {
      // A peer token for every stream still may not view all health at once (seed role table).
      authorize(claims, 'health.view.all');
      streams = null;
    }
    const visible = streams?.filter((s) => coversStream(claims, s)) ?? null;
    return c.json({ session: room.id, samples: room.healthHistory(visible, max) });
  });

  app.get('/api/session/:id/ws', async (c) => {
    await session(c);
    throw new PunchError(
      'ERR_UPGRADE_REQUIRED',
      'connect with a WebSocket client (Upgrade: websocket)',
    );
  });

  return app;
}

/**
 * A new session's passphrases: one per stream, each from its own random draw, the first also
 * as the session's (what a record without per-stream passphrases is read by).
 */
function passphrasesFor(
  streams: readonly string[],
  random: RandomBytes,
): { passphrase: string; passphrases: Record<string, string> } {
  const passphrases = Object.fromEntries(streams.map((s) => [s, generatePassphrase(random)]));
  return { passphrase: passphrases[streams[0] ?? ''] ?? generatePassphrase(random), passphrases };
}
