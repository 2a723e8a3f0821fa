import { PunchError } from '../errors.js';
import { randomId } from '../passphrase.js';
import { scopeRank } from '../permissions.js';
import type { Endpoint } from '../wire/common.js';
import type { TakeoverViewData } from '../wire/http.js';
import type { Bind, ServerMessage } from '../wire/to-client.js';
import type { Conn } from './conn.js';
import { expel, releaseOne } from './connections.js';
import { SlotHealth } from './health.js';
import { otherRole, type SlotRef } from './slot-ref.js';
import type { RoomState } from './state.js';

/** One side of a stream, held by one connection. */
export interface Slot {
  readonly conn: Conn;
  /** The STUN USERNAME handed out in `registered.bind` for this registration. */
  readonly username: string;
  public: Endpoint | undefined;
  local: Endpoint[];
  /** The address a TURN relay allocated for this side, once its agent relays. */
  relay: Endpoint | undefined;
  /** Every address sent to this side in `peer` (what its relay credentials may reach). */
  handed: Endpoint[];
  readonly health: SlotHealth;
}

/** A stream's two slots. */
export interface StreamSlots {
  sender: Slot | undefined;
  receiver: Slot | undefined;
  /** The remotes last sent in `peer`, so an unchanged pair is not sent again. */
  pairedKey: string | undefined;
  /** The last time a live holder was replaced (shown to dashboards), if ever. */
  takeover: TakeoverViewData | undefined;
}

/**
 * Every stream of a session and who holds each side. The one place that knows which streams
 * exist: a name that is not one is ERR_STREAM_UNKNOWN here, whoever asks.
 */
export class SlotTable implements Iterable<[string, StreamSlots]> {
  readonly #streams = new Map<string, StreamSlots>();

  constructor(streams: readonly string[]) {
    for (const name of streams) {
      this.#streams.set(name, {
        sender: undefined,
        receiver: undefined,
        pairedKey: undefined,
        takeover: undefined,
      });
    }
  }

  has(stream: string): boolean {
    return this.#streams.has(stream);
  }

  /** Both sides of `stream`, or ERR_STREAM_UNKNOWN. */
  of(stream: string): StreamSlots {
    const s = this.#streams.get(stream);
    if (s === undefined)
      throw new PunchError('ERR_STREAM_UNKNOWN', `no stream "${stream}" in this session`);
    return s;
  }

  /** Whoever holds the slot `ref` names, if anyone (ERR_STREAM_UNKNOWN for no such stream). */
  at(ref: SlotRef): Slot | undefined {
    return this.of(ref.stream)[ref.role];
  }

  /** The slot `ref` names when `conn` holds it, or ERR_NOT_REGISTERED. */
  held(conn: Conn, ref: SlotRef): Slot {
    const slot = this.at(ref);
    if (slot?.conn !== conn) {
      throw new PunchError(
        'ERR_NOT_REGISTERED',
        `register as ${ref.role} of "${ref.stream}" first`,
      );
    }
    return slot;
  }

  /** Gives the slot to `conn` under `username` (with endpoints when resumed), no health yet. */
  fill(
    ref: SlotRef,
    conn: Conn,
    username: string,
    endpoints: Partial<Pick<Slot, 'public' | 'local' | 'relay'>> = {},
  ): Slot {
    const slot: Slot = {
      conn,
      username,
      public: endpoints.public,
      local: endpoints.local ?? [],
      relay: endpoints.relay,
      handed: [],
      health: new SlotHealth(),
    };
    this.of(ref.stream)[ref.role] = slot;
    return slot;
  }

  /**
   * Frees the slot if `conn` holds it, and forgets the stream's pairing. Returns the freed slot
   * and whoever holds the other side, or undefined when `conn` did not hold it.
   */
  release(conn: Conn, ref: SlotRef): { slot: Slot; other: Slot | undefined } | undefined {
    const s = this.of(ref.stream);
    const slot = s[ref.role];
    if (slot?.conn !== conn) return undefined;
    s[ref.role] = undefined;
    s.pairedKey = undefined;
    return { slot, other: s[otherRole(ref.role)] };
  }

  /** Known public endpoints of `stream` (for `/connect`). */
  endpoints(stream: string): { sender: Endpoint | null; receiver: Endpoint | null } {
    const s = this.of(stream);
    return { sender: s.sender?.public ?? null, receiver: s.receiver?.public ?? null };
  }

  [Symbol.iterator](): Iterator<[string, StreamSlots]> {
    return this.#streams.entries();
  }
}

/** A slot's holder that sent nothing for this long may be replaced without a takeover. */
export const HOLDER_LIVE_MS = 5000;

/**
 * Registers `conn` as the slot `ref` names (permission already checked). Registering again on
 * the same socket keeps the slot and its username. A live slot is not taken silently
 * (DESIGN.md "Streams on show day"): while its holder's socket is open and spoke in the last
 * 5 s, another registration is refused (ERR_SLOT_TAKEN) unless it asks to take over or comes
 * from an admin token; a silent holder (an agent that died without closing) is replaced, so a
 * restarted agent never waits for its old socket. A holder with a broader token is never
 * replaced by a narrower one. The displaced side is told who took over (ERR_REPLACED) and
 * closed; a live one that holds other slots too keeps them and its socket, and loses this one
 * alone (its ERR_REPLACED names the stream).
 *
 * @example
 * register(room, conn, { stream: 'cam-wide', role: 'sender' }, false); // conn gets `registered`
 */
export function register(room: RoomState, conn: Conn, ref: SlotRef, takeover: boolean): void {
  const existing = room.slots.at(ref);
  const state = room.conns.get(conn);
  if (state === undefined) return;
  const { stream, role } = ref;
  if (existing?.conn === conn) {
    conn.send(registered(room, conn, ref, existing.username));
    return;
  }
  if (existing !== undefined && scopeRank(conn.claims) < scopeRank(existing.conn.claims)) {
    throw new PunchError(
      'ERR_SLOT_TAKEN',
      `the ${role} of "${stream}" is held by a connection with a broader token`,
    );
  }
  if (existing !== undefined) {
    const seen = room.conns.get(existing.conn)?.lastSeen ?? 0;
    const live = room.deps.now() - seen < HOLDER_LIVE_MS;
    const admin = conn.claims.role === 'admin';
    if (live && !takeover && !admin) {
      throw new PunchError(
        'ERR_SLOT_TAKEN',
        `the ${role} of "${stream}" is held by another connection that is live; to replace it, register with takeover (punch peer --takeover)`,
      );
    }
    const by = !live
      ? 'a new connection, as this one had gone silent'
      : admin
        ? 'a connection with an admin token'
        : 'another connection that asked to take over (punch peer --takeover)';
    const err = new PunchError(
      'ERR_REPLACED',
      `the ${role} of "${stream}" was taken over by ${by}`,
    );
    // A live socket that holds other slots too (an agent receiving every stream) loses this
    // one alone when the taker's token has another scope: a producer watching one camera must
    // not take the whole MCR off air. A silent one is a dead agent being restarted, and one
    // taken by the same kind of token is the same agent reconnecting or its replacement: it
    // goes whole (one takeover, not one per stream).
    const others = (room.conns.get(existing.conn)?.slots.size ?? 0) > 1;
    const sameScope =
      existing.conn.claims.role === conn.claims.role &&
      existing.conn.claims.stream === conn.claims.stream;
    if (live && others && !sameScope) releaseOne(room, existing.conn, ref, err);
    else expel(room, existing.conn, err);
    // A live holder pushed out is news for the producer; a silent one replaced is a restart.
    if (live)
      room.slots.of(stream).takeover = { role, at: room.deps.now(), by: admin ? 'admin' : 'peer' };
  }
  const username = randomId(16);
  room.slots.fill(ref, conn, username);
  state.slots.add(ref);
  room.deps.bindings?.add(username, { session: room.record.id, stream, role, connId: conn.id });
  room.deps.log.info(
    { session: room.record.id, stream, role, tokenRole: conn.claims.role },
    'peer registered',
  );
  conn.send(registered(room, conn, ref, username));
  room.views.publish(stream);
}

/** `registered`: where to send STUN, the socket's relay credentials and the session's mode. */
function registered(room: RoomState, conn: Conn, ref: SlotRef, username: string): ServerMessage {
  return {
    type: 'registered',
    stream: ref.stream,
    role: ref.role,
    bind: bindFor(conn, username),
    relay: conn.relay ?? null,
    mode: room.record.relay,
  };
}

/** Where `conn` sends its STUN Binding request, and as whom; null when the host has no STUN. */
function bindFor(conn: Conn, username: string): Bind | null {
  return conn.stun === null ? null : { ...conn.stun, username };
}
