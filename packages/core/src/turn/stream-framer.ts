/**
 * Splits a TURN-over-TCP (or TLS) byte stream into whole frames (RFC 8656 §12.5, RFC 6062 §4):
 * STUN messages and padded ChannelData messages back to back, each framed by its own length
 * field, as coturn reads them. Each frame then goes to `parseMessage` or `parseChannelData`.
 *
 * Memory is bounded: at most one partial frame is held, and a header that announces more than
 * `maxFrameSize` bytes fails the stream at once, before anything is buffered for it. A stream
 * that fails (a first byte that is neither STUN nor ChannelData, a STUN header with a length
 * that is not a multiple of 4 or without the magic cookie, an oversized frame) cannot be
 * re-synchronised: the caller closes the connection.
 */

import { STUN_MAGIC_COOKIE } from '../stun/stun.js';
import { classifyTurnPacket } from './demux.js';
import { STUN_MAX_MESSAGE_SIZE } from './message.js';

/** Why a stream cannot be framed any further. */
export type StreamFailure = 'not-turn' | 'bad-length' | 'frame-too-large';

export type FramerResult =
  | { readonly ok: true; readonly frames: Uint8Array[] }
  /** `frames` holds those that were whole before the failure. */
  | { readonly ok: false; readonly reason: StreamFailure; readonly frames: Uint8Array[] };

const STUN_HEADER_PEEK = 8; // type, length, magic cookie
const CHANNEL_HEADER = 4; // channel number, length

/** Header bytes needed before a frame's size is known, or undefined for a non-TURN first byte. */
function headerNeed(first: number): number | undefined {
  const kind = classifyTurnPacket(Uint8Array.of(first));
  return kind === 'stun' ? STUN_HEADER_PEEK : kind === 'channel-data' ? CHANNEL_HEADER : undefined;
}

/**
 * Incremental framer for one TCP connection.
 *
 * @example
 * const framer = new TurnStreamFramer();
 * socket.on('data', (chunk) => {
 *   const result = framer.push(chunk);
 *   for (const frame of result.frames) onFrame(frame);
 *   if (!result.ok) socket.destroy();
 * });
 */
export class TurnStreamFramer {
  readonly #maxFrameSize: number;
  readonly #head = new Uint8Array(STUN_HEADER_PEEK);
  #headLength = 0;
  #frame: Uint8Array<ArrayBuffer> | undefined;
  #filled = 0;
  #failure: StreamFailure | undefined;

  /**
   * `maxFrameSize` (default and upper limit {@link STUN_MAX_MESSAGE_SIZE}, the largest frame a
   * 16-bit length can announce) caps both the frames accepted and the bytes ever buffered.
   */
  constructor(options: { maxFrameSize?: number } = {}) {
    const max = options.maxFrameSize ?? STUN_MAX_MESSAGE_SIZE;
    if (!Number.isInteger(max) || max < 20) {
      throw new RangeError(`TURN: maxFrameSize must be a whole number of at least 20: ${max}`);
    }
    this.#maxFrameSize = Math.min(max, STUN_MAX_MESSAGE_SIZE);
  }

  /** Bytes held for a frame that is not whole yet. */
  get buffered(): number {
    return this.#headLength + this.#filled;
  }

  /**
   * Feeds the next chunk of the stream; returns the frames it completed, in order. A frame that
   * lies wholly inside `chunk` is a view into it (no copy), so the caller must not reuse the
   * chunk's memory while it uses the frame (Node's socket chunks are never reused). After a
   * failure every later push fails the same way.
   */
  push(chunk: Uint8Array): FramerResult {
    const frames: Uint8Array[] = [];
    let at = 0;
    while (this.#failure === undefined && at < chunk.length) {
      if (this.#frame === undefined) {
        // Nothing partial and a whole frame ahead: hand out a view of it.
        if (this.#headLength === 0) {
          const size = this.#sizeOf(chunk.subarray(at));
          if (size > 0 && at + size <= chunk.length) {
            frames.push(chunk.subarray(at, at + size));
            at += size;
            continue;
          }
          if (this.#failure !== undefined) break;
        }
        // Otherwise gather the header, then allocate exactly the frame it announces.
        const need = headerNeed(this.#headLength > 0 ? (this.#head[0] ?? 0) : (chunk[at] ?? 0));
        if (need === undefined) {
          this.#failure = 'not-turn';
          break;
        }
        const take = Math.min(need - this.#headLength, chunk.length - at);
        this.#head.set(chunk.subarray(at, at + take), this.#headLength);
        this.#headLength += take;
        at += take;
        if (this.#headLength < need) break;
        const size = this.#sizeOf(this.#head.subarray(0, need));
        if (size === 0) break; // failed
        this.#frame = new Uint8Array(size);
        this.#frame.set(this.#head.subarray(0, need));
        this.#filled = need;
        this.#headLength = 0;
      }
      const take = Math.min(this.#frame.length - this.#filled, chunk.length - at);
      this.#frame.set(chunk.subarray(at, at + take), this.#filled);
      this.#filled += take;
      at += take;
      if (this.#filled === this.#frame.length) {
        frames.push(this.#frame);
        this.#frame = undefined;
        this.#filled = 0;
      }
    }
    if (this.#failure !== undefined) {
      this.#frame = undefined; // a failed stream holds nothing
      this.#filled = 0;
      this.#headLength = 0;
      return { ok: false, reason: this.#failure, frames };
    }
    return { ok: true, frames };
  }

  /**
   * The size of the frame starting at `bytes[0]`, or 0 when the header is not all there yet or
   * is bad (then `#failure` says why).
   */
  #sizeOf(bytes: Uint8Array): number {
    const need = headerNeed(bytes[0] ?? 0);
    if (need === undefined && bytes.length > 0) this.#failure = 'not-turn';
    if (need === undefined || bytes.length < need) return 0;
    const dv = new DataView(bytes.buffer, bytes.byteOffset, need);
    const length = dv.getUint16(2);
    let size: number;
    if (need === CHANNEL_HEADER) {
      size = CHANNEL_HEADER + ((length + 3) & ~3); // padded over TCP (RFC 8656 §12.5)
    } else if (length % 4 !== 0) {
      this.#failure = 'bad-length';
      return 0;
    } else if (dv.getUint32(4) !== STUN_MAGIC_COOKIE) {
      this.#failure = 'not-turn';
      return 0;
    } else {
      size = 20 + length;
    }
    if (size > this.#maxFrameSize) {
      this.#failure = 'frame-too-large';
      return 0;
    }
    return size;
  }
}
