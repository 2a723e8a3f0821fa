import type { TokenClaims } from '../token/claims.js';
import type { Endpoint, PeerRole } from '../wire/common.js';
import type { TakeoverViewData } from '../wire/http.js';
import type { Conn } from './conn.js';
import { replayHealth } from './health.js';
import { handedOf, readyPair } from './pairing.js';
import { newConnState, type RoomState } from './state.js';

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
    /** Absent from snapshots written before the relay. */
    readonly relay?: Endpoint | null | undefined;
    /** The stream's last takeover, so dashboards still see it after hibernation. */
    readonly takeover?: TakeoverViewData | null | undefined;
  }[];
}

/**
 * What the room holds for `conn` (see `resume`); undefined when it is not in the room.
 *
 * @example
 * const snap = snapshot(room, conn);
 * if (snap !== undefined) storage.put(conn.id, JSON.stringify(snap));
 */
export function snapshot(room: RoomState, conn: Conn): ConnSnapshot | undefined {
  const state = room.conns.get(conn);
  if (state === undefined) return undefined;
  const slots: ConnSnapshot['slots'][number][] = [];
  for (const ref of state.slots) {
    const slot = room.slots.at(ref);
    if (slot?.conn !== conn) continue;
    const takeover = room.slots.of(ref.stream).takeover;
    slots.push({
      stream: ref.stream,
      role: ref.role,
      username: slot.username,
      public: slot.public ?? null,
      local: slot.local,
      relay: slot.relay ?? null,
      // Only when there is one: most snapshots stay as they were stored before takeovers.
      ...(takeover === undefined ? {} : { takeover }),
    });
  }
  return { claims: conn.claims, slots };
}

/**
 * Takes back a connection that was in the room before the host forgot it, with the slots its
 * snapshot held: no `welcome`, no `registered`, no `peer` again (the client has them). A slot
 * already taken, or of a stream the session no longer has, is left out.
 *
 * @example
 * for (const [conn, snap] of survivors) resume(room, conn, snap);
 * settle(room);
 */
export function resume(room: RoomState, conn: Conn, snap: ConnSnapshot): void {
  if (room.closed || room.conns.has(conn)) return;
  conn.claims = snap.claims;
  const state = newConnState(room.deps);
  room.conns.set(conn, state);
  for (const s of snap.slots) {
    if (!room.slots.has(s.stream) || room.slots.at(s) !== undefined) continue;
    room.slots.fill(s, conn, s.username, {
      public: s.public ?? undefined,
      local: [...s.local],
      relay: s.relay ?? undefined,
    });
    state.slots.add(s);
    const stream = room.slots.of(s.stream);
    if (
      s.takeover !== undefined &&
      s.takeover !== null &&
      (stream.takeover?.at ?? -1) < s.takeover.at
    ) {
      stream.takeover = s.takeover;
    }
    // A host with a STUN server matches Binding requests by this username: hand it back.
    room.deps.bindings?.add(s.username, {
      session: room.record.id,
      stream: s.stream,
      role: s.role,
      connId: conn.id,
    });
  }
}

/**
 * After `resume`: streams whose both sides are known count as paired (their `peer` messages
 * went out before), and the current views count as published, so nothing is sent twice.
 *
 * @example
 * settle(room); // after every surviving connection was resumed
 */
export function settle(room: RoomState): void {
  for (const [, s] of room.slots) {
    const pair = readyPair(s, room.record.relay);
    if (pair === undefined) continue;
    s.pairedKey = pair.key;
    // What `peer` carried before the host forgot the room: the relay's allowance again.
    pair.sender.slot.handed = handedOf(pair.sender.remote);
    pair.receiver.slot.handed = handedOf(pair.receiver.remote);
  }
  replayHealth(room);
  room.views.markAllPublished();
}
