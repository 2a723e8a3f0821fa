import { PunchError } from '../errors.js';
import { errorFields } from '../logger.js';
import type { Conn } from './conn.js';
import type { SessionRecord } from './record.js';
import { Room, type RoomDeps } from './room.js';

/**
 * What every host does around a session room, written once: create it (with its rows), seat an
 * authenticated socket in it, and how long health history is kept. The hosts differ only in
 * where rooms live (a map on Node, one Durable Object each on Workers).
 */

/** Health history kept per session, on every host; older samples are pruned. */
export const HEALTH_KEEP_MS = 3_600_000;

/**
 * A new session's room, its record stored first (over any rows a previous session of the same
 * name left behind).
 *
 * @example
 * const room = createRoom(record, { store, log, now: Date.now, sign, bindings: null });
 */
export function createRoom(record: SessionRecord, deps: RoomDeps): Room {
  deps.store.deleteSession(record.id);
  deps.store.saveSession(record);
  return new Room(record, deps);
}

/**
 * Seats an authenticated socket in its room: `welcome` goes out at once, and when its token
 * was verified with a rotated-out secret (`stale`), a fresh token signed with the current one
 * follows. A refresh that fails closes the socket (ERR_INTERNAL) and is logged with its cause.
 *
 * @example
 * const { claims, stale, room } = await authenticateSession(deps, headers, id, where, true);
 * seat(room, conn, stale);
 */
export function seat(room: Room, conn: Conn, stale: boolean): void {
  room.join(conn);
  if (!stale) return;
  room.refreshToken(conn).catch((err: unknown) => {
    room.log.error({ session: room.id, err: errorFields(err) }, 'token refresh failed');
    conn.close(new PunchError('ERR_INTERNAL', 'token refresh failed'));
  });
}
