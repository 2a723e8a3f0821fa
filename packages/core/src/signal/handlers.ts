import type { SignalClientMessage, SignalClientMessageType } from '../wire/signal.js';
import type { SignalConn } from './conn.js';
import type { SignalRoom } from './room.js';

type Handler<T extends SignalClientMessageType> = (
  room: SignalRoom,
  conn: SignalConn,
  message: Extract<SignalClientMessage, { type: T }>,
) => void | Promise<void>;

/** One handler per signalling message type, looked up by `type`. */
export const SIGNAL_HANDLERS: { [T in SignalClientMessageType]: Handler<T> } = {
  signal(room, conn, m) {
    room.relay(conn, m.to, m.payload);
  },

  token(room, conn, m) {
    return room.refresh(conn, m.token);
  },

  ping(room, conn) {
    conn.send({ type: 'pong', at: room.now() });
  },
};
