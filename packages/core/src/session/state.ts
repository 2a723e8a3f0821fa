import { MessageLimiter, RATE_LIMITS } from '../ratelimit.js';
import type { Conn } from './conn.js';
import type { SessionRecord } from './record.js';
import type { RoomDeps } from './room.js';
import { SlotRefs } from './slot-ref.js';
import type { SlotTable } from './slots.js';
import type { StreamViews } from './views.js';

/** What a room keeps per connection beyond its socket. */
export interface ConnState {
  readonly limiter: MessageLimiter;
  /** The slots this connection holds, in the order it took them. */
  readonly slots: SlotRefs;
  /** When it last sent a message (ms since the epoch): a holder silent 5 s may be replaced. */
  lastSeen: number;
}

/**
 * One room's state, shared by the modules that act on it (connections, slots, pairing, health,
 * tally, views, lifetime, snapshots). Only `Room` builds one, and hosts only ever see the room.
 */
export interface RoomState {
  readonly record: SessionRecord;
  readonly deps: RoomDeps;
  readonly conns: Map<Conn, ConnState>;
  readonly slots: SlotTable;
  readonly views: StreamViews;
  closed: boolean;
}

/**
 * A fresh per-connection state: its own message limiter, no slots.
 *
 * @example
 * room.conns.set(conn, newConnState(room.deps));
 */
export function newConnState(deps: RoomDeps): ConnState {
  return {
    limiter: new MessageLimiter(deps.messageLimit ?? RATE_LIMITS.message),
    slots: new SlotRefs(),
    lastSeen: deps.now(),
  };
}
