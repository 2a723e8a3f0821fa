import { connect, type Socket } from 'node:net';
import { TurnStreamFramer } from '@punch/core';
import type { Addr } from './media-path.js';

/**
 * Bytes queued towards the TURN server before relayed data is dropped: over a congested TCP
 * connection a media packet that waits behind a second of others is no use when it arrives, and
 * the queue would otherwise grow without bound.
 */
const DATA_QUEUE_BYTES = 256 * 1024;

/**
 * One TCP connection to a TURN server (RFC 8656 §3.1), for networks that block outbound UDP:
 * STUN messages and padded ChannelData back to back, split into frames by TurnStreamFramer.
 * The connection is the allocation's 5-tuple: when it ends, so does the allocation, and
 * `onClose` says so once.
 */
export class TurnTcpStream {
  readonly #socket: Socket;
  readonly #framer = new TurnStreamFramer();
  #ended = false;

  constructor(options: {
    readonly server: Addr;
    /** One whole frame from the server: a STUN message or a ChannelData message. */
    readonly onFrame: (frame: Uint8Array) => void;
    /** The connection ended (refused, reset, closed by the server, or bytes it cannot frame). */
    readonly onClose: (reason: string) => void;
  }) {
    const socket = connect({ host: options.server.ip, port: options.server.port, noDelay: true });
    this.#socket = socket;
    let why = 'the TCP connection to the TURN server closed';
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // 'close' follows and reports it; the error only says why.
      why = `TCP to the TURN server failed: ${err.code ?? err.message}`;
    });
    socket.on('data', (chunk: Buffer) => {
      const result = this.#framer.push(
        new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength),
      );
      for (const frame of result.frames) {
        if (this.#ended) return;
        options.onFrame(frame);
      }
      if (!result.ok) {
        why = `the TURN server sent bytes that are not TURN framing (${result.reason})`;
        socket.destroy();
      }
    });
    socket.on('close', () => {
      if (this.#ended) return;
      this.#ended = true;
      options.onClose(why);
    });
  }

  /** True once the connection ended (or `close` was called): nothing more can be sent. */
  get ended(): boolean {
    return this.#ended || this.#socket.destroyed;
  }

  /**
   * Queues `bytes` (writes before the connection opens wait for it). Relayed `data` is dropped
   * (false) when the connection is backed up; a request always goes.
   */
  write(bytes: Uint8Array, kind: 'request' | 'data'): boolean {
    if (this.ended) return false;
    if (kind === 'data' && this.#socket.writableLength > DATA_QUEUE_BYTES) return false;
    this.#socket.write(bytes);
    return true;
  }

  /** Ends the connection without reporting it (the caller is the one closing). */
  close(): void {
    this.#ended = true;
    this.#socket.destroy();
  }
}
