import { createServer, type Server, type Socket } from 'node:net';
import {
  TurnStreamFramer,
  encodeBindingSuccess,
  normalizeIp,
  parseBindingRequest,
} from '@punch/core';
import type { ClientLink } from './allocations.js';
import type { TurnServer } from './server.js';
import { bump, type TcpCloseReason } from './stats.js';

/** The bounds on TCP clients of the STUN port; every one of them is a DoS guard. */
export interface TcpLimits {
  /** Connections open at once, all clients together. */
  readonly maxConnections: number;
  /** Connections open at once from one IP address. */
  readonly maxPerIp: number;
  /** A connection that holds no allocation for this long is closed (ms). */
  readonly idleMs: number;
  /**
   * Bytes queued towards one client before relayed data is dropped instead (a slow reader loses
   * media packets, as it would over UDP, rather than growing a queue of stale ones).
   */
  readonly dataQueueBytes: number;
  /** Bytes queued towards one client before the connection is closed (it is not reading). */
  readonly maxQueuedBytes: number;
}

export const TCP_DEFAULTS: TcpLimits = {
  maxConnections: 2000,
  maxPerIp: 50,
  idleMs: 30_000,
  dataQueueBytes: 256 * 1024,
  maxQueuedBytes: 1024 * 1024,
};

/**
 * The largest frame accepted: a ChannelData message with a full 65535-byte payload, padded
 * (RFC 8656 §12.5). A longer STUN message has no use on this port, and announcing one closes the
 * connection before anything is buffered for it.
 */
export const MAX_TCP_FRAME = 4 + 65536;

/**
 * Requests one connection may have in flight (each awaits its crypto). Beyond it the connection
 * is not read until some are answered: unlike UDP, where the socket's buffer drops a flood, a TCP
 * stream would otherwise pile up pending requests without bound.
 */
const MAX_IN_FLIGHT = 32;

export interface TurnTcpListener {
  readonly port: number;
  /** Stops accepting and closes every connection (their allocations end with them). */
  close(): Promise<void>;
}

/**
 * TURN over TCP on the STUN port (RFC 8656 §3.1; framing as RFC 6062: STUN messages and padded
 * ChannelData back to back). Each connection is its own 5-tuple: Binding requests are answered
 * with the connection's source address, everything else goes to the relay exactly as a UDP
 * datagram would, and answers, Data indications and ChannelData go back on the connection. The
 * relayed side stays UDP. When the connection ends, so does its allocation.
 *
 * Rejects with the listen error (EADDRINUSE when another program holds the TCP port).
 */
export async function listenTurnTcp(options: {
  readonly host: string;
  readonly port: number;
  readonly turn: TurnServer;
  readonly limits?: Partial<TcpLimits>;
  /** A listening-socket error after start: reported, not fatal. */
  readonly onError: (err: Error) => void;
}): Promise<TurnTcpListener> {
  const { turn } = options;
  const limits: TcpLimits = { ...TCP_DEFAULTS, ...options.limits };
  const { stats } = turn;
  const sockets = new Set<Socket>();
  const perIp = new Map<string, number>();

  const accept = (socket: Socket): void => {
    // Errors arrive before 'close' (a reset, a write to a dead peer): 'close' cleans up.
    socket.on('error', () => undefined);
    const address = socket.remoteAddress;
    const port = socket.remotePort;
    if (address === undefined || port === undefined) {
      // Already gone before it could be looked at.
      socket.destroy();
      return;
    }
    const ip = normalizeIp(address);
    const fromIp = perIp.get(ip) ?? 0;
    if (sockets.size >= limits.maxConnections || fromIp >= limits.maxPerIp) {
      bump(stats.tcp.refused, sockets.size >= limits.maxConnections ? 'total' : 'per-ip');
      socket.destroy();
      return;
    }
    sockets.add(socket);
    perIp.set(ip, fromIp + 1);
    stats.tcp.accepted++;
    stats.tcp.open = sockets.size;
    socket.setNoDelay(true);

    let closed = false;
    // Runs once, at the server's own close or the client's: the caps count it free at once.
    const finish = (): void => {
      if (closed) return;
      closed = true;
      clearTimeout(idle);
      sockets.delete(socket);
      stats.tcp.open = sockets.size;
      const left = (perIp.get(ip) ?? 1) - 1;
      if (left > 0) perIp.set(ip, left);
      else perIp.delete(ip);
      turn.ended(link);
    };
    const drop = (reason: TcpCloseReason): void => {
      if (closed) return;
      bump(stats.tcp.closed, reason);
      finish();
      socket.destroy();
    };
    const link: ClientLink = {
      ip,
      port,
      transport: 'tcp',
      get closed() {
        return closed;
      },
      send(bytes, kind) {
        if (closed || socket.destroyed) return false;
        const queued = socket.writableLength;
        if (kind === 'data' && queued > limits.dataQueueBytes) return false;
        if (queued + bytes.length > limits.maxQueuedBytes) {
          drop('backlog');
          return false;
        }
        socket.write(bytes);
        return true;
      },
    };

    // A connection is for an allocation: one without any for the idle time goes. Checked on a
    // timer rather than on every frame, so a busy connection costs no timer resets.
    let idle: NodeJS.Timeout;
    const checkIdle = (): void => {
      if (closed) return;
      if (!turn.holds(link)) {
        drop('idle');
        return;
      }
      idle = setTimeout(checkIdle, limits.idleMs);
      idle.unref();
    };
    idle = setTimeout(checkIdle, limits.idleMs);
    idle.unref();

    const framer = new TurnStreamFramer({ maxFrameSize: MAX_TCP_FRAME });
    let inFlight = 0;
    const track = (handling: Promise<void>): void => {
      if (++inFlight >= MAX_IN_FLIGHT) socket.pause();
      void handling.finally(() => {
        if (--inFlight < MAX_IN_FLIGHT && !closed) socket.resume();
      });
    };
    socket.on('data', (chunk: Buffer) => {
      const result = framer.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
      for (const frame of result.frames) {
        if (closed) return;
        const binding = parseBindingRequest(frame);
        if (binding === undefined) {
          const handling = turn.receive(frame, link);
          if (handling !== undefined) track(handling);
          continue;
        }
        // A Binding request on the stream: the mapped address is the connection's source.
        link.send(
          encodeBindingSuccess(binding.transactionId, {
            ip,
            port,
            family: ip.includes(':') ? 6 : 4,
          }),
          'answer',
        );
      }
      // The stream cannot be re-synchronised after bytes that are not TURN framing.
      if (!result.ok) drop(result.reason === 'frame-too-large' ? 'too-large' : 'garbage');
    });
    socket.on('close', finish);
  };

  const server: Server = createServer({ noDelay: true }, (socket) => {
    try {
      accept(socket);
    } catch (err) {
      // One connection's fault (a socket that died under us) concerns that connection only.
      socket.destroy();
      options.onError(err instanceof Error ? err : new Error(String(err)));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host, port: options.port, exclusive: true }, () => {
      server.off('error', reject);
      server.on('error', options.onError);
      resolve();
    });
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : options.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
        for (const socket of sockets) socket.destroy();
      }),
  };
}
