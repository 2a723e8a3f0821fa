import { createSocket, type Socket } from 'node:dgram';
import type { RelayPortPool } from './relay-ports.js';

/** Binding attempts before an Allocate is answered 508: ports held by other programs are skipped. */
const BIND_ATTEMPTS = 16;

/**
 * Binds a relayed UDP socket (the caller listens for its messages once the allocation exists) on `host` at a port from `pool`; undefined when no port is free
 * (508 Insufficient Capacity). A port something else holds (EADDRINUSE) is skipped, and given
 * back to the pool, since that program may let it go later.
 */
export async function bindRelaySocket(options: {
  readonly pool: RelayPortPool;
  /** How to pick a port: from the pool (EVEN-PORT's wishes), or one already reserved. */
  readonly pick: { even?: boolean; pair?: boolean } | { reserved: number };
  readonly host: string;
  readonly type: 'udp4' | 'udp6';
  readonly onError: (err: Error) => void;
}): Promise<{ socket: Socket; port: number } | undefined> {
  for (let attempt = 0; attempt < BIND_ATTEMPTS; attempt++) {
    const { pick } = options;
    if ('reserved' in pick && attempt > 0) return undefined;
    const port = 'reserved' in pick ? pick.reserved : options.pool.acquire(pick);
    if (port === undefined) return undefined;
    const socket = createSocket({ type: options.type, reuseAddr: false });
    const bound = await new Promise<boolean>((resolve) => {
      socket.once('error', () => {
        resolve(false);
      });
      socket.bind(port, options.host, () => {
        resolve(true);
      });
    });
    if (!bound) {
      options.pool.release(port);
      if ('pair' in pick && pick.pair) options.pool.release(port + 1);
      // The failed socket never bound: closing it only releases its handle.
      socket.close();
      continue;
    }
    socket.removeAllListeners('error');
    socket.on('error', options.onError);
    return { socket, port };
  }
  return undefined;
}

/**
 * The local address the kernel would send from to reach `ip`: what a client reached when the
 * relay listens on a wildcard address and no `--relay-ip` is given. A connected UDP socket sends
 * nothing; it only asks the routing table.
 */
export async function localAddressTowards(ip: string, type: 'udp4' | 'udp6'): Promise<string> {
  const socket = createSocket(type);
  try {
    return await new Promise<string>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(9, ip, () => {
        resolve(socket.address().address);
      });
    });
  } finally {
    socket.close();
  }
}
