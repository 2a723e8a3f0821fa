import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  MAX_FRAME_BYTES,
  PunchError,
  SIGNAL_PATH,
  WS_PROTOCOL,
  authenticatePeer,
  authenticateSession,
  enforceLimit,
  iceServers,
  isSignalPath,
  parseSessionPath,
  randomId,
  routeLimit,
  seat,
  toProblem,
  type AuthDeps,
  type Conn,
  type PeerIdentity,
  type Revocations,
  type RateLimiter,
  type Room,
  type SignalConn,
  type SignalRoom,
  type TokenClaims,
  type TurnConfig,
} from '@punch/core';
import { jsonSender } from './json-sender.js';

/** Dead peers (a Wi-Fi drop) are found with pings; two missed rounds end the socket. */
const PING_INTERVAL_MS = 15_000;

export interface WsDeps extends AuthDeps {
  readonly rooms: { get(id: string): Room | undefined };
  readonly connectLimiter: RateLimiter;
  readonly clientIp: (req: IncomingMessage) => string;
  /** The STUN address for a client that reached the API at `hostHeader`, or null. */
  readonly stunFor: (hostHeader: string | undefined) => { host: string; port: number } | null;
  readonly onRateLimited?: (limit: string) => void;
  readonly onMessage?: () => void;
  /** Counts each socket against the host's bounds (`--max-sockets`, `--max-sockets-per-ip`). */
  readonly capacity?: SocketAdmission;
  /** The projects realm's signalling endpoint `/api/signal`; absent: not served. */
  readonly signal?: SignalDeps;
  /**
   * A socket joined `room` or sent it a frame: its next deadline (`nextTickAt`) may be sooner
   * (a short token, a live path), so the host schedules it again.
   */
  readonly onRoomEvent?: (room: Room) => void;
}

/** Admits one upgrade's socket (counted until it closes) or throws ERR_CAPACITY. */
export interface SocketAdmission {
  admit(ip: string, socket: Duplex): void;
}

export interface SignalDeps {
  /** Keys deleted lately: checked right before a socket is admitted (a key deleted meanwhile). */
  readonly revocations: Revocations;
  /** Verifies a peer token (the same check a room uses for `token` refreshes). */
  readonly verify: (token: string) => Promise<PeerIdentity>;
  /** The TURN server a client that reached Punch at `host` is told of (ICE servers), if any. */
  readonly turnFor: (host: string | undefined) => TurnConfig | undefined;
  /** The project's signalling room (created on first use). */
  readonly room: (project: string) => SignalRoom;
  /**
   * A peer joined `room`: its token's expiry is a deadline. (Not called per frame: a frame
   * moves a signalling room's deadline only through the audit log, which says so itself.)
   */
  readonly onJoined?: (room: SignalRoom) => void;
}

/**
 * WebSocket endpoint `GET /api/session/:id/ws`: authenticates at upgrade (401 before any
 * WebSocket exists), then adapts each `ws` socket to the core's `Conn` and feeds frames to
 * the session room in arrival order.
 */
export class WsEndpoint {
  readonly #deps: WsDeps;
  readonly #wss: WebSocketServer;
  readonly #sockets = new Set<WebSocket>();
  readonly #alive = new WeakSet<WebSocket>();
  readonly #timer: NodeJS.Timeout;

  constructor(deps: WsDeps) {
    this.#deps = deps;
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: MAX_FRAME_BYTES,
      perMessageDeflate: false,
      handleProtocols: (protocols) => (protocols.has(WS_PROTOCOL) ? WS_PROTOCOL : false),
    });
    this.#timer = setInterval(() => {
      this.#heartbeat();
    }, PING_INTERVAL_MS);
    this.#timer.unref();
  }

  get size(): number {
    return this.#sockets.size;
  }

  /** True when this endpoint owns the request's path. */
  matches(req: IncomingMessage): boolean {
    const url = req.url ?? '';
    return (
      parseSessionPath('GET', url)?.sub === '/ws' ||
      (this.#deps.signal !== undefined && isSignalPath(url))
    );
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => {
      socket.destroy();
    });
    this.#upgrade(req, socket, head).catch((err: unknown) => {
      reject(socket, err);
    });
  }

  async #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const signal = this.#deps.signal;
    const isSignal = signal !== undefined && isSignalPath(req.url ?? '');
    const session = isSignal ? undefined : parseSessionPath('GET', req.url ?? '');
    const endpoint = session?.endpoint ?? `GET ${SIGNAL_PATH}`;
    const ip = this.#deps.clientIp(req);
    const limit = routeLimit(endpoint) ?? 'connect';
    enforceLimit(this.#deps.connectLimiter, ip, this.#deps.now(), { endpoint, limit }, this.#deps);
    // Both realms count against the same bounds, before any token is checked.
    this.#deps.capacity?.admit(ip, socket);
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) {
      if (typeof v === 'string') headers.set(k, v);
    }
    if (isSignal) {
      await this.#upgradeSignal(signal, req, socket, head, headers, ip);
      return;
    }
    // As the HTTP routes do: a path that names no possible session is 404 before any token check.
    const id = session?.id;
    if (id === undefined) throw new PunchError('ERR_SESSION_NOT_FOUND');
    const { claims, stale, room } = await authenticateSession(
      this.#deps,
      headers,
      id,
      { ip, endpoint },
      true,
    );
    const conn = { id: randomId(8), stun: this.#deps.stunFor(req.headers.host) };
    // Minted before the socket exists, so `registered` can carry them at once.
    const relay = await room.mintRelay(conn, claims);
    if (socket.destroyed) return;
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      this.#accept(ws, socket, room, claims, stale, ip, { ...conn, relay });
    });
  }

  async #upgradeSignal(
    signal: SignalDeps,
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    headers: Headers,
    ip: string,
  ): Promise<void> {
    const identity = await authenticatePeer({ ...this.#deps, verify: signal.verify }, headers, {
      ip,
      endpoint: `GET ${SIGNAL_PATH}`,
    });
    const stun = this.#deps.stunFor(req.headers.host);
    const ice = await this.#ice(signal, stun, identity);
    if (socket.destroyed) return;
    // After the last await: a key deleted while this upgrade was being verified is refused.
    signal.revocations.assertAdmissible(identity, this.#deps.now());
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      const room = signal.room(identity.project);
      const c: SignalConn = {
        id: randomId(8),
        identity,
        stun,
        send: jsonSender(ws, socket),
        close(err: PunchError) {
          closeWith(ws, err);
        },
      };
      this.#track(
        ws,
        (text, bytes) => {
          room.receive(c, text, bytes);
        },
        () => {
          room.leave(c);
        },
      );
      room.join(c, ice);
      signal.onJoined?.(room);
    });
  }

  #ice(
    signal: SignalDeps,
    stun: { host: string; port: number } | null,
    identity: PeerIdentity,
  ): ReturnType<typeof iceServers> {
    return iceServers({
      stun,
      turn: signal.turnFor(stun?.host),
      peer: identity.peer,
      expiresAt: identity.expiresAt,
    });
  }

  /** ICE servers for a signalling peer (a token refresh asks again). */
  iceFor(conn: SignalConn, identity: PeerIdentity): ReturnType<typeof iceServers> {
    const signal = this.#deps.signal;
    if (signal === undefined) return Promise.resolve([]);
    return this.#ice(signal, conn.stun, identity);
  }

  /** Socket bookkeeping shared by both endpoints: liveness pings, frames in order, close. */
  #track(
    ws: WebSocket,
    onText: (text: string | null, bytes: number) => void,
    onClose: () => void,
  ): void {
    this.#sockets.add(ws);
    this.#alive.add(ws);
    ws.on('pong', () => this.#alive.add(ws));
    ws.on('message', (data, isBinary) => {
      this.#deps.onMessage?.();
      // Binary frames are refused by the room, after its message rate limit counted them.
      onText(isBinary ? null : rawText(data), byteLength(data));
    });
    ws.on('close', () => {
      this.#sockets.delete(ws);
      onClose();
    });
    ws.on('error', () => {
      // ws closes the socket itself after an error (e.g. a frame over maxPayload → 1009).
    });
  }

  #accept(
    ws: WebSocket,
    socket: Duplex,
    room: Room,
    claims: TokenClaims,
    stale: boolean,
    ip: string,
    seated: Pick<Conn, 'id' | 'stun' | 'relay'>,
  ): void {
    const c: Conn = {
      ...seated,
      ip,
      claims,
      send: jsonSender(ws, socket),
      close(err: PunchError) {
        closeWith(ws, err);
      },
    };
    this.#track(
      ws,
      (text) => {
        room.receive(c, text);
        this.#deps.onRoomEvent?.(room);
      },
      () => {
        room.leave(c);
      },
    );
    seat(room, c, stale);
    this.#deps.onRoomEvent?.(room);
  }

  #heartbeat(): void {
    for (const ws of this.#sockets) {
      if (!this.#alive.has(ws)) {
        ws.terminate();
        continue;
      }
      this.#alive.delete(ws);
      ws.ping();
    }
  }

  /** Closes every socket (server shutdown: ERR_UNAVAILABLE, 1001, so peers reconnect). */
  async close(): Promise<void> {
    const shutdown = new PunchError('ERR_UNAVAILABLE', 'server shutting down');
    clearInterval(this.#timer);
    const closing = [...this.#sockets].map(
      (ws) =>
        new Promise<void>((resolve) => {
          ws.once('close', () => {
            resolve();
          });
          closeWith(ws, shutdown);
          setTimeout(() => {
            ws.terminate();
            resolve();
          }, 1000).unref();
        }),
    );
    await Promise.all(closing);
    this.#wss.close();
  }
}

/** Closes `ws` with the code the error carries, and the error's code as the reason. */
function closeWith(ws: WebSocket, err: PunchError): void {
  ws.close(err.closeCode, err.code);
}

function byteLength(data: WebSocket.RawData): number {
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.length, 0);
  return data.byteLength;
}

function rawText(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

/** Answers a refused upgrade with a plain HTTP problem response and closes the socket. */
function reject(socket: Duplex, err: unknown): void {
  if (socket.destroyed) return;
  const p = toProblem(err);
  const body = JSON.stringify(p);
  const retry =
    err instanceof PunchError && err.retryAfter !== undefined
      ? `Retry-After: ${err.retryAfter}\r\n`
      : '';
  socket.end(
    `HTTP/1.1 ${p.status} ${p.title}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${retry}Connection: close\r\n\r\n${body}`,
  );
}
