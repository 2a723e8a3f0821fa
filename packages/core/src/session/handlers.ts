import { authorize, authorizeSlot } from '../permissions.js';
import type { ClientMessage, ClientMessageType } from '../wire/messages.js';
import type { Conn } from './conn.js';
import type { EndpointUpdate } from './pairing.js';
import type { Room } from './room.js';

type Handler<T extends ClientMessageType> = (
  room: Room,
  conn: Conn,
  message: Extract<ClientMessage, { type: T }>,
) => void;

/**
 * One handler per client message type, looked up by `type`. Each checks the seed's role table
 * for its message, then asks the room for what the message means; the room checks that the
 * stream exists and that the sender holds the slot.
 */
export const HANDLERS: { [T in ClientMessageType]: Handler<T> } = {
  register(room, conn, m) {
    authorizeSlot(conn.claims, m.stream, m.role);
    room.register(conn, m.stream, m.role, m.takeover === true);
  },

  endpoint(room, conn, m) {
    authorizeSlot(conn.claims, m.stream, m.role);
    const update: EndpointUpdate = {};
    if (m.public !== undefined) update.public = m.public;
    if (m.local !== undefined) update.local = m.local;
    if (m.relay !== undefined) update.relay = m.relay;
    room.setEndpoint(conn, m.stream, m.role, update);
  },

  health(room, conn, m) {
    authorize(conn.claims, 'health.view.own', m.stream);
    room.reportHealth(conn, m.stream, m.role, m.stats);
  },

  tally(room, conn, m) {
    authorize(conn.claims, 'tally.set');
    room.setTally({ program: m.program, preview: m.preview }, m.source ?? null);
  },

  ping(room, conn) {
    conn.send({ type: 'pong', at: room.now() });
  },
};

/**
 * Runs the handler for `message`'s type.
 *
 * @example
 * handleMessage(room, conn, decodeClientMessage(text));
 */
export function handleMessage(room: Room, conn: Conn, message: ClientMessage): void {
  // The registry is keyed by type, so the handler found takes this very message; TypeScript
  // cannot correlate the two through the union, hence the one widening here.
  const handler = HANDLERS[message.type] as (room: Room, conn: Conn, m: ClientMessage) => void;
  handler(room, conn, message);
}
