import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { HostPort } from './options.js';

/**
 * The loopback side, where the user's own SRT tool connects. `--send`: the agent listens where
 * the SRT caller (ffmpeg, OBS, vMix, srt-live-transmit) connects, from the start, so a caller
 * that gives up after ~3 s finds the port open at once. `--receive`: the agent talks to the
 * user's SRT listener from one stable socket, since SRT pins the peer's source address.
 */
export class LocalSide {
  readonly socket: Socket;
  readonly #mode: 'send' | 'receive';
  readonly #target: HostPort;
  #caller: RemoteInfo | undefined;

  private constructor(socket: Socket, mode: 'send' | 'receive', target: HostPort) {
    this.socket = socket;
    this.#mode = mode;
    this.#target = target;
  }

  static async open(
    mode: 'send' | 'receive',
    listen: HostPort,
    target: HostPort,
    sourcePort: number,
    onPacket: (packet: Buffer) => void,
  ): Promise<LocalSide> {
    const socket = createSocket({ type: 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
    const side = new LocalSide(socket, mode, target);
    socket.on('message', (msg, rinfo) => {
      if (mode === 'send') side.#caller = rinfo;
      else if (rinfo.port !== target.port) return;
      onPacket(msg);
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      // --receive binds a fixed source port (see StreamOptions.sourcePort): after the agent
      // restarts, the listener sees the same peer address and the SRT session carries on.
      // A listener on this machine is talked to from loopback; one elsewhere on the LAN (a
      // decoder named by --map or --srt-target) from every interface, or it is unreachable.
      const [port, host] =
        mode === 'send'
          ? [listen.port, listen.host]
          : [sourcePort, onLoopback(target.host) ? '127.0.0.1' : '0.0.0.0'];
      socket.bind(port, host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    // ICMP port-unreachable from a listener that is not up yet surfaces here: not fatal.
    socket.on('error', () => undefined);
    return side;
  }

  /** Delivers an SRT packet from the other side to the local tool. */
  deliver(packet: Uint8Array): void {
    if (this.#mode === 'send') {
      const c = this.#caller;
      if (c !== undefined) this.socket.send(packet, c.port, c.address);
    } else {
      this.socket.send(packet, this.#target.port, this.#target.host);
    }
  }

  close(): void {
    this.socket.close();
  }
}

/** True for a host on this machine's loopback: 127.0.0.0/8 or `localhost`. */
function onLoopback(host: string): boolean {
  return host === 'localhost' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
