import type { Duplex } from 'node:stream';
import { WebSocket } from 'ws';
import type { ServerMessage, SignalServerMessage } from '@punch/core';

/** A socket that buffers more than this is too slow to keep up with: it is dropped. */
export const MAX_BUFFERED = 1 << 20;

/**
 * The JSON sender of one server-side WebSocket whose TCP (or TLS) stream is `socket`.
 *
 * Every frame sent in one tick leaves in one write: the socket is corked at the tick's first
 * send and uncorked on the next tick (the pattern Node documents for `writable.cork()`). A
 * burst of relayed signals, many frames out of one TCP read, then costs one `writev` instead of
 * one per frame, and nothing waits longer than the current tick. A socket too slow to drain
 * its buffer is dropped; a socket that is not open sends nothing.
 *
 * @example
 * wss.handleUpgrade(req, socket, head, (ws) => {
 *   const send = jsonSender(ws, socket);
 *   send({ type: 'pong', at: Date.now() });
 * });
 */
export function jsonSender(
  ws: WebSocket,
  socket: Duplex,
): (message: ServerMessage | SignalServerMessage) => void {
  let corked = false;
  const flush = (): void => {
    corked = false;
    socket.uncork();
  };
  return (message) => {
    if (ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > MAX_BUFFERED) {
      ws.terminate();
      return;
    }
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(flush);
    }
    ws.send(JSON.stringify(message));
  };
}
