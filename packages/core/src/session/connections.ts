import { PunchError, type ErrorCode } from '../errors.js';
import { errorFields } from '../logger.js';
import { coversStream } from '../permissions.js';
import { RATE_LIMITS } from '../ratelimit.js';
import { decodeClientMessage, type ClientMessage } from '../wire/messages.js';
import type { Conn } from './conn.js';
import type { SlotRef } from './slot-ref.js';
import { newConnState, type RoomState } from './state.js';
import { originFor, tallyFor } from './tally.js';

/**
 * A new authenticated socket: it gets `welcome` at once, then every covered stream's view.
 *
 * @example
 * join(room, conn); // conn.send({ type: 'welcome', ... }), then one `stream` per covered stream
 */
export function join(room: RoomState, conn: Conn): void {
  if (room.closed) {
    conn.close(new PunchError('ERR_SESSION_CLOSED'));
    return;
  }
  room.conns.set(conn, newConnState(room.deps));
  conn.send({
    type: 'welcome',
    session: room.record.id,
    role: conn.claims.role,
    stream: conn.claims.stream,
    expiresAt: room.record.expiresAt,
    tally: tallyFor(room.record.tally, conn.claims),
    ...originFor(room.record, conn.claims),
    stun: conn.stun,
    ...(conn.publicStun === undefined ? {} : { publicStun: conn.publicStun }),
  });
  // The current state of every covered stream follows at once; changes are pushed after.
  const now = room.deps.now();
  for (const name of room.record.streams) {
    if (coversStream(conn.claims, name))
      conn.send({ type: 'stream', ...room.views.view(name, now) });
  }
}

/**
 * The socket is gone: free its slots and tell the other sides (`peer-left`).
 *
 * @example
 * socket.on('close', () => leave(room, conn));
 */
export function leave(room: RoomState, conn: Conn): void {
  const state = room.conns.get(conn);
  if (state === undefined) return;
  room.conns.delete(conn);
  for (const ref of state.slots) free(room, conn, ref);
}

/** `conn` no longer holds `ref`: the other side is told, and dashboards see the slot empty. */
function free(room: RoomState, conn: Conn, ref: SlotRef): void {
  const freed = room.slots.release(conn, ref);
  if (freed === undefined) return;
  room.deps.bindings?.delete(freed.slot.username);
  freed.other?.health.forgetMedia(room.deps.now());
  freed.other?.conn.send({ type: 'peer-left', stream: ref.stream, role: ref.role });
  room.deps.log.info({ session: room.record.id, ...ref }, 'peer left');
  room.views.publish(ref.stream);
}

/**
 * Takes one slot from a connection that holds others too (an agent receiving every stream):
 * it is told why, with the slot's stream, and keeps its socket and its other slots.
 *
 * @example
 * releaseOne(room, conn, { stream: 'cam-wide', role: 'receiver' }, new PunchError('ERR_REPLACED', '…'));
 */
export function releaseOne(room: RoomState, conn: Conn, ref: SlotRef, err: PunchError): void {
  const state = room.conns.get(conn);
  if (state === undefined || !state.slots.delete(ref)) return;
  conn.send({ type: 'error', code: err.code, message: err.message, ...ref });
  free(room, conn, ref);
}

/**
 * Tells `conn` why it is being closed, closes it with `err`'s close code, and lets it leave.
 *
 * @example
 * expel(room, conn, new PunchError('ERR_TOKEN_EXPIRED', 'the token has expired'));
 */
export function expel(room: RoomState, conn: Conn, err: PunchError): void {
  sendError(conn, err.code, err.message);
  conn.close(err);
  leave(room, conn);
}

/**
 * Sends `error` to one socket; the socket stays open. `stream` names the stream of the refused
 * message, so a socket carrying several streams (an agent receiving every stream) knows which
 * one was refused.
 *
 * @example
 * sendError(conn, 'ERR_RATE_LIMITED', 'at most 100 messages per 1 s');
 */
export function sendError(conn: Conn, code: ErrorCode, message: string, stream?: string): void {
  conn.send(
    stream === undefined
      ? { type: 'error', code, message }
      : { type: 'error', code, message, stream },
  );
}

/**
 * Handles one frame from `conn` (`null` for a binary frame): rate limit, token expiry, decode,
 * then `dispatch`; errors go back as `error`.
 *
 * @example
 * receive(room, conn, text, (message) => {
 *   handleMessage(facade, conn, message);
 * });
 */
export function receive(
  room: RoomState,
  conn: Conn,
  text: string | null,
  dispatch: (message: ClientMessage) => void,
): void {
  const state = room.conns.get(conn);
  if (state === undefined) return;
  state.lastSeen = room.deps.now();
  const verdict = state.limiter.take(state.lastSeen);
  if (verdict === 'close') {
    expel(room, conn, new PunchError('ERR_RATE_LIMITED', 'message flood: closing'));
    return;
  }
  if (verdict !== 'ok') {
    if (verdict === 'warn') {
      const { limit, windowMs } = room.deps.messageLimit ?? RATE_LIMITS.message;
      sendError(conn, 'ERR_RATE_LIMITED', `at most ${limit} messages per ${windowMs / 1000} s`);
    }
    return;
  }
  let message: ClientMessage | undefined;
  try {
    if (conn.claims.exp <= room.deps.now() / 1000) throw new PunchError('ERR_TOKEN_EXPIRED');
    if (text === null) throw new PunchError('ERR_BAD_REQUEST', 'send JSON text frames');
    message = decodeClientMessage(text);
    dispatch(message);
  } catch (err) {
    if (!(err instanceof PunchError)) {
      // A bug, not bad input: this client gets ERR_INTERNAL, everyone else is unaffected.
      room.deps.log.error(
        { session: room.record.id, err: errorFields(err) },
        'message handler failed',
      );
      sendError(conn, 'ERR_INTERNAL', 'internal error');
      return;
    }
    if (err.code === 'ERR_TOKEN_EXPIRED') expel(room, conn, err);
    else
      sendError(
        conn,
        err.code,
        err.message,
        message !== undefined && 'stream' in message ? message.stream : undefined,
      );
  }
}
