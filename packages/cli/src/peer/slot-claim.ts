import type { ClientMessage } from '@punch/core';
import type { AgentEvent, Status } from './events.js';
import { serverErrorFailure, type Failure } from './failures.js';
import type { StreamOptions } from './stream-options.js';

/** How long a refused first registration (ERR_SLOT_TAKEN) is asked again before failing. */
const SLOT_WAIT_MS = 7000;
/** How often a slot another connection holds is asked for again (see `SlotClaim.wait`). */
const RECLAIM_MS = 5000;

/** What a stream's claim on its slot needs from the stream around it. */
export interface ClaimHost {
  /** Sends `register` on the link (dropped while it is down). */
  send(message: ClientMessage): void;
  emit(event: AgentEvent): void;
  status(status: Status, detail?: string): void;
}

/**
 * One stream's claim on its slot (DESIGN.md "Streams on show day"): `register`, with
 * `takeover` when the operator asked for it or when this agent registers again after a
 * reconnect (its old socket may still look live to Punch for a few seconds); a refusal asked
 * again while the holder may be this agent's own dead socket; and a slot another connection
 * holds (taken from this agent receiving every stream, or held when it asked) asked for again
 * every few seconds without taking over, so it is this agent's again once it is free.
 */
export class SlotClaim {
  readonly #o: StreamOptions;
  readonly #host: ClaimHost;
  /** When this stream first asked for its slot (ms since the epoch), for ERR_SLOT_TAKEN. */
  #firstAskedAt = 0;
  #retry: NodeJS.Timeout | undefined;
  /** Registered once: later registrations are this agent's own, after a reconnect. */
  #everRegistered = false;
  #waiting = false;
  #stopped = false;

  constructor(options: StreamOptions, host: ClaimHost) {
    this.#o = options;
    this.#host = host;
  }

  /** Another connection holds the slot, and it is asked for again. */
  get waiting(): boolean {
    return this.#waiting;
  }

  /** Asks for the slot on the current connection. */
  register(): void {
    if (this.#stopped) return;
    if (this.#firstAskedAt === 0) this.#firstAskedAt = Date.now();
    const { stream, role, takeover } = this.#o;
    this.#host.send({
      type: 'register',
      stream,
      role,
      ...(!this.#waiting && (takeover || this.#everRegistered) ? { takeover: true } : {}),
    });
  }

  /** Punch said `registered`. */
  registered(): void {
    this.#everRegistered = true;
    this.#waiting = false;
    clearTimeout(this.#retry);
  }

  /**
   * Another connection holds the slot (`code` says how this agent learnt it): said once, then
   * asked for again every few seconds, never taken over, so this agent never fights it.
   */
  wait(code: 'ERR_REPLACED' | 'ERR_SLOT_TAKEN', message: string): void {
    this.#waiting = true;
    this.#host.emit({
      event: 'error',
      code,
      message: `${message}; this stream is asked for again every ${RECLAIM_MS / 1000} s and comes back once it is free`,
      fatal: false,
    });
    this.#host.status('waiting', 'held by another connection: waiting for it to be free');
    this.#askIn(RECLAIM_MS);
  }

  /**
   * Punch refused the registration (the link matched the error to this stream): asked again,
   * or waited for, or the failure that ends the stream (undefined when it goes on).
   */
  refused(code: string, message: string): Failure | undefined {
    // Still held by the connection that has it: ask again later, quietly.
    if (code === 'ERR_SLOT_TAKEN' && this.#waiting) {
      this.#askIn(RECLAIM_MS);
      return undefined;
    }
    // A holder that is really gone (this agent, crashed and restarted) stops looking live
    // within 5 s: ask again for a little longer than that before giving up.
    if (code === 'ERR_SLOT_TAKEN' && Date.now() - this.#firstAskedAt < SLOT_WAIT_MS) {
      this.#host.status('connecting', 'another agent holds this slot; asking again');
      this.#askIn(1000);
      return undefined;
    }
    // Receiving every stream: one held elsewhere (a producer watching it, a spare agent) is
    // this agent's again once it is free; the others carry on meanwhile.
    if (code === 'ERR_SLOT_TAKEN' && this.#o.oneOfMany) {
      this.wait(code, message);
      return undefined;
    }
    const f = serverErrorFailure(code, message, this.#o);
    if (f === undefined) this.#host.emit({ event: 'error', code, message, fatal: false });
    return f;
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#retry);
  }

  #askIn(ms: number): void {
    clearTimeout(this.#retry);
    this.#retry = setTimeout(() => {
      this.register();
    }, ms);
  }
}
