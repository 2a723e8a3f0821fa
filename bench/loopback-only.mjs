// Preloaded into the `punch peer` agents of bench/agent.mjs (`node --import`): hides every
// non-loopback interface from os.networkInterfaces(), so the agents offer no LAN candidates
// (they would otherwise probe, and prefer, this machine's LAN address) and every datagram of the
// benchmark stays on 127.0.0.0/8. The data path itself is untouched.
import { syncBuiltinESMExports } from 'node:module';
import os from 'node:os';

const real = os.networkInterfaces;
os.networkInterfaces = () =>
  Object.fromEntries(
    Object.entries(real())
      .map(([name, list]) => [name, (list ?? []).filter((a) => a.internal)])
      .filter(([, list]) => list.length > 0),
  );
syncBuiltinESMExports();
