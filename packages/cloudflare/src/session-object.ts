import { DurableObject } from 'cloudflare:workers';
import {
  errorFields,
  HEALTH_KEEP_MS,
  PunchError,
  RateLimiter,
  Room,
  authenticateSession,
  createRoom,
  createSessionApi,
  parseSessionPath,
  seat,
  problemResponse,
  randomId,
  signToken,
  type Conn,
  type KeyRing,
  type RelayCredentials,
  type RoomDeps,
  type ServerMessage,
  type SessionRecord,
  type SqlIssuedRelays,
  type SqlSessionStore,
  type TokenClaims,
} from '@punch/core';
import type { Hono } from 'hono';
import { clientIp, keyRing, limitConfig, maxTtl, publicBase, type Env } from './env.js';
import { consoleLogger } from './log.js';
import {
  answerClose,
  attachmentOf,
  type Attachment,
  closeSocket,
  frameBytes,
  sendJson,
  tooBig,
  upgradeResponse,
} from './socket.js';
import { sessionStore } from './store.js';
import { issuedStore } from './issued.js';
import { SESSION_SCOPE, revokeIssued, sessionRelay } from './turn.js';
import { publicStun } from './turn-config.js';

/** Cloudflare TURN usernames remembered per session (the soonest to expire go first). */
const ISSUED_CAP = 256;
/** Pruning scans the health table (rows read are billed): at most this often. */
const PRUNE_EVERY_MS = 300_000;
/** The Worker limits requests before they get here: the object's own API limits nothing. */
const UNLIMITED = new RateLimiter({ limit: Number.MAX_SAFE_INTEGER, windowMs: 60_000 });

/**
 * One session: its room, its rows (this object's SQLite) and its sockets, accepted as
 * hibernatable WebSockets. When the object is evicted between messages, the next event builds
 * the room again from the stored record and each socket's stored snapshot, so peers keep their
 * identities and slots and the passphrase stays the same. An alarm wakes it when `tick` has
 * work (expiry, a live path going silent); at the session's end every row is deleted.
 */
export class SessionObject extends DurableObject<Env> {
  readonly #store: SqlSessionStore;
  /** Cloudflare TURN usernames handed to this session's sockets, revoked when it closes. */
  readonly #issued: SqlIssuedRelays;
  readonly #log = consoleLogger('session');
  readonly #conns = new Map<WebSocket, Conn>();
  /** The STUN server agents are told to ask (`welcome.publicStun`), from PUNCH_STUN_URLS. */
  readonly #publicStun: { host: string; port: number } | undefined;
  /** The snapshot text last stored per socket id, so unchanged sockets cost no write. */
  readonly #stored = new Map<string, string>();
  #keys: KeyRing | undefined;
  #room: Room | undefined;
  #app: Hono | undefined;
  /** The alarm last set (each set is a stored row: only changes are written). */
  #alarmAt: number | undefined;
  #prunedAt = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#store = sessionStore(ctx.storage);
    this.#issued = issuedStore(ctx.storage, ISSUED_CAP);
    this.#publicStun = publicStun(env);
    void ctx.blockConcurrencyWhile(async () => {
      this.#keys = await keyRing(env);
      this.#wake();
    });
  }

  // ---- HTTP and the WebSocket upgrade -------------------------------------------------------

  override async fetch(req: Request): Promise<Response> {
    try {
      const path = parseSessionPath(req.method, new URL(req.url).pathname);
      if (path?.sub !== '/ws' || req.headers.get('upgrade')?.toLowerCase() !== 'websocket')
        return await this.#api().fetch(req);
      if (path.id === undefined) throw new PunchError('ERR_SESSION_NOT_FOUND');
      return await this.#upgrade(req, path.id, path.endpoint);
    } catch (err) {
      if (!(err instanceof PunchError)) {
        this.#log.error({ err: errorFields(err) }, 'request failed');
      }
      return problemResponse(err);
    } finally {
      this.#after();
    }
  }

  async #upgrade(req: Request, id: string, endpoint: string): Promise<Response> {
    const ip = clientIp(req);
    const { claims, stale, room } = await authenticateSession(
      this.#authDeps(),
      req.headers,
      id,
      { ip, endpoint },
      true,
    );
    const connId = randomId(8);
    // Minted before the socket exists, so `registered` can carry them at once. A failing TURN
    // API gives null here, never an error: the socket works without relay.
    const relay = await room.mintRelay({ id: connId, stun: null }, claims);
    // The session may have closed while the credentials were minted: its revocation already
    // ran, so these are revoked now.
    if (room.closed) {
      this.ctx.waitUntil(this.#revokeIssued());
      throw new PunchError('ERR_SESSION_CLOSED');
    }
    const pair = new WebSocketPair();
    const client = pair[0];
    const server = pair[1];
    this.ctx.acceptWebSocket(server);
    const attachment: Required<Attachment> = { id: connId, ip, relay };
    server.serializeAttachment(attachment);
    const conn = this.#conn(server, attachment, claims);
    seat(room, conn, stale);
    return upgradeResponse(req, client);
  }

  // ---- hibernatable WebSocket events --------------------------------------------------------

  override webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): void {
    try {
      const conn = this.#conns.get(ws);
      if (conn === undefined || this.#room === undefined) {
        closeSocket(ws, new PunchError('ERR_SESSION_CLOSED'));
        return;
      }
      if (tooBig(frameBytes(message))) {
        closeSocket(ws, new PunchError('ERR_PAYLOAD_TOO_LARGE'));
        this.#gone(ws);
        return;
      }
      this.#room.receive(conn, typeof message === 'string' ? message : null);
    } finally {
      this.#after();
    }
  }

  override webSocketClose(ws: WebSocket, code: number): void {
    this.#gone(ws);
    answerClose(ws, code);
    this.#after();
  }

  override webSocketError(ws: WebSocket): void {
    this.#gone(ws);
    this.#after();
  }

  override alarm(): void {
    this.#alarmAt = undefined;
    const room = this.#room;
    if (room === undefined) return;
    if (Date.now() - this.#prunedAt >= PRUNE_EVERY_MS) {
      this.#prunedAt = Date.now();
      this.#store.pruneHealth(Date.now() - HEALTH_KEEP_MS);
    }
    if (room.tick(Date.now())) room.close('expired');
    this.#after();
  }

  // ---- the room, its sockets and its rows ---------------------------------------------------

  /** Builds the room again after the object was evicted (or on first use). */
  #wake(): void {
    const record = this.#store.loadSessions()[0];
    if (record === undefined) return;
    const room = new Room(record, this.#roomDeps());
    this.#room = room;
    const snapshots = this.#store.snapshots(record.id);
    for (const ws of this.ctx.getWebSockets()) {
      const a = attachmentOf(ws);
      const snap = a === undefined ? undefined : snapshots.get(a.id);
      if (a?.ip === undefined || snap === undefined) {
        closeSocket(ws, new PunchError('ERR_INTERNAL', 'state lost; reconnect'));
        continue;
      }
      const conn = this.#conn(ws, { id: a.id, ip: a.ip, relay: a.relay ?? null }, snap.claims);
      room.resume(conn, snap);
      this.#stored.set(a.id, JSON.stringify(snap));
    }
    room.settle();
    if (this.#conns.size > 0) {
      // Sockets outlived the object in memory: it was evicted while they hibernated.
      this.#log.info(
        { session: record.id, sockets: this.#conns.size },
        'session woke from hibernation',
      );
    }
    if (room.tick(Date.now())) room.close('expired');
  }

  #conn(ws: WebSocket, a: Required<Attachment>, claims: TokenClaims): Conn {
    let relay = a.relay;
    const conn: Conn = {
      id: a.id,
      ip: a.ip,
      // Kept in the attachment as it changes (each fresh token brings fresh credentials), so a
      // socket that outlives an eviction keeps the ones it was last sent.
      get relay() {
        return relay;
      },
      set relay(next: RelayCredentials | null) {
        relay = next;
        ws.serializeAttachment({ id: a.id, ip: a.ip, relay } satisfies Required<Attachment>);
      },
      // No UDP on Workers: agents learn their endpoint from a public STUN server (the one named
      // here, else their own `--stun`) and send `endpoint`, checked against this socket's IP.
      stun: null,
      ...(this.#publicStun === undefined ? {} : { publicStun: this.#publicStun }),
      claims,
      send(message: ServerMessage) {
        sendJson(ws, message);
      },
      close(err: PunchError) {
        closeSocket(ws, err);
      },
    };
    this.#conns.set(ws, conn);
    return conn;
  }

  #gone(ws: WebSocket): void {
    const conn = this.#conns.get(ws);
    if (conn === undefined) return;
    this.#conns.delete(ws);
    this.#room?.leave(conn);
    if (this.#room !== undefined) this.#store.deleteSnapshot(this.#room.id, conn.id);
    this.#stored.delete(conn.id);
  }

  /**
   * After every event: store what changed of each socket's state (hibernation may follow),
   * forget sockets the room dropped, and set the alarm to when `tick` next has work.
   */
  #after(): void {
    const room = this.#room;
    if (room === undefined || room.closed) return;
    for (const [ws, conn] of this.#conns) {
      const snap = room.snapshot(conn);
      if (snap === undefined) {
        this.#conns.delete(ws);
        this.#store.deleteSnapshot(room.id, conn.id);
        this.#stored.delete(conn.id);
        continue;
      }
      const text = JSON.stringify(snap);
      if (this.#stored.get(conn.id) === text) continue;
      this.#store.saveSnapshot(room.id, conn.id, snap);
      this.#stored.set(conn.id, text);
    }
    // Only ever earlier: each set is a row written, and health moves the next tick later
    // every second. An alarm that fires early finds nothing to do and sets the next one.
    const at = room.nextTickAt();
    if (this.#alarmAt === undefined || at < this.#alarmAt) {
      this.#alarmAt = at;
      void this.ctx.storage.setAlarm(at);
    }
  }

  #roomDeps(): RoomDeps {
    const keys = this.#keysOrThrow();
    return {
      store: this.#store,
      log: this.#log,
      now: () => Date.now(),
      sign: (claims) => signToken(keys, claims),
      bindings: null,
      messageLimit: limitConfig(this.env).message,
      relay: sessionRelay(this.env, this.#log, this.#issued),
      onClosed: () => {
        // Cloudflare TURN credentials end with the session, not at their own expiry.
        this.ctx.waitUntil(this.#revokeIssued());
        this.#room = undefined;
        this.#conns.clear();
        this.#stored.clear();
        this.#alarmAt = undefined;
        void this.ctx.storage.deleteAlarm();
      },
    };
  }

  async #revokeIssued(): Promise<void> {
    try {
      await revokeIssued(this.env, this.#log, this.#issued, SESSION_SCOPE);
    } catch (err) {
      // Only a refused TURN configuration throws here, and it already failed the request that
      // met it first; nothing is left to revoke with.
      this.#log.error({ err: errorFields(err) }, 'TURN revocation failed');
    }
  }

  #keysOrThrow(): KeyRing {
    if (this.#keys === undefined) throw new PunchError('ERR_INTERNAL', 'signing keys not loaded');
    return this.#keys;
  }

  #authDeps(): Parameters<typeof authenticateSession>[0] {
    return {
      keys: this.#keysOrThrow(),
      now: () => Date.now(),
      log: this.#log,
      rooms: { get: (id) => (this.#room?.id === id ? this.#room : undefined) },
    };
  }

  /** The sessions API of core, over this one room. */
  #api(): Hono {
    if (this.#app !== undefined) return this.#app;
    const app = createSessionApi({
      keys: this.#keysOrThrow(),
      now: () => Date.now(),
      log: this.#log,
      limits: { create: UNLIMITED, read: UNLIMITED, token: UNLIMITED, write: UNLIMITED },
      maxTtl: maxTtl(this.env),
      clientIp: (req) => clientIp(req),
      publicBase: (req) => publicBase(this.env, req),
      rooms: {
        get: (id) => (this.#room?.id === id ? this.#room : undefined),
        create: (record: SessionRecord) => {
          if (this.#room !== undefined && !this.#room.closed) return undefined;
          this.#room = createRoom(record, this.#roomDeps());
          return this.#room;
        },
      },
    });
    this.#app = app;
    return app;
  }

  /** How many rows this session still has (operators and tests, over RPC; never HTTP). */
  rowCounts(): { sessions: number; health: number } {
    return this.#store.rowCounts();
  }
}
