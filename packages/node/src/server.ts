import { clientIpOf, hostName, publicBaseOf } from './addressing.js';
import { DEFAULT_WEB_ROOT, diskAssets } from './assets.js';
import { mkdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, Server } from 'node:http';
import { join } from 'node:path';
import { getRequestListener } from '@hono/node-server';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import {
  AUDIT_RETENTION_S,
  AuthLogLimiter,
  BindRegistry,
  KeyDirectory,
  KeyRing,
  RATE_LIMITS,
  Revocations,
  Room,
  createRoom,
  createSessionApi,
  routeLimiters,
  verifyPeerToken,
  signToken,
  type LimitConfig,
  type Logger,
  type SessionRecord,
  type TurnConfig,
  turnRestCredentials,
  type RelayRequest,
} from '@punch/core';
import { Capacity, type CapacityOptions } from './capacity.js';
import { ListenError } from './listen-error.js';
import { createLogger, type LogLevel } from './logger.js';
import { createMetrics } from './metrics.js';
import { loadSecrets } from './secret.js';
import { RoomTimers } from './room-timers.js';
import { SignalRooms } from './signal-rooms.js';
import { openStores, type SqliteProjectStore, type SqliteStore } from './stores.js';
import { startStunServer } from './stun-server.js';
import { relaySecret, type RelayOptions } from './turn/config.js';
import type { TurnServer } from './turn/server.js';
import { startStunAndRelay } from './turn/start.js';
import type { TurnTcpListener } from './turn/tcp-listener.js';
import { turnConfigFor } from './turn/urls.js';
import { WsEndpoint } from './ws.js';

export interface ServeOptions {
  /** Interface to listen on (HTTP and STUN). Default 0.0.0.0. */
  readonly host?: string;
  /** HTTP port; 0 picks a free one. Default 8787. */
  readonly port?: number;
  /** STUN UDP port; 0 picks a free one; null turns STUN off. Default 3478. */
  readonly stunPort?: number | null;
  /**
   * The TURN relay on the STUN port (needs STUN on); null turns it off. Its secret is
   * PUNCH_TURN_SECRET (or `turn.secret`), else derived from the signing secret. Default on.
   */
  readonly relay?: RelayOptions | null;
  /** Where SQLite and the generated secret live. Default ./punch-data. */
  readonly dataDir?: string;
  /** Host name handed to agents for STUN (`registered.bind.host`); default: the host the client used. */
  readonly publicHost?: string;
  /** Base URL for links (`urls`, `/s/:id?t=`); default: scheme and Host of the request. */
  readonly publicUrl?: string;
  /** Trust X-Forwarded-For / X-Forwarded-Proto from a reverse proxy. */
  readonly trustProxy?: boolean;
  /** Serve HTTPS and WSS with this certificate chain and key (PEM files). */
  readonly tls?: { readonly cert: string; readonly key: string };
  readonly rateLimits?: Partial<LimitConfig>;
  readonly capacity?: CapacityOptions;
  readonly logLevel?: LogLevel;
  readonly logger?: Logger;
  /** Environment to read PUNCH_SECRET / PUNCH_SECRET_PREVIOUS from. Default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** The built web app to serve at `/`; default the `web` package's `dist` beside this one. */
  readonly webRoot?: string;
  /** TURN for project peers: coturn's `static-auth-secret` and the URLs peers use. */
  readonly turn?: TurnConfig;
  /** Longest project peer token lifetime accepted (`exp - iat`), seconds. Default 24 h. */
  readonly maxTokenTtl?: number;
  /** How long project audit events are kept, seconds. Default 7 days. */
  readonly auditRetention?: number;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly stunPort: number | null;
  readonly store: SqliteStore;
  readonly projects: SqliteProjectStore;
  close(): Promise<void>;
}

/**
 * Starts Punch on Node: the sessions HTTP API, the WebSocket rooms, STUN on UDP, SQLite.
 *
 * @example
 * const server = await startServer({ port: 0, stunPort: 0, dataDir: '/tmp/punch' });
 * console.log(server.url);
 * await server.close();
 */
export async function startServer(options: ServeOptions = {}): Promise<RunningServer> {
  const host = options.host ?? '0.0.0.0';
  // Read before any socket opens: a missing file then fails startup with nothing to release.
  const tls =
    options.tls === undefined
      ? undefined
      : { cert: readFileSync(options.tls.cert), key: readFileSync(options.tls.key) };
  const dataDir = options.dataDir ?? './punch-data';
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const own = options.logger === undefined ? createLogger(options.logLevel ?? 'info') : undefined;
  const log: Logger = options.logger ?? own ?? createLogger('silent');
  const secrets = loadSecrets(dataDir, options.env ?? process.env);
  if (secrets.source === 'generated') {
    log.warn(
      { file: secrets.file },
      'no PUNCH_SECRET set: generated a signing secret in the data directory',
    );
  }
  const keys = await KeyRing.fromSecrets(secrets.current, secrets.previous);
  const limits: LimitConfig = { ...RATE_LIMITS, ...options.rateLimits };
  const { store, projects, storage } = openStores(join(dataDir, 'punch.sqlite'), dataDir, log);
  const directory = new KeyDirectory(projects);
  const revocations = new Revocations();
  const verifyPeer = (token: string): ReturnType<typeof verifyPeerToken> =>
    verifyPeerToken(token, {
      key: (kid) => directory.find(kid),
      now: now(),
      ...(options.maxTokenTtl === undefined ? {} : { maxTtl: options.maxTokenTtl }),
    });
  const bindings = new BindRegistry();
  const rooms = new Map<string, Room>();
  const now = (): number => Date.now();
  const authLogLimiter = new AuthLogLimiter();
  const auditKeepMs = (options.auditRetention ?? AUDIT_RETENTION_S) * 1000;
  const timers = new RoomTimers({ now, health: store, audit: projects, auditKeepMs, revocations });
  let connections = (): number => 0;
  let turn: TurnServer | undefined;
  const metrics = createMetrics({
    sessions: () => rooms.size,
    connections: () => connections(),
    turn: () => turn?.stats,
    storage: () => storage.stats(),
  });
  const limiters = routeLimiters(limits);
  const capacity = new Capacity(options.capacity ?? {}, log);
  const counted = {
    onAuthFailure: (code: string) => {
      metrics.authFailures.inc({ code });
    },
    onRateLimited: (limit: string) => {
      metrics.rateLimited.inc({ limit });
    },
  };

  // Set once the STUN port (and the relay on it) is up; read whenever a client is told of TURN.
  let ownRelay: { secret: string; port: number; tcp: boolean } | undefined;
  const turnFor = turnConfigFor({ external: options.turn, own: () => ownRelay });
  const roomDeps = {
    store,
    log,
    now,
    bindings,
    // Only Punch's own relay can vouch for a claimed relayed address (coturn cannot be asked).
    relayHolds: (session: string, relayed: { ip: string; port: number }) =>
      options.turn === undefined ? turn?.holdsFor(session, relayed) : undefined,
    relay: (request: RelayRequest) => {
      const config = turnFor(request.host);
      return config === undefined ? Promise.resolve(null) : turnRestCredentials(config, request);
    },
    sign: (claims: Parameters<typeof signToken>[1]) => signToken(keys, claims),
    messageLimit: limits.message,
    onPaired: () => {
      metrics.pairings.inc();
    },
    onClosed: (room: Room, reason: 'closed' | 'expired') => {
      if (rooms.get(room.id) === room) rooms.delete(room.id);
      timers.sessionClosed(room);
      turn?.endSession(room.id);
      metrics.sessionsClosed.inc({ reason });
    },
  };

  // Sessions that outlived a restart come back; expired ones are deleted now.
  const nowS = Math.floor(now() / 1000);
  for (const record of store.loadSessions()) {
    if (record.expiresAt <= nowS) store.deleteSession(record.id);
    else {
      const room = new Room(record, roomDeps);
      rooms.set(record.id, room);
      timers.session(room);
    }
  }

  const clientIp = (req: IncomingMessage): string => clientIpOf(req, options.trustProxy === true);

  const app = createSessionApi({
    assets: diskAssets(options.webRoot ?? DEFAULT_WEB_ROOT),
    keys,
    now,
    log,
    authLogLimiter,
    limits: limiters,
    maxTtl: capacity.maxTtl,
    clientIp: (_req, env) => clientIp((env as { incoming: IncomingMessage }).incoming),
    projects: {
      store: projects,
      keys: directory,
      now,
      log,
      limiter: limiters.read,
      clientIp: (_req, env) => clientIp((env as { incoming: IncomingMessage }).incoming),
      ...counted,
      onKeyDeleted: (project, kid) => {
        revocations.add(kid, now());
        const closed = signalRooms.get(project)?.closeKey(kid) ?? 0;
        if (closed > 0) log.info({ project, kid, closed }, 'key deleted: connections closed');
      },
      onProjectDeleted: (project, kids) => {
        for (const kid of kids) revocations.add(kid, now());
        signalRooms.closeProject(project);
      },
    },
    publicBase: (req) =>
      publicBaseOf(req, { publicUrl: options.publicUrl, trustProxy: options.trustProxy === true }),
    rooms: {
      get: (id) => rooms.get(id),
      full: () => capacity.sessionsFull(rooms.size),
      create: (record: SessionRecord) => {
        if (rooms.has(record.id)) return undefined;
        const room = createRoom(record, roomDeps);
        rooms.set(record.id, room);
        timers.session(room);
        metrics.sessionsCreated.inc();
        return room;
      },
    },
    ...counted,
    health: () => storage.status(),
    extend: (a) => {
      a.get('/metrics', async (c) =>
        c.text(await metrics.registry.metrics(), 200, {
          'content-type': metrics.registry.contentType,
        }),
      );
    },
  });

  const relayKey = relaySecret(
    options.relay?.secret ?? options.turn?.secret ?? (options.env ?? process.env).PUNCH_TURN_SECRET,
    secrets.current,
  );
  let stun: Awaited<ReturnType<typeof startStunServer>> | undefined;
  let turnTcp: TurnTcpListener | undefined;
  const warn = (what: string) => (err: Error) => {
    log.warn({ code: (err as NodeJS.ErrnoException).code ?? err.name }, what);
  };
  if (options.stunPort !== null) {
    const started = await startStunAndRelay({
      host,
      port: options.stunPort ?? 3478,
      startStun: (port) =>
        startStunServer({
          host,
          port,
          onError: warn('STUN socket error'),
          onOther: (msg, rinfo) => {
            turn?.handle(msg, rinfo);
          },
          onRequest: (o) => {
            const target = o === undefined ? undefined : bindings.get(o.username);
            metrics.stunRequests.inc({ known: target === undefined ? 'false' : 'true' });
            const room = target === undefined ? undefined : rooms.get(target.session);
            if (o === undefined || target === undefined || room === undefined) return;
            room.observe(o.username, target.stream, target.role, { ip: o.ip, port: o.port });
            // A live path goes silent unless reports keep coming: a deadline, maybe sooner.
            timers.session(room);
          },
        }),
      relay:
        options.relay === null
          ? null
          : {
              secret: relayKey,
              options: options.relay ?? {},
              sessionPeers: (session, conn) => rooms.get(session)?.handedTo(conn) ?? [],
              sessionAlive: (session) => rooms.get(session)?.closed === false,
              // Two agents per stream, each with room for a second allocation while it
              // replaces a lost one.
              sessionAllocations: (session) => 4 * (rooms.get(session)?.record.streams.length ?? 0),
            },
      onTcpError: warn('TURN TCP error'),
    }).catch((err: unknown) => {
      // Nothing else holds the process yet but the databases: let them go before failing.
      timers.close();
      store.close();
      projects.close();
      throw err;
    });
    ({ stun, turn, tcp: turnTcp } = started);
  }
  const stunPort = stun?.port ?? null;
  if (turn !== undefined && stun !== undefined)
    ownRelay = { secret: relayKey, port: stun.port, tcp: turnTcp !== undefined };

  const signalRooms = new SignalRooms(
    {
      log,
      now,
      messageLimit: limits.message,
      verify: verifyPeer,
      revocations,
      iceServers: (conn, identity) => ws.iceFor(conn, identity),
      audit: (event) => {
        projects.appendAudit(event);
      },
      onSignal: (outcome) => {
        metrics.signal(outcome);
      },
    },
    timers,
  );
  const ws: WsEndpoint = new WsEndpoint({
    keys,
    now,
    log,
    authLogLimiter,
    rooms,
    connectLimiter: limiters.connect,
    capacity,
    clientIp,
    stunFor: (hostHeader) => {
      if (stunPort === null) return null;
      return { host: options.publicHost ?? hostName(hostHeader) ?? '127.0.0.1', port: stunPort };
    },
    ...counted,
    onMessage: () => {
      metrics.wsMessage();
    },
    onRoomEvent: (room) => {
      timers.session(room);
    },
    signal: {
      onJoined: (room) => {
        timers.signal(room);
      },
      revocations,
      verify: verifyPeer,
      turnFor,
      room: (project) => signalRooms.room(project),
    },
  });
  connections = () => ws.size;

  const listener = getRequestListener((req, env) => app.fetch(req, env));
  const handler = (req: IncomingMessage, res: import('node:http').ServerResponse): void => {
    void listener(req, res);
  };
  // Tokens travel in links and QR codes: production runs on TLS, built in or at a proxy.
  const server: Server =
    tls === undefined ? createHttpServer(handler) : createHttpsServer(tls, handler);
  server.on('upgrade', (req, socket, head) => {
    // Node drops its own error listener once a request is an upgrade: a reset must not crash us.
    socket.on('error', () => {
      socket.destroy();
    });
    if (ws.matches(req)) ws.handleUpgrade(req, socket, head);
    else socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  const httpPort = options.port ?? 8787;
  try {
    await new Promise<void>((resolve, reject) => {
      const failed = (err: Error): void => {
        reject(new ListenError('http', host, httpPort, err));
      };
      server.once('error', failed);
      server.listen(httpPort, host, () => {
        server.off('error', failed);
        resolve();
      });
    });
  } catch (err) {
    // The port is taken (or forbidden): release what already started (the STUN socket keeps
    // the process alive) so the caller can report it and exit.
    await ws.close();
    await turnTcp?.close();
    turn?.close();
    await stun?.close();
    timers.close();
    store.close();
    projects.close();
    throw err;
  }
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;

  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const scheme = options.tls === undefined ? 'http' : 'https';
  const url = `${scheme}://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`;
  log.info(
    {
      tls: options.tls !== undefined,
      port,
      stunPort,
      relay: turn !== undefined,
      host,
      sessions: rooms.size,
      secret: undefined,
      secretSource: secrets.source,
    },
    'listening',
  );

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    stunPort,
    store,
    projects,
    close: () =>
      (closing ??= (async () => {
        timers.close();
        await ws.close();
        await new Promise<void>((resolve) =>
          server.close(() => {
            resolve();
          }),
        );
        server.closeAllConnections();
        await turnTcp?.close();
        turn?.close();
        await stun?.close();
        store.close();
        projects.close();
        storage.close();
        own?.flush();
      })()),
  };
}
