// The PeerJS signalling server (npm `peer` 1.0.2) for a side-by-side comparison.
// Usage: node bench/servers/peerjs.mjs [--host 127.0.0.1] [--port 0]
// Clients connect to ws://host:port/peerjs?key=peerjs&id=<id>&token=<token> and get {"type":"OPEN"}.
// Options are the package defaults (path "/", key "peerjs", alive_timeout 90 s) except
// concurrent_limit, whose default of 5000 would refuse the 10k-connection run.
// Prints one JSON line {"msg":"listening","port":N}; exits when stdin closes or on SIGTERM/SIGINT.
import { parseArgs } from 'node:util';
import { PeerServer } from 'peer';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '0' },
  },
});

let httpServer;
const app = PeerServer(
  { host: values.host, port: Number(values.port), concurrent_limit: 1_000_000 },
  (server) => {
    httpServer = server;
    process.stdout.write(`${JSON.stringify({ msg: 'listening', port: server.address().port })}\n`);
  },
);
app.on('error', () => {});

const stop = () => {
  if (httpServer) {
    httpServer.closeAllConnections?.();
    httpServer.close(() => process.exit(0));
  }
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
