// A bare `ws` signal relay: the floor any relay pays per message (frame in, JSON.parse, a Map
// lookup, JSON.stringify, frame out), with no auth, no schema, no policy, no limits.
// Usage: node bench/servers/bare-relay.mjs [--host 127.0.0.1] [--port 0]
// A client connects to ws://host:port/?id=X and sends {"to":"Y","payload":…}; Y gets
// {"from":"X","payload":…}. Unknown targets and bad JSON are dropped silently. A second socket
// with the same id replaces the first.
// Prints one JSON line {"msg":"listening","port":N} on stdout; exits when stdin closes
// (its parent went away) or on SIGTERM/SIGINT.
import { bareServer } from './bare-server.mjs';

const peers = new Map();
bareServer((ws, req) => {
  const id = new URL(req.url ?? '/', 'http://relay').searchParams.get('id') ?? '';
  peers.set(id, ws);
  ws.on('message', (data) => {
    let m;
    try {
      m = JSON.parse(data.toString());
    } catch {
      return;
    }
    const to = peers.get(m?.to);
    if (to !== undefined) to.send(JSON.stringify({ from: id, payload: m.payload }));
  });
  ws.on('close', () => {
    if (peers.get(id) === ws) peers.delete(id);
  });
});
