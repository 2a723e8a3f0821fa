import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:dgram';
import { encodeBindingRequest, isStunPacket, parseBindingResponse } from '@punch/core';
import type { Addr } from './media-path.js';

/**
 * Where the probe asks: Punch's own STUN port, with the USERNAME from `registered.bind` (Punch
 * then records the endpoint it sees), or an external STUN server (`--stun`), without one (the
 * agent then tells Punch what it saw).
 */
export interface StunTarget {
  readonly host: string;
  readonly port: number;
  readonly username?: string;
}

/** An answer that changed what the agent knows: the first one, or one whose address moved. */
export interface StunAnswer {
  /** The media socket's public address, as the STUN server saw it. */
  readonly mapped: Addr;
  /** False for the first answer; true when the NAT mapping changed since the last one. */
  readonly moved: boolean;
  readonly target: StunTarget;
}

export interface StunProbeOptions {
  /** The media socket: the probe learns the mapping of the very socket SRT packets leave from. */
  readonly socket: Socket;
  readonly onAnswer: (answer: StunAnswer) => void;
  /** Until the first answer, ask again after this long (default 500 ms). */
  readonly retryMs?: number;
  /** After it, ask again this often (default 10 s). */
  readonly refreshMs?: number;
}

const RETRY_MS = 500;
const REFRESH_MS = 10_000;

/**
 * Learns the media socket's public UDP endpoint with STUN Binding requests (RFC 8489) sent
 * from that socket (DESIGN.md "Learning a peer's UDP endpoint"). It asks fast until answered,
 * then every 10 s: the refresh keeps the NAT mapping towards the STUN server alive (home NATs
 * forget an unanswered mapping after ~30 s) and notices when the mapping moves. Only an answer
 * to its latest request counts (transaction ids are matched), so a stray or replayed answer
 * cannot claim another address.
 */
export class StunProbe {
  readonly #socket: Socket;
  readonly #onAnswer: (answer: StunAnswer) => void;
  readonly #retryMs: number;
  readonly #refreshMs: number;
  #target: StunTarget | undefined;
  #tid: Buffer | undefined;
  #timer: NodeJS.Timeout | undefined;
  #mapped: Addr | undefined;
  #stopped = false;

  constructor(options: StunProbeOptions) {
    this.#socket = options.socket;
    this.#onAnswer = options.onAnswer;
    this.#retryMs = options.retryMs ?? RETRY_MS;
    this.#refreshMs = options.refreshMs ?? REFRESH_MS;
  }

  /** The server being asked, once `start` was called. */
  get target(): StunTarget | undefined {
    return this.#target;
  }

  /** The last mapped address, once answered. */
  get mapped(): Addr | undefined {
    return this.#mapped;
  }

  /** Starts asking `target` (again, after a re-registration: the mapping is learnt afresh). */
  start(target: StunTarget): void {
    this.#target = target;
    this.#mapped = undefined;
    this.#ask();
  }

  /**
   * Offers a datagram from the media socket. True when it was the answer to the probe's latest
   * request (consumed); false for anything else, STUN or not.
   */
  onDatagram(packet: Uint8Array): boolean {
    if (this.#tid === undefined || !isStunPacket(packet)) return false;
    const r = parseBindingResponse(packet);
    if (r === undefined || !this.#tid.equals(r.transactionId)) return false;
    const target = this.#target;
    if (target === undefined || this.#stopped) return true;
    const first = this.#mapped === undefined;
    const moved =
      this.#mapped !== undefined &&
      (this.#mapped.ip !== r.mapped.ip || this.#mapped.port !== r.mapped.port);
    this.#mapped = { ip: r.mapped.ip, port: r.mapped.port };
    if (first) {
      // Answered: from now on only refresh.
      clearTimeout(this.#timer);
      this.#timer = setTimeout(() => {
        this.#ask();
      }, this.#refreshMs);
    }
    if (first || moved) this.#onAnswer({ mapped: this.#mapped, moved, target });
    return true;
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #ask(): void {
    clearTimeout(this.#timer);
    const t = this.#target;
    if (t === undefined || this.#stopped) return;
    this.#tid = randomBytes(12);
    this.#socket.send(encodeBindingRequest(this.#tid, t.username), t.port, t.host);
    // Until answered, retry fast; then refresh: it keeps the NAT mapping to the STUN server
    // alive and tells Punch if the mapping moved.
    this.#timer = setTimeout(
      () => {
        this.#ask();
      },
      this.#mapped === undefined ? this.#retryMs : this.#refreshMs,
    );
  }
}
