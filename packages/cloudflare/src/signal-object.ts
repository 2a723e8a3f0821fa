import { DurableObject } from 'cloudflare:workers';
import {
  errorFields,
  PunchError,
  REVOKED_MEMORY_MS,
  Revocations,
  SignalRoom,
  problemResponse,
  randomId,
  type PeerIdentity,
  type SignalConn,
  type SignalServerMessage,
  type SqlIssuedRelays,
  type SqlSignalStore,
} from '@punch/core';
import { clientIp, limitConfig, type Env } from './env.js';
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
import { verifyPeer } from './peers.js';
import { issuedStore } from './issued.js';
import { peerIceServers, revokeIssued } from './turn.js';
import { directoryStore } from './directory-client.js';
import { signalStore } from './store.js';

/** Cloudflare TURN usernames remembered per project (the soonest to expire go first). */
const ISSUED_CAP = 1000;

/**
 * One project's signalling room: core's SignalRoom over hibernatable WebSockets. Who each
 * socket speaks for is stored in the object's SQLite (an identity with its allow policy is too
 * big for an attachment), so an evicted room is rebuilt around its sockets. Key and project
 * deletion reach it over RPC from the Worker that handled the deletion.
 */
export class SignalObject extends DurableObject<Env> {
  readonly #log = consoleLogger('signal');
  readonly #rows: SqlSignalStore;
  readonly #conns = new Map<WebSocket, SignalConn>();
  /** Keys deleted lately (the Worker tells this room over RPC), refused at admission. */
  readonly #revocations = new Revocations();
  /** Cloudflare TURN usernames handed to this project's peers, by kid (revoked with the key). */
  readonly #issued: SqlIssuedRelays;
  #room: SignalRoom | undefined;
  #alarmAt: number | undefined;
  /** The project was deleted: ids are never reused, so this room stays shut. */
  #deleted = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#rows = signalStore(ctx.storage);
    this.#issued = issuedStore(ctx.storage, ISSUED_CAP);
    this.#wake();
  }

  override async fetch(req: Request): Promise<Response> {
    try {
      const ip = clientIp(req);
      const identity = await verifyPeer(this.env, req.headers, ip, this.#log);
      const ice = await peerIceServers(this.env, identity, this.#log, this.#issued);
      // Checked after the last await: a deletion that landed meanwhile is seen here. Its
      // revocation already ran, so what was just minted for this peer is revoked now.
      if (this.#deleted) {
        this.ctx.waitUntil(this.#revoke(undefined));
        throw new PunchError('ERR_PROJECT_CLOSED');
      }
      try {
        this.#revocations.assertAdmissible(identity, Date.now());
      } catch (err) {
        this.ctx.waitUntil(this.#revoke(identity.kid));
        throw err;
      }
      const room = this.#roomFor(identity.project);
      const pair = new WebSocketPair();
      const client = pair[0];
      const server = pair[1];
      this.ctx.acceptWebSocket(server);
      const id = randomId(8);
      server.serializeAttachment({ id } satisfies Attachment);
      const conn = this.#conn(server, id, identity);
      room.join(conn, ice);
      this.#store(conn);
      return upgradeResponse(req, client);
    } catch (err) {
      if (!(err instanceof PunchError))
        this.#log.error({ err: errorFields(err) }, 'upgrade failed');
      return problemResponse(err);
    } finally {
      this.#after();
    }
  }

  override webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): void {
    try {
      const conn = this.#conns.get(ws);
      if (conn === undefined || this.#room === undefined) {
        closeSocket(ws, new PunchError('ERR_INTERNAL', 'state lost; reconnect'));
        return;
      }
      const bytes = frameBytes(message);
      if (tooBig(bytes)) {
        closeSocket(ws, new PunchError('ERR_PAYLOAD_TOO_LARGE'));
        this.#gone(ws);
        return;
      }
      this.#room.receive(conn, typeof message === 'string' ? message : null, bytes);
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
    this.#room?.tick(Date.now());
    this.#revocations.prune(Date.now());
    this.#after();
  }

  // ---- RPC from the Worker ------------------------------------------------------------------

  /**
   * A key was deleted: every socket its tokens opened closes now (4401 ERR_KEY_REVOKED), and
   * the Cloudflare TURN credentials its peers got are revoked (after the answer: the Worker
   * retries this call on failure, and revocation must not hold it up).
   */
  closeKey(kid: string): number {
    this.#revocations.add(kid, Date.now());
    const n = this.#room?.closeKey(kid) ?? 0;
    this.#after();
    this.ctx.waitUntil(this.#revoke(kid));
    return n;
  }

  /** The project was deleted: every socket closes (4410), its TURN credentials are revoked and the room's rows go. */
  closeAll(): void {
    this.ctx.waitUntil(this.#revoke(undefined));
    this.#room?.closeAll('project-deleted');
    this.#conns.clear();
    this.#deleted = true;
    this.#rows.markDeleted();
    this.#room = undefined;
  }

  /** Revokes the credentials filed under `kid` (all, when undefined); failures are logged there. */
  async #revoke(kid: string | undefined): Promise<void> {
    try {
      await revokeIssued(this.env, this.#log, this.#issued, kid);
    } catch (err) {
      // Only a refused TURN configuration throws here, and it already failed the request that
      // met it first; nothing is left to revoke with.
      this.#log.error({ err: errorFields(err) }, 'TURN revocation failed');
    }
  }

  // ---- the room, rebuilt after eviction -----------------------------------------------------

  #wake(): void {
    this.#deleted = this.#rows.deleted();
    const project = this.#rows.project();
    if (project === undefined) return;
    const room = this.#roomFor(project);
    const identities = this.#rows.identities();
    for (const ws of this.ctx.getWebSockets()) {
      const a = attachmentOf(ws);
      const identity = a === undefined ? undefined : identities.get(a.id);
      if (a === undefined || identity === undefined) {
        closeSocket(ws, new PunchError('ERR_INTERNAL', 'state lost; reconnect'));
        continue;
      }
      room.resume(this.#conn(ws, a.id, identity));
    }
    if (this.#conns.size > 0) {
      this.#log.info({ project, sockets: this.#conns.size }, 'signal room woke from hibernation');
    }
  }

  #roomFor(project: string): SignalRoom {
    if (this.#room !== undefined) {
      if (this.#room.project !== project) throw new PunchError('ERR_INTERNAL', 'wrong room');
      return this.#room;
    }
    this.#rows.setProject(project);
    const store = directoryStore(this.env, this.#log);
    this.#room = new SignalRoom({
      project,
      log: this.#log,
      now: () => Date.now(),
      verify: (token) =>
        verifyPeer(
          this.env,
          new Headers({ authorization: `Bearer ${token}` }),
          'refresh',
          this.#log,
        ),
      iceServers: (_conn, identity) => peerIceServers(this.env, identity, this.#log, this.#issued),
      revocations: this.#revocations,
      audit: (event) => {
        store.appendAudit(event);
      },
      messageLimit: limitConfig(this.env).message,
      // A refresh completes after the message that asked for it: store the new identity then,
      // or an evicted room would take the socket back with the old policy and expiry.
      onIdentityChanged: (conn) => {
        this.#store(conn);
        this.#after();
      },
    });
    return this.#room;
  }

  #conn(ws: WebSocket, id: string, identity: PeerIdentity): SignalConn {
    const conn: SignalConn = {
      id,
      identity,
      stun: null,
      send(message: SignalServerMessage) {
        sendJson(ws, message);
      },
      // The room closes a socket only after it has forgotten it (replaced, revoked, expired,
      // flooding): its row goes now, not when the client answers the close.
      close: (err: PunchError) => {
        closeSocket(ws, err);
        this.#gone(ws);
      },
    };
    this.#conns.set(ws, conn);
    return conn;
  }

  /** Stores who `conn` speaks for (at join and after a refresh: the only times it changes). */
  #store(conn: SignalConn): void {
    this.#rows.saveIdentity(conn.id, conn.identity);
  }

  #gone(ws: WebSocket): void {
    const conn = this.#conns.get(ws);
    if (conn === undefined) return;
    this.#conns.delete(ws);
    this.#room?.leave(conn);
    this.#rows.deleteIdentity(conn.id);
  }

  /**
   * After every event: the alarm, for when `tick` next has work (a token expiring) or a revoked
   * kid can be forgotten. Only ever moved earlier: each set is a row written.
   */
  #after(): void {
    if (this.#room === undefined) return;
    let at = this.#room.nextTickAt();
    if (this.#revocations.size > 0) at = Math.min(at ?? Infinity, Date.now() + REVOKED_MEMORY_MS);
    if (at !== undefined && (this.#alarmAt === undefined || at < this.#alarmAt)) {
      this.#alarmAt = at;
      void this.ctx.storage.setAlarm(at);
    }
  }
}
