// What both bare `ws` bench servers share: a plain WebSocketServer on `--host`/`--port` with the
// lifecycle of every bench server (servers/child.mjs).
import { WebSocketServer } from 'ws';
import { announce, listenOptions, stopWithParent } from './child.mjs';

/** Starts the server; `onConnection(ws, req)` wires each socket (an 'error' listener is added). */
export function bareServer(onConnection) {
  const wss = new WebSocketServer(listenOptions());
  wss.on('connection', (ws, req) => {
    onConnection(ws, req);
    // Without a listener an 'error' event (e.g. a reset) would crash the process.
    ws.on('error', () => {});
  });
  wss.on('listening', () => {
    announce(wss.address());
  });
  stopWithParent(() => {
    for (const ws of wss.clients) ws.terminate();
    wss.close(() => process.exit(0));
  });
  return wss;
}
