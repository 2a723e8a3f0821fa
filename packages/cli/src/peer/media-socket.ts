import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';

/**
 * Opens the media socket: the one UDP socket that asks STUN, punches and carries SRT both ways,
 * so the NAT mapping STUN learns is the one media uses. Rejects when it cannot be bound (the
 * port is taken, the address is not this machine's).
 */
export async function openMediaSocket(
  port: number,
  host: string,
  onMessage: (msg: Buffer, rinfo: RemoteInfo) => void,
): Promise<Socket> {
  // 4 MiB: at 100 Mbit/s the default ~208 KiB holds only ~15 ms of packets.
  const socket = createSocket({ type: 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
  socket.on('message', onMessage);
  await new Promise<void>((resolve, reject) => {
    const failed = (err: Error): void => {
      socket.close();
      reject(err);
    };
    socket.once('error', failed);
    socket.bind(port, host, () => {
      socket.off('error', failed);
      resolve();
    });
  });
  // Once bound, an error is one datagram that could not be sent (no route yet, a STUN host that
  // does not resolve, a full buffer). UDP is lossy by design and the STUN, probe and ping timers
  // send again, so the socket carries on.
  socket.on('error', () => undefined);
  return socket;
}
