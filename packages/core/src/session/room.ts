import type { ErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';
import type { LimitSpec } from '../ratelimit.js';
import type { TokenClaims } from '../token/claims.js';
import type { Endpoint, PeerRole, Stats, Tally } from '../wire/common.js';
import type { RelayCredentials } from '../wire/common.js';
import type { ServerMessage } from '../wire/to-client.js';
import type { BindRegistry } from './bindings.js';
import type { Conn } from './conn.js';
import * as connections from './connections.js';
import { handleMessage } from './handlers.js';
import { reportHealth } from './health.js';
import * as lifetime from './lifetime.js';
import { claimEndpoint, handedTo, observe, type EndpointUpdate } from './pairing.js';
import type { HealthSample, SessionRecord, SessionStore } from './record.js';
import type { RelayIssuer } from './relay.js';
import { register, SlotTable } from './slots.js';
import * as snapshots from './snapshot.js';
import type { ConnSnapshot } from './snapshot.js';
import type { RoomState } from './state.js';
import { setTally, tallyFor } from './tally.js';
import { sessionView, StreamViews, type SessionViewData } from './views.js';

export {
  HEALTH_LIVE_MS,
  HEALTH_STORE_INTERVAL_MS,
  MEDIA_MIN_BPS,
  NO_SIGNAL_MS,
  SlotHealth,
} from './health.js';
export type { HealthReport, MediaState } from './health.js';
export type { ConnSnapshot } from './snapshot.js';
export type { EndpointUpdate } from './pairing.js';
export type { SessionViewData } from './views.js';

export interface RoomDeps {
  readonly store: SessionStore;
  readonly log: Logger;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  /** Signs claims with the current key (token refresh). */
  readonly sign: (claims: TokenClaims) => Promise<string>;
  /** Shared STUN username registry, when the host runs a STUN server. */
  readonly bindings: BindRegistry | null;
  readonly messageLimit?: LimitSpec;
  /** Mints each socket's TURN credentials, when the host offers a relay (DESIGN.md "The relay"). */
  readonly relay?: RelayIssuer;
  /**
   * Whether the relay the host runs holds an allocation at `relayed` for a socket of `session`;
   * absent (or undefined) when the host cannot tell (an external TURN server).
   */
  readonly relayHolds?: (session: string, relayed: Endpoint) => boolean | undefined;
  /** Called when `peer` goes out to both sides of a stream (metrics). */
  readonly onPaired?: () => void;
  /** Called once when the session ends, after its rows are deleted (the host forgets the room). */
  readonly onClosed?: (room: Room, reason: 'closed' | 'expired') => void;
}

/**
 * A session's live state: who is connected, who holds which stream slot, each side's UDP
 * endpoint, pairing, tally and health. Pure: the host supplies sockets, storage and a clock.
 * Every method runs in one turn; messages are handled in the order they arrive.
 *
 * The room is the facade hosts and message handlers use; each concern lives in its own module
 * over the room's state: connections (join, leave, receive), slots (registration), pairing
 * (endpoints, `peer`), health, tally, views (`stream` pushes, `GET`), lifetime (extend, token
 * refresh, tick, close) and snapshot (hibernation).
 *
 * @example
 * const room = new Room(record, { store, log, now: Date.now, sign, bindings: null });
 * room.join(conn);
 * socket.on('message', (text) => room.receive(conn, text));
 * socket.on('close', () => room.leave(conn));
 */
export class Room {
  readonly record: SessionRecord;
  readonly #s: RoomState;

  constructor(record: SessionRecord, deps: RoomDeps) {
    this.record = record;
    const conns: RoomState['conns'] = new Map();
    const slots = new SlotTable(record.streams);
    const views = new StreamViews(record, slots, conns, deps.now);
    views.markAllPublished();
    this.#s = { record, deps, conns, slots, views, closed: false };
  }

  get id(): string {
    return this.record.id;
  }

  get closed(): boolean {
    return this.#s.closed;
  }

  get connectionCount(): number {
    return this.#s.conns.size;
  }

  get log(): Logger {
    return this.#s.deps.log;
  }

  now(): number {
    return this.#s.deps.now();
  }

  // ---- connections ------------------------------------------------------------------------

  /** A new authenticated socket: it gets `welcome` at once. */
  join(conn: Conn): void {
    connections.join(this.#s, conn);
  }

  /** The socket is gone: free its slots and tell the other sides. */
  leave(conn: Conn): void {
    connections.leave(this.#s, conn);
  }

  /**
   * Handles one frame from `conn` (`null` for a binary frame): rate limit, decode, dispatch to
   * the handler for its type; errors go back as `error`.
   */
  receive(conn: Conn, text: string | null): void {
    connections.receive(this.#s, conn, text, (message) => {
      handleMessage(this, conn, message);
    });
  }

  sendError(conn: Conn, code: ErrorCode, message: string): void {
    connections.sendError(conn, code, message);
  }

  /** Sends to every socket (host shutdown notices). */
  broadcast(message: ServerMessage): void {
    for (const c of this.#s.conns.keys()) c.send(message);
  }

  // ---- slots and pairing ------------------------------------------------------------------

  /** Throws ERR_STREAM_UNKNOWN (the slot table's one wording) when the session has no `stream`. */
  assertStream(stream: string): void {
    this.#s.slots.of(stream);
  }

  /**
   * Registers `conn` as `role` of `stream` (permission already checked); `takeover` replaces a
   * live holder (see `slots.ts`).
   */
  register(conn: Conn, stream: string, role: PeerRole, takeover = false): void {
    register(this.#s, conn, { stream, role }, takeover);
  }

  /**
   * Endpoints claimed by `conn` for the slot it holds (ERR_NOT_REGISTERED otherwise); a claimed
   * public IP must be the connection's own (ERR_ENDPOINT_MISMATCH).
   */
  setEndpoint(conn: Conn, stream: string, role: PeerRole, update: EndpointUpdate): void {
    claimEndpoint(this.#s, conn, { stream, role }, update);
  }

  /** A STUN Binding request arrived with a username handed out by this room. */
  observe(username: string, stream: string, role: PeerRole, endpoint: Endpoint): void {
    observe(this.#s, username, { stream, role }, endpoint);
  }

  /**
   * TURN credentials for the socket `conn` holding `claims`, expiring with its token (never
   * after the session): the host sets them on the socket before seating it. Null without a
   * relay.
   */
  mintRelay(
    conn: Pick<Conn, 'id' | 'stun'>,
    claims: TokenClaims,
  ): Promise<RelayCredentials | null> {
    return lifetime.mintRelay(this.#s, conn, claims.exp);
  }

  /**
   * Every address this room handed the socket `connId` in `peer` (the other sides' public, LAN
   * and relayed endpoints): all a session's relay credentials may reach.
   */
  handedTo(connId: string): Endpoint[] {
    return handedTo(this.#s, connId);
  }

  /** Known public endpoints per stream (for `/connect`). */
  endpoints(stream: string): { sender: Endpoint | null; receiver: Endpoint | null } {
    return this.#s.slots.endpoints(stream);
  }

  // ---- health and tally -------------------------------------------------------------------

  /** A health report from `conn` for the slot it holds: stored, and fanned out to admins. */
  reportHealth(conn: Conn, stream: string, role: PeerRole, stats: Stats): void {
    reportHealth(this.#s, conn, { stream, role }, stats);
  }

  healthHistory(streams: readonly string[] | null, limit: number): HealthSample[] {
    return this.#s.deps.store.healthHistory(this.id, streams, limit);
  }

  /**
   * Sets tally and pushes it to everyone, each filtered to the streams its token covers;
   * `source` names who set it (null: by hand), shown to admins only.
   */
  setTally(tally: Tally, source: string | null = null): void {
    setTally(this.#s, tally, source);
  }

  tallyFor(claims: TokenClaims): Tally {
    return tallyFor(this.record.tally, claims);
  }

  // ---- views ------------------------------------------------------------------------------

  /** The dashboard's view of the session; a peer sees only the streams its token covers. */
  view(claims: TokenClaims): SessionViewData {
    return sessionView(this.#s, claims);
  }

  // ---- lifetime -----------------------------------------------------------------------------

  /**
   * Moves expiry to `expiresAt`. Sockets whose tokens lived as long as the session get fresh
   * tokens (`token`), signed with the current key.
   */
  extend(expiresAt: number): Promise<void> {
    return lifetime.extend(this.#s, expiresAt);
  }

  /** Signs a fresh token for `conn` (same role and stream) and sends it. */
  refreshToken(conn: Conn, exp: number = conn.claims.exp): Promise<void> {
    return lifetime.refreshToken(this.#s, conn, exp);
  }

  /**
   * Time passes: sockets whose tokens have expired are closed. Returns true when the session
   * itself has expired (the host then calls `close('expired')`).
   */
  tick(nowMs: number): boolean {
    return lifetime.tick(this.#s, nowMs);
  }

  /**
   * When `tick` next has something to do, in milliseconds since the epoch: the session's
   * expiry, a token's expiry, a live path going silent or its media going quiet. For hosts
   * that wake on a timer (a Durable Object alarm) rather than ticking every second.
   */
  nextTickAt(): number {
    return lifetime.nextTickAt(this.#s);
  }

  /** Ends the session: everyone is told and disconnected, and every row is deleted. */
  close(reason: 'closed' | 'expired'): void {
    if (lifetime.close(this.#s, reason)) this.#s.deps.onClosed?.(this, reason);
  }

  // ---- hibernation --------------------------------------------------------------------------

  /** What the room holds for `conn` (see `resume`); undefined when it is not in the room. */
  snapshot(conn: Conn): ConnSnapshot | undefined {
    return snapshots.snapshot(this.#s, conn);
  }

  /**
   * Takes back a connection that was in this room before the host forgot it, with the slots
   * its snapshot held: no `welcome`, no `registered`, no `peer` again (the client has them).
   * Call it for every surviving connection, then `settle()`.
   */
  resume(conn: Conn, snapshot: ConnSnapshot): void {
    snapshots.resume(this.#s, conn, snapshot);
  }

  /**
   * After `resume`: streams whose both sides are known count as paired (their `peer` messages
   * went out before), and the current views count as published, so nothing is sent twice.
   */
  settle(): void {
    snapshots.settle(this.#s);
  }
}
