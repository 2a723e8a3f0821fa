import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { encodeBindingSuccess, normalizeIp, parseBindingRequest } from '@punch/core';
import { ListenError } from './listen-error.js';

export interface StunObservation {
  readonly username: string;
  readonly ip: string;
  readonly port: number;
}

/**
 * Punch's STUN server (RFC 8489 Binding): answers every well-formed Binding request with
 * XOR-MAPPED-ADDRESS, drops junk silently, and reports requests that carry a USERNAME so the
 * host can record the observed endpoint of a registration. Anything that is not a Binding request
 * goes to `onOther` (the TURN relay, which shares the port, RFC 8656 §3).
 */
export async function startStunServer(options: {
  host: string;
  port: number;
  onRequest: (o: StunObservation | undefined) => void;
  /**
   * Every other datagram (TURN methods, ChannelData, junk) when the relay shares this port;
   * without it they are dropped.
   */
  onOther?: (msg: Uint8Array, rinfo: RemoteInfo) => void;
  /** A socket error after start (e.g. ICMP unreachable surfacing on send): logged, not fatal. */
  onError: (err: Error) => void;
}): Promise<{ port: number; close: () => Promise<void>; socket: Socket }> {
  const socket = createSocket({
    type: options.host.includes(':') ? 'udp6' : 'udp4',
    reuseAddr: false,
    // Bursts of Binding requests (many agents re-registering after a restart) overflow the
    // default ~208 KiB buffer; the kernel caps this at net.core.rmem_max.
    recvBufferSize: 4 << 20,
  });
  socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
    // Port 0 cannot be answered (and only a forged packet has it): drop, as any junk.
    if (rinfo.port === 0) return;
    const bytes = new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength);
    const req = parseBindingRequest(bytes);
    if (req === undefined) return options.onOther?.(bytes, rinfo);
    try {
      const ip = normalizeIp(rinfo.address);
      const family = ip.includes(':') ? 6 : 4;
      socket.send(
        encodeBindingSuccess(req.transactionId, { ip, port: rinfo.port, family }),
        rinfo.port,
        rinfo.address,
      );
      options.onRequest(
        req.username === undefined ? undefined : { username: req.username, ip, port: rinfo.port },
      );
    } catch (err) {
      // One datagram's problem never takes the server down.
      options.onError(err instanceof Error ? err : new Error(String(err)));
    }
  });
  await new Promise<void>((resolve, reject) => {
    const failed = (err: Error): void => {
      // The socket never bound: close it so nothing of it keeps the process alive.
      socket.close();
      reject(new ListenError('stun', options.host, options.port, err));
    };
    socket.once('error', failed);
    socket.bind(options.port, options.host, () => {
      socket.off('error', failed);
      // A send to a vanished peer surfaces here on some platforms; it concerns that peer only.
      socket.on('error', options.onError);
      resolve();
    });
  });
  return {
    port: socket.address().port,
    socket,
    close: () =>
      new Promise<void>((resolve) =>
        socket.close(() => {
          resolve();
        }),
      ),
  };
}
