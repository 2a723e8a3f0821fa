/**
 * Sets the session's tally for the bridge: over its admin WebSocket while that is open (100
 * messages a second), else `PUT /api/session/:id/tally` (120 a minute per IP, shared with the
 * producer's dashboard); only when it differs from what the bridge last set, one at a time, the
 * newest wish winning over any that waited behind a slow one, retried with backoff while Punch
 * cannot be reached. Each set names the switcher (`source`), so the dashboard shows where tally
 * comes from.
 */
import { TALLY_SOURCE_MAX, TallySourceSchema } from '@punch/core';
import type { PunchClient } from '../client.js';
import { ApiError } from '../usage.js';
import { sameTally, type Tally } from './mapping.js';
import { Retry } from './source.js';

/** What a set sends: the tally, and the switcher that set it. */
export interface TallyBody {
  readonly program: readonly string[];
  readonly preview: readonly string[];
  readonly source?: string;
}

/** The bridge's admin WebSocket, as the writer uses it. */
export interface TallySocket {
  /**
   * Sends `body` as a `tally` message: resolves once Punch pushed it back, rejects with an
   * ApiError when Punch refused it, or with another error when no answer came (the PUT is
   * tried then). Undefined while the socket is not open.
   */
  set(body: TallyBody): Promise<void> | undefined;
}

export type WriterEvent =
  /** Tally set; `latencyMs` from the switcher's frame to Punch's answer. */
  | { readonly type: 'set'; readonly tally: Tally; readonly latencyMs: number }
  /** Punch could not be reached or failed; trying again in `retryInMs`. */
  | { readonly type: 'retrying'; readonly reason: string; readonly retryInMs: number }
  /** Punch refused the token, the session is gone or a stream is unknown: the bridge stops. */
  | { readonly type: 'refused'; readonly error: ApiError };

/**
 * A source's label as Punch accepts it: any run of spaces or unprintable characters becomes
 * one space, and a long label (a long host name) is cut to TALLY_SOURCE_MAX with an ellipsis;
 * undefined when nothing printable is left (the set then goes without a source).
 *
 * @example
 * sourceName('vMix at 10.0.0.5:8099'); // 'vMix at 10.0.0.5:8099'
 */
export function sourceName(label: string): string | undefined {
  const spaced = label.replace(/[^\p{L}\p{M}\p{N}\p{P}\p{S}]+/gu, ' ').trim();
  const cut =
    spaced.length > TALLY_SOURCE_MAX
      ? `${spaced.slice(0, TALLY_SOURCE_MAX - 1).trimEnd()}…`
      : spaced;
  const parsed = TallySourceSchema.safeParse(cut);
  return parsed.success ? parsed.data : undefined;
}

export class TallyWriter {
  readonly #client: () => PunchClient;
  readonly #socket: TallySocket | undefined;
  readonly #path: string;
  readonly #source: string | undefined;
  readonly #onEvent: (e: WriterEvent) => void;
  readonly #retry = new Retry({ baseMs: 250, capMs: 5000, jitter: 'narrow' });
  #sent: Tally | undefined;
  #wanted: { tally: Tally; at: number } | undefined;
  #busy = false;
  #stopped = false;

  /**
   * `client` is asked for each request: the token may have been renewed since. `source` is the
   * switcher as the producer named it (`TallySource.label`), sent with every set. `socket`,
   * when given, is tried first.
   */
  constructor(
    client: () => PunchClient,
    session: string,
    source: string,
    onEvent: (e: WriterEvent) => void,
    socket?: TallySocket,
  ) {
    this.#client = client;
    this.#socket = socket;
    this.#path = `/api/session/${encodeURIComponent(session)}/tally`;
    this.#source = sourceName(source);
    this.#onEvent = onEvent;
  }

  /** The tally the switcher wants now; `at` is when its frame arrived (performance.now()). */
  want(tally: Tally, at: number): void {
    this.#wanted = { tally, at };
    this.#pump();
  }

  stop(): void {
    this.#stopped = true;
    this.#retry.cancel();
  }

  #pump(): void {
    const wanted = this.#wanted;
    if (this.#busy || this.#stopped || wanted === undefined) return;
    this.#wanted = undefined;
    // Only on change: a switcher repeating itself, or a reconnect that finds the same picture,
    // costs Punch nothing and leaves a producer's manual press standing.
    if (this.#sent !== undefined && sameTally(this.#sent, wanted.tally)) return;
    this.#busy = true;
    this.#put(wanted).then(
      () => {
        this.#busy = false;
        this.#pump();
      },
      (err: unknown) => {
        this.#busy = false;
        this.#failed(err, wanted);
      },
    );
  }

  async #put(wanted: { tally: Tally; at: number }): Promise<void> {
    const body: TallyBody = {
      program: wanted.tally.program,
      preview: wanted.tally.preview,
      ...(this.#source === undefined ? {} : { source: this.#source }),
    };
    if (!(await this.#overSocket(body))) {
      // Stopped meanwhile (the session ended, and with it the socket): nothing more to send.
      if (this.#stopped) throw new Error('stopped');
      await this.#client().request('PUT', this.#path, body);
    }
    this.#sent = wanted.tally;
    this.#retry.reset();
    this.#onEvent({
      type: 'set',
      tally: wanted.tally,
      latencyMs: Math.round((performance.now() - wanted.at) * 10) / 10,
    });
  }

  /** True when the socket set it; false when it could not say (closed, no answer): PUT then. */
  async #overSocket(body: TallyBody): Promise<boolean> {
    const sent = this.#socket?.set(body);
    if (sent === undefined) return false;
    try {
      await sent;
      return true;
    } catch (err) {
      // Punch's own refusal (a stream gone, storage failing) is an answer: the PUT would get
      // the same. Anything else is the socket's trouble.
      if (err instanceof ApiError) throw err;
      return false;
    }
  }

  #failed(err: unknown, wanted: { tally: Tally; at: number }): void {
    if (this.#stopped) return;
    // 4xx: the token, the session or a mapped stream is wrong; asking again cannot help. A 429
    // names a wait, and 5xx is a server in trouble: both are retried.
    if (err instanceof ApiError && err.status >= 400 && err.status < 500 && err.status !== 429) {
      this.stop();
      this.#onEvent({ type: 'refused', error: err });
      return;
    }
    // A newer wish that came meanwhile replaces this one; else this one is tried again.
    this.#wanted ??= wanted;
    const reason =
      err instanceof ApiError
        ? `Punch answered ${err.status} ${err.code}`
        : err instanceof Error
          ? err.message
          : String(err);
    const retryInMs = this.#retry.schedule(() => {
      this.#pump();
    });
    this.#onEvent({ type: 'retrying', reason, retryInMs });
  }
}
