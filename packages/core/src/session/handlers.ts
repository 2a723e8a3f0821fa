import { PunchError } from '../errors.js';
import { authorize, authorizeSlot } from '../permissions.js';
import { sameIp } from '../net/ip.js';
import type { Endpoint } from '../wire/common.js';
import type { ClientMessage, ClientMessageType } from '../wire/messages.js';
import type { Conn } from './conn.js';
import type { Room } from './room.js';

type Handler<T extends ClientMessageType> = (
  room: Room,
  conn: Conn,
  message: Extract<ClientMessage, { type: T }>,
) => void;

/**
 * One handler per client message type, looked up by `type`. Each checks the seed's role table
 * for its message before touching the room.
 */
export const HANDLERS: { [T in ClientMessageType]: Handler<T> } = {
  register(room, conn, m) {
    authorizeSlot(conn.claims, m.stream, m.role);
    if (!room.hasStream(m.stream))
      throw new PunchError('ERR_STREAM_UNKNOWN', `no stream "${m.stream}" in this session`);
    room.register(conn, m.stream, m.role);
  },

  endpoint(room, conn, m) {
    authorizeSlot(conn.claims, m.stream, m.role);
    room.slotOf(conn, m.stream, m.role);
    if (m.public !== undefined && !sameIp(m.public.ip, conn.ip)) {
      // A claimed public endpoint must come from the address the socket itself came from;
      // otherwise anyone holding a token could point a peer's media at a third party.
      throw new PunchError(
        'ERR_ENDPOINT_MISMATCH',
        'the public IP must be the one this connection comes from',
      );
    }
    const update: { public?: Endpoint; local?: Endpoint[] } = {};
    if (m.public !== undefined) update.public = m.public;
    if (m.local !== undefined) update.local = m.local;
    room.setEndpoint(m.stream, m.role, update);
  },

  health(room, conn, m) {
    authorize(conn.claims, 'health.view.own', m.stream);
    const slot = room.slotOf(conn, m.stream, m.role);
    room.reportHealth(slot, m.stream, m.role, m.stats);
  },

  tally(room, conn, m) {
    authorize(conn.claims, 'tally.set');
    room.setTally({ program: m.program, preview: m.preview });
  },

  ping(room, conn) {
    conn.send({ type: 'pong', at: room.now() });
  },
};
