import { PunchError, type ErrorCode } from '../errors.js';
import { errorFields, type Logger } from '../logger.js';
import { randomId } from '../passphrase.js';
import { coversStream, scopeRank } from '../permissions.js';
import { MessageLimiter, RATE_LIMITS, type LimitSpec } from '../ratelimit.js';
import type { TokenClaims } from '../token/claims.js';
import type { Endpoint, PeerRole, Stats, Tally } from '../wire/common.js';
import type { StreamStateName } from '../wire/http.js';
import { decodeClientMessage } from '../wire/messages.js';
import type { ServerMessage, StreamViewMessage } from '../wire/to-client.js';
import type { BindRegistry } from './bindings.js';
import type { Conn } from './conn.js';
import { HANDLERS } from './handlers.js';
import type { HealthSample, SessionRecord, SessionStore } from './record.js';

/** How long after its last health report a path still counts as live. */
export const HEALTH_LIVE_MS = 5_000;
/** At most one stored health sample per slot per this many milliseconds. */
export const HEALTH_STORE_INTERVAL_MS = 500;

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
  /** Called when `peer` goes out to both sides of a stream (metrics). */
  readonly onPaired?: () => void;
  /** Called once when the session ends, after its rows are deleted (the host forgets the room). */
  readonly onClosed?: (room: Room, reason: 'closed' | 'expired') => void;
}

/** One side of a stream slot. */
interface Slot {
  readonly conn: Conn;
  readonly username: string;
  public: Endpoint | undefined;
  local: Endpoint[];
  lastHealth: { path: Stats['path']; at: number } | undefined;
  /** When a report was last stored and fanned out (storage is throttled per slot). */
  lastStoredAt: number;
}

interface StreamSlots {
  sender: Slot | undefined;
  receiver: Slot | undefined;
  /** The remotes last sent in `peer`, so an unchanged pair is not sent again. */
  pairedKey: string | undefined;
}

interface ConnState {
  readonly limiter: MessageLimiter;
  readonly slots: Set<string>; // `${stream}/${role}`
}

const other = (role: PeerRole): PeerRole => (role === 'sender' ? 'receiver' : 'sender');

/**
 * What a room knows of one connection beyond its socket: enough to take it back after the
 * host forgot the room (a Durable Object that hibernated keeps its sockets, not its memory).
 */
export interface ConnSnapshot {
  readonly claims: TokenClaims;
  readonly slots: readonly {
    readonly stream: string;
    readonly role: PeerRole;
    readonly username: string;
    readonly public: Endpoint | null;
    readonly local: readonly Endpoint[];
  }[];
}

/**
 * A session's live state: who is connected, who holds which stream slot, each side's UDP
 * endpoint, pairing, tally and health. Pure: the host supplies sockets, storage and a clock.
 * Every method runs in one turn; messages are handled in the order they arrive.
 */
export class Room {
  readonly record: SessionRecord;
  readonly #deps: RoomDeps;
  readonly #conns = new Map<Conn, ConnState>();
  readonly #streams = new Map<string, StreamSlots>();
  /** The last `stream` view sent per stream, so only changes go out. */
  readonly #published = new Map<string, string>();
  #closed = false;

  constructor(record: SessionRecord, deps: RoomDeps) {
    this.record = record;
    this.#deps = deps;
    for (const name of record.streams) {
      this.#streams.set(name, { sender: undefined, receiver: undefined, pairedKey: undefined });
    }
    const now = deps.now();
    for (const name of record.streams) {
      this.#published.set(name, JSON.stringify(this.#streamView(name, now)));
    }
  }

  get id(): string {
    return this.record.id;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get connectionCount(): number {
    return this.#conns.size;
  }

  get log(): Logger {
    return this.#deps.log;
  }

  now(): number {
    return this.#deps.now();
  }

  // ---- connections ------------------------------------------------------------------------

  /** A new authenticated socket: it gets `welcome` at once. */
  join(conn: Conn): void {
    if (this.#closed) {
      conn.close(new PunchError('ERR_SESSION_CLOSED'));
      return;
    }
    this.#conns.set(conn, {
      limiter: new MessageLimiter(this.#deps.messageLimit ?? RATE_LIMITS.message),
      slots: new Set(),
    });
    conn.send({
      type: 'welcome',
      session: this.id,
      role: conn.claims.role,
      stream: conn.claims.stream,
      expiresAt: this.record.expiresAt,
      tally: this.tallyFor(conn.claims),
      stun: conn.stun,
    });
    // The current state of every covered stream follows at once; changes are pushed after.
    const now = this.now();
    for (const name of this.record.streams) {
      if (coversStream(conn.claims, name))
        conn.send({ type: 'stream', ...this.#streamView(name, now) });
    }
  }

  /** What the room holds for `conn` (see `resume`); undefined when it is not in the room. */
  snapshot(conn: Conn): ConnSnapshot | undefined {
    const state = this.#conns.get(conn);
    if (state === undefined) return undefined;
    const slots: ConnSnapshot['slots'][number][] = [];
    for (const key of state.slots) {
      const [stream, role] = key.split('/') as [string, PeerRole];
      const slot = this.#streams.get(stream)?.[role];
      if (slot?.conn !== conn) continue;
      slots.push({
        stream,
        role,
        username: slot.username,
        public: slot.public ?? null,
        local: slot.local,
      });
    }
    return { claims: conn.claims, slots };
  }

  /**
   * Takes back a connection that was in this room before the host forgot it, with the slots
   * its snapshot held: no `welcome`, no `registered`, no `peer` again (the client has them).
   * Call it for every surviving connection, then `settle()`.
   */
  resume(conn: Conn, snapshot: ConnSnapshot): void {
    if (this.#closed || this.#conns.has(conn)) return;
    conn.claims = snapshot.claims;
    const state: ConnState = {
      limiter: new MessageLimiter(this.#deps.messageLimit ?? RATE_LIMITS.message),
      slots: new Set(),
    };
    this.#conns.set(conn, state);
    for (const s of snapshot.slots) {
      const slots = this.#streams.get(s.stream);
      if (slots === undefined || slots[s.role] !== undefined) continue;
      slots[s.role] = {
        conn,
        username: s.username,
        public: s.public ?? undefined,
        local: [...s.local],
        lastHealth: undefined,
        lastStoredAt: Number.NEGATIVE_INFINITY,
      };
      state.slots.add(`${s.stream}/${s.role}`);
    }
  }

  /**
   * After `resume`: streams whose both sides are known count as paired (their `peer` messages
   * went out before), and the current views count as published, so nothing is sent twice.
   */
  settle(): void {
    const now = this.now();
    for (const [name, s] of this.#streams) {
      if (s.sender?.public !== undefined && s.receiver?.public !== undefined)
        s.pairedKey = pairKey(s.sender, s.receiver);
      this.#published.set(name, JSON.stringify(this.#streamView(name, now)));
    }
  }

  /**
   * When `tick` next has something to do, in milliseconds since the epoch: the session's
   * expiry, a token's expiry, or a live path going silent. For hosts that wake on a timer
   * (a Durable Object alarm) rather than ticking every second.
   */
  nextTickAt(): number {
    let at = this.record.expiresAt * 1000;
    for (const c of this.#conns.keys()) {
      if (c.claims.exp < this.record.expiresAt) at = Math.min(at, c.claims.exp * 1000);
    }
    for (const s of this.#streams.values()) {
      for (const slot of [s.sender, s.receiver]) {
        const h = slot?.lastHealth;
        if (h !== undefined) {
          const silentAt = h.at + HEALTH_LIVE_MS + 1;
          if (silentAt > this.now()) at = Math.min(at, silentAt);
        }
      }
    }
    return at;
  }

  /** The socket is gone: free its slots and tell the other sides. */
  leave(conn: Conn): void {
    const state = this.#conns.get(conn);
    if (state === undefined) return;
    this.#conns.delete(conn);
    for (const key of state.slots) {
      const [stream, role] = key.split('/') as [string, PeerRole];
      this.#release(stream, role, conn);
    }
  }

  /**
   * Handles one frame from `conn` (`null` for a binary frame): rate limit, decode, dispatch;
   * errors go back as `error`.
   */
  receive(conn: Conn, text: string | null): void {
    const state = this.#conns.get(conn);
    if (state === undefined) return;
    const verdict = state.limiter.take(this.now());
    if (verdict === 'close') {
      const flood = new PunchError('ERR_RATE_LIMITED', 'message flood: closing');
      this.sendError(conn, flood.code, flood.message);
      conn.close(flood);
      this.leave(conn);
      return;
    }
    if (verdict !== 'ok') {
      if (verdict === 'warn') {
        const { limit, windowMs } = this.#deps.messageLimit ?? RATE_LIMITS.message;
        this.sendError(
          conn,
          'ERR_RATE_LIMITED',
          `at most ${limit} messages per ${windowMs / 1000} s`,
        );
      }
      return;
    }
    try {
      if (conn.claims.exp <= this.now() / 1000) {
        throw new PunchError('ERR_TOKEN_EXPIRED');
      }
      if (text === null) throw new PunchError('ERR_BAD_REQUEST', 'send JSON text frames');
      const message = decodeClientMessage(text);
      const handler = HANDLERS[message.type] as (room: Room, conn: Conn, m: typeof message) => void;
      handler(this, conn, message);
    } catch (err) {
      if (!(err instanceof PunchError)) {
        // A bug, not bad input: this client gets ERR_INTERNAL, everyone else is unaffected.
        this.#deps.log.error({ session: this.id, err: errorFields(err) }, 'message handler failed');
        this.sendError(conn, 'ERR_INTERNAL', 'internal error');
        return;
      }
      this.sendError(conn, err.code, err.message);
      if (err.code === 'ERR_TOKEN_EXPIRED') {
        conn.close(err);
        this.leave(conn);
      }
    }
  }

  sendError(conn: Conn, code: ErrorCode, message: string): void {
    conn.send({ type: 'error', code, message });
  }

  // ---- slots and pairing ------------------------------------------------------------------

  /** Registers `conn` as `role` of `stream` (permission already checked). */
  register(conn: Conn, stream: string, role: PeerRole): void {
    const slots = this.#slots(stream);
    const state = this.#conns.get(conn);
    if (state === undefined) return;
    const existing = slots[role];
    if (existing?.conn === conn) {
      conn.send({ type: 'registered', stream, role, bind: this.#bind(conn, existing.username) });
      return;
    }
    if (existing !== undefined && scopeRank(conn.claims) < scopeRank(existing.conn.claims)) {
      throw new PunchError(
        'ERR_SLOT_TAKEN',
        `the ${role} of "${stream}" is held by a connection with a broader token`,
      );
    }
    if (existing !== undefined) {
      // A newer registration wins: an agent that restarted must not wait for its old socket.
      const replaced = new PunchError(
        'ERR_REPLACED',
        `a newer connection registered as ${role} of "${stream}"`,
      );
      this.sendError(existing.conn, replaced.code, replaced.message);
      existing.conn.close(replaced);
      this.leave(existing.conn);
    }
    const username = randomId(16);
    slots[role] = {
      conn,
      username,
      public: undefined,
      local: [],
      lastHealth: undefined,
      lastStoredAt: Number.NEGATIVE_INFINITY,
    };
    state.slots.add(`${stream}/${role}`);
    this.#deps.bindings?.add(username, { session: this.id, stream, role, connId: conn.id });
    this.#deps.log.info(
      { session: this.id, stream, role, tokenRole: conn.claims.role },
      'peer registered',
    );
    conn.send({ type: 'registered', stream, role, bind: this.#bind(conn, username) });
    this.#publish(stream);
  }

  /** The slot `conn` holds, or ERR_NOT_REGISTERED. */
  slotOf(conn: Conn, stream: string, role: PeerRole): Slot {
    const slot = this.#slots(stream)[role];
    if (slot?.conn !== conn) {
      throw new PunchError('ERR_NOT_REGISTERED', `register as ${role} of "${stream}" first`);
    }
    return slot;
  }

  /** A UDP endpoint for a slot: observed by STUN, or claimed and checked by the handler. */
  setEndpoint(
    stream: string,
    role: PeerRole,
    update: { public?: Endpoint; local?: Endpoint[] },
  ): void {
    const slot = this.#slots(stream)[role];
    if (slot === undefined) return;
    if (update.public !== undefined) slot.public = update.public;
    if (update.local !== undefined) slot.local = update.local;
    this.#maybePair(stream);
    this.#publish(stream); // an endpoint alone (no pair yet) also changes the view
  }

  /** A STUN Binding request arrived with a username handed out by this room. */
  observe(username: string, stream: string, role: PeerRole, endpoint: Endpoint): void {
    const slot = this.#slots(stream)[role];
    if (slot?.username !== username) return;
    const p = slot.public;
    if (p?.ip === endpoint.ip && p.port === endpoint.port) return;
    this.setEndpoint(stream, role, { public: endpoint });
  }

  #maybePair(stream: string): void {
    const s = this.#slots(stream);
    const { sender, receiver } = s;
    if (sender?.public === undefined || receiver?.public === undefined) return;
    const key = pairKey(sender, receiver);
    if (s.pairedKey === key) return;
    s.pairedKey = key;
    const base = {
      type: 'peer' as const,
      stream,
      passphrase: this.record.passphrase,
      pbkeylen: this.record.pbkeylen,
      latencyMs: this.record.latencyMs,
    };
    sender.conn.send({ ...base, role: 'sender', remote: remoteOf(receiver) });
    receiver.conn.send({ ...base, role: 'receiver', remote: remoteOf(sender) });
    this.#deps.onPaired?.();
    this.#deps.log.info({ session: this.id, stream }, 'stream paired');
    this.#publish(stream);
  }

  #release(stream: string, role: PeerRole, conn: Conn): void {
    const s = this.#slots(stream);
    const slot = s[role];
    if (slot?.conn !== conn) return;
    s[role] = undefined;
    s.pairedKey = undefined;
    this.#deps.bindings?.delete(slot.username);
    const peer = s[other(role)];
    if (peer !== undefined) peer.conn.send({ type: 'peer-left', stream, role });
    this.#deps.log.info({ session: this.id, stream, role }, 'peer left');
    this.#publish(stream);
  }

  #slots(stream: string): StreamSlots {
    const s = this.#streams.get(stream);
    if (s === undefined)
      throw new PunchError('ERR_STREAM_UNKNOWN', `no stream "${stream}" in this session`);
    return s;
  }

  #bind(conn: Conn, username: string): { host: string; port: number; username: string } | null {
    return conn.stun === null ? null : { ...conn.stun, username };
  }

  hasStream(stream: string): boolean {
    return this.#streams.has(stream);
  }

  // ---- health and tally -------------------------------------------------------------------

  /** A health report from the holder of a slot: stored, and fanned out to admins. */
  reportHealth(slot: Slot, stream: string, role: PeerRole, stats: Stats): void {
    const at = this.now();
    slot.lastHealth = { path: stats.path, at };
    // Agents report once a second; faster reports refresh the live path but are not stored or
    // fanned out (not even as a `stream` change), so no client can fill the disk or flood the
    // dashboards. A path that changed meanwhile shows at the next stored report or tick.
    if (at - slot.lastStoredAt < HEALTH_STORE_INTERVAL_MS) return;
    slot.lastStoredAt = at;
    this.#publish(stream);
    const sample: HealthSample = { stream, role, at, stats };
    this.#deps.store.appendHealth(this.id, sample);
    for (const c of this.#conns.keys()) {
      if (c.claims.role === 'admin') c.send({ type: 'health', stream, role, stats, at });
    }
  }

  /** Sets tally and pushes it to everyone, each filtered to the streams its token covers. */
  setTally(tally: Tally): void {
    for (const name of [...tally.program, ...tally.preview]) this.#slots(name);
    this.record.tally = {
      program: [...new Set(tally.program)],
      preview: [...new Set(tally.preview)],
    };
    this.#deps.store.saveSession(this.record);
    for (const c of this.#conns.keys()) c.send({ type: 'tally', ...this.tallyFor(c.claims) });
    for (const name of this.record.streams) this.#publish(name);
  }

  tallyFor(claims: TokenClaims): Tally {
    const { program, preview } = this.record.tally;
    return {
      program: program.filter((s) => coversStream(claims, s)),
      preview: preview.filter((s) => coversStream(claims, s)),
    };
  }

  healthHistory(streams: readonly string[] | null, limit: number): HealthSample[] {
    return this.#deps.store.healthHistory(this.id, streams, limit);
  }

  // ---- views ------------------------------------------------------------------------------

  /** The dashboard's view of the session; a peer sees only the streams its token covers. */
  view(claims: TokenClaims): {
    session: string;
    createdAt: number;
    expiresAt: number;
    tally: Tally;
    streams: StreamViewMessage[];
  } {
    const now = this.now();
    return {
      session: this.id,
      createdAt: this.record.createdAt,
      expiresAt: this.record.expiresAt,
      tally: this.tallyFor(claims),
      streams: this.record.streams
        .filter((name) => coversStream(claims, name))
        .map((name) => this.#streamView(name, now)),
    };
  }

  #streamView(name: string, now: number): StreamViewMessage {
    const s = this.#slots(name);
    const { program, preview } = this.record.tally;
    return {
      name,
      state: streamState(s, now),
      sender: presence(s.sender, now),
      receiver: presence(s.receiver, now),
      tally: program.includes(name) ? 'program' : preview.includes(name) ? 'preview' : 'none',
    };
  }

  /**
   * Pushes `stream` to every socket covering `name` when its view changed since the last push
   * (presence, pairing, a path going live or silent, tally), so dashboards never poll.
   */
  #publish(name: string): void {
    const view = this.#streamView(name, this.now());
    const key = JSON.stringify(view);
    if (this.#published.get(name) === key) return;
    this.#published.set(name, key);
    for (const c of this.#conns.keys()) {
      if (coversStream(c.claims, name)) c.send({ type: 'stream', ...view });
    }
  }

  /** Known public endpoints per stream (for `/connect`). */
  endpoints(stream: string): { sender: Endpoint | null; receiver: Endpoint | null } {
    const s = this.#slots(stream);
    return { sender: s.sender?.public ?? null, receiver: s.receiver?.public ?? null };
  }

  // ---- lifetime -----------------------------------------------------------------------------

  /**
   * Moves expiry to `expiresAt`. Sockets whose tokens lived as long as the session get fresh
   * tokens (`token`), signed with the current key.
   */
  async extend(expiresAt: number): Promise<void> {
    const old = this.record.expiresAt;
    this.record.expiresAt = expiresAt;
    this.#deps.store.saveSession(this.record);
    const refreshes = [...this.#conns.keys()]
      .filter((c) => c.claims.exp >= old)
      .map(async (c) => {
        await this.refreshToken(c, expiresAt);
      });
    await Promise.all(refreshes);
  }

  /** Signs a fresh token for `conn` (same role and stream) and sends it. */
  async refreshToken(conn: Conn, exp: number = conn.claims.exp): Promise<void> {
    const claims: TokenClaims = { ...conn.claims, exp, iat: Math.floor(this.now() / 1000) };
    const token = await this.#deps.sign(claims);
    if (!this.#conns.has(conn)) return;
    conn.claims = claims;
    conn.send({ type: 'token', token, expiresAt: exp });
  }

  /**
   * Time passes: sockets whose tokens have expired are closed. Returns true when the session
   * itself has expired (the host then calls `close('expired')`).
   */
  tick(nowMs: number): boolean {
    const now = nowMs / 1000;
    for (const c of [...this.#conns.keys()]) {
      if (c.claims.exp <= now && c.claims.exp < this.record.expiresAt) {
        const expired = new PunchError('ERR_TOKEN_EXPIRED', 'the token has expired');
        this.sendError(c, expired.code, expired.message);
        c.close(expired);
        this.leave(c);
      }
    }
    // A path whose reports stopped stops counting as live: dashboards learn it from here.
    for (const name of this.record.streams) this.#publish(name);
    return this.record.expiresAt <= now;
  }

  /** Ends the session: everyone is told and disconnected, and every row is deleted. */
  close(reason: 'closed' | 'expired'): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const c of [...this.#conns.keys()]) {
      c.send({ type: 'closed', reason });
      c.close(new PunchError('ERR_SESSION_CLOSED', reason));
      this.leave(c);
    }
    this.#deps.store.deleteSession(this.id);
    this.#deps.log.info({ session: this.id, reason }, 'session closed');
    this.#deps.onClosed?.(this, reason);
  }

  /** Sends to every socket (host shutdown notices). */
  broadcast(message: ServerMessage): void {
    for (const c of this.#conns.keys()) c.send(message);
  }
}

type PresenceView = StreamViewMessage['sender'];

function pairKey(sender: Slot, receiver: Slot): string {
  return JSON.stringify([sender.public, sender.local, receiver.public, receiver.local]);
}

function remoteOf(slot: Slot): { ip: string; port: number; local?: Endpoint[] } {
  const p = slot.public as Endpoint;
  return slot.local.length > 0
    ? { ip: p.ip, port: p.port, local: slot.local }
    : { ip: p.ip, port: p.port };
}

function liveness(slot: Slot | undefined, now: number): 'direct' | 'relay' | 'none' | null {
  const h = slot?.lastHealth;
  if (h === undefined || now - h.at > HEALTH_LIVE_MS) return null;
  return h.path ?? null;
}

function presence(slot: Slot | undefined, now: number): PresenceView {
  return {
    present: slot !== undefined,
    endpoint: slot?.public !== undefined,
    path: liveness(slot, now),
  };
}

function streamState(s: StreamSlots, now: number): StreamStateName {
  if (s.sender === undefined && s.receiver === undefined) return 'idle';
  if (s.pairedKey === undefined) return 'waiting';
  const live = [liveness(s.sender, now), liveness(s.receiver, now)];
  return live.some((p) => p === 'direct' || p === 'relay') ? 'connected' : 'paired';
}

export type { Slot };
