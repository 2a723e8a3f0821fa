// A bare `ws` WebSocketServer with default options: the floor for "memory per idle WebSocket".
// Usage: node bench/servers/bare-ws.mjs [--host 127.0.0.1] [--port 0]
// Prints one JSON line {"msg":"listening","port":N} on stdout; exits when stdin closes
// (its parent went away) or on SIGTERM/SIGINT.
import { bareServer } from './bare-server.mjs';

bareServer(() => {});
