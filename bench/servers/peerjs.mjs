// The PeerJS signalling server (npm `peer` 1.0.2) for a side-by-side comparison.
// Usage: node bench/servers/peerjs.mjs [--host 127.0.0.1] [--port 0]
// Clients connect to ws://host:port/peerjs?key=peerjs&id=<id>&token=<token> and get {"type":"OPEN"}.
// Options are the package defaults (path "/", key "peerjs", alive_timeout 90 s) except
// concurrent_limit, whose default of 5000 would refuse the 10k-connection run.
// Prints one JSON line {"msg":"listening","port":N}; exits when stdin closes or on SIGTERM/SIGINT.
import { PeerServer } from 'peer';
import { announce, listenOptions, stopWithParent } from './child.mjs';

const { host, port } = listenOptions();
let httpServer;
const app = PeerServer({ host, port, concurrent_limit: 1_000_000 }, (server) => {
  httpServer = server;
  announce(server.address());
});
app.on('error', () => {});

stopWithParent(() => {
  if (httpServer) {
    httpServer.closeAllConnections?.();
    httpServer.close(() => process.exit(0));
  }
});
