// What both bare `ws` bench servers share: `--host`/`--port`, a plain WebSocketServer, the
// {"msg":"listening","port":N} line the benches wait for, and exiting when stdin closes (the
// parent went away) or on SIGTERM/SIGINT.
import { parseArgs } from 'node:util';
import { WebSocketServer } from 'ws';

/** Starts the server; `onConnection(ws, req)` wires each socket (an 'error' listener is added). */
export function bareServer(onConnection) {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '0' },
    },
  });
  const wss = new WebSocketServer({ host: values.host, port: Number(values.port) });
  wss.on('connection', (ws, req) => {
    onConnection(ws, req);
    // Without a listener an 'error' event (e.g. a reset) would crash the process.
    ws.on('error', () => {});
  });
  wss.on('listening', () => {
    process.stdout.write(`${JSON.stringify({ msg: 'listening', port: wss.address().port })}\n`);
  });
  const stop = () => {
    for (const ws of wss.clients) ws.terminate();
    wss.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
  return wss;
}
