// A bare `ws` WebSocketServer with default options: the floor for "memory per idle WebSocket".
// Usage: node bench/servers/bare-ws.mjs [--host 127.0.0.1] [--port 0]
// Prints one JSON line {"msg":"listening","port":N} on stdout; exits when stdin closes
// (its parent went away) or on SIGTERM/SIGINT.
import { parseArgs } from 'node:util';
import { WebSocketServer } from 'ws';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '0' },
  },
});

const wss = new WebSocketServer({ host: values.host, port: Number(values.port) });
wss.on('connection', (ws) => {
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
