import { PunchError } from '../errors.js';
import type { TokenClaims } from '../token/claims.js';
import type { RelayCredentials } from '../wire/common.js';
import type { Conn } from './conn.js';
import { expel, leave } from './connections.js';
import type { RoomState } from './state.js';

/**
 * Moves expiry to `expiresAt`. Sockets whose tokens lived as long as the session get fresh
 * tokens (`token`), signed with the current key.
 *
 * @example
 * await extend(room, room.record.expiresAt + 3600);
 */
export async function extend(room: RoomState, expiresAt: number): Promise<void> {
  const old = room.record.expiresAt;
  // Stored before it is the room's: a write that fails (ERR_STORAGE) changes nothing.
  room.deps.store.saveSession({ ...room.record, expiresAt });
  room.record.expiresAt = expiresAt;
  const refreshes = [...room.conns.keys()]
    .filter((c) => c.claims.exp >= old)
    .map(async (c) => {
      await refreshToken(room, c, expiresAt);
    });
  await Promise.all(refreshes);
}

/**
 * Signs a fresh token for `conn` (same role and stream) and sends it.
 *
 * @example
 * await refreshToken(room, conn, conn.claims.exp);
 */
export async function refreshToken(room: RoomState, conn: Conn, exp: number): Promise<void> {
  const claims: TokenClaims = { ...conn.claims, exp, iat: Math.floor(room.deps.now() / 1000) };
  const token = await room.deps.sign(claims);
  // Relay credentials expire with the token that got them: the fresh token brings fresh ones.
  const relay = await mintRelay(room, conn, exp);
  // The socket may have left while the key signed: it gets nothing.
  if (!room.conns.has(conn)) return;
  conn.claims = claims;
  if (relay === null) {
    conn.send({ type: 'token', token, expiresAt: exp });
    return;
  }
  conn.relay = relay;
  conn.send({ type: 'token', token, expiresAt: exp, relay });
}

/**
 * TURN credentials for socket `connId` whose token expires at `exp`, never outliving the
 * session; null when the host has no relay.
 *
 * @example
 * conn.relay = await mintRelay(room, conn, conn.claims.exp);
 */
export async function mintRelay(
  room: RoomState,
  conn: Pick<Conn, 'id' | 'stun'>,
  exp: number,
): Promise<RelayCredentials | null> {
  const issue = room.deps.relay;
  if (issue === undefined) return null;
  const expiresAt = Math.min(exp, room.record.expiresAt);
  return issue({ session: room.record.id, conn: conn.id, expiresAt, host: conn.stun?.host });
}

/**
 * Time passes: sockets whose tokens have expired are closed, and paths whose reports stopped
 * stop counting as live. True when the session itself has expired.
 *
 * @example
 * if (tick(room, Date.now())) close(room, 'expired');
 */
export function tick(room: RoomState, nowMs: number): boolean {
  const now = nowMs / 1000;
  for (const c of [...room.conns.keys()]) {
    if (c.claims.exp <= now && c.claims.exp < room.record.expiresAt) {
      expel(room, c, new PunchError('ERR_TOKEN_EXPIRED', 'the token has expired'));
    }
  }
  // A path whose reports stopped stops counting as live: dashboards learn it from here.
  room.views.publishAll();
  return room.record.expiresAt <= now;
}

/**
 * When `tick` next has something to do, in milliseconds since the epoch: the session's expiry,
 * a token's expiry, a live path going silent, or its media going quiet.
 *
 * @example
 * void storage.setAlarm(nextTickAt(room));
 */
export function nextTickAt(room: RoomState): number {
  let at = room.record.expiresAt * 1000;
  for (const c of room.conns.keys()) {
    if (c.claims.exp < room.record.expiresAt) at = Math.min(at, c.claims.exp * 1000);
  }
  const now = room.deps.now();
  for (const [, s] of room.slots) {
    for (const slot of [s.sender, s.receiver]) {
      const silentAt = slot?.health.silentAt(now);
      if (silentAt !== undefined) at = Math.min(at, silentAt);
      // A live path whose media stops turns `no-signal` with no message to wake the room.
      const mediaAt = slot?.health.mediaChangeAt(now);
      if (mediaAt !== undefined) at = Math.min(at, mediaAt);
    }
  }
  return at;
}

/**
 * Ends the session: everyone is told and disconnected, and every row is deleted. False when it
 * had already ended (nothing happens).
 *
 * @example
 * if (close(room, 'closed')) room.deps.onClosed?.(facade, 'closed');
 */
export function close(room: RoomState, reason: 'closed' | 'expired'): boolean {
  if (room.closed) return false;
  room.closed = true;
  for (const c of [...room.conns.keys()]) {
    c.send({ type: 'closed', reason });
    c.close(new PunchError('ERR_SESSION_CLOSED', reason));
    leave(room, c);
  }
  room.deps.store.deleteSession(room.record.id);
  room.deps.log.info({ session: room.record.id, reason }, 'session closed');
  return true;
}
