/**
 * Tally set over the bridge's admin WebSocket, `tally {program, preview, source}`: a socket may
 * send 100 messages a second, where `PUT …/tally` allows 120 a minute per IP (shared with the
 * producer's dashboard on the same network). Punch answers with the `tally` push every socket
 * gets (an admin's carries who set it), or with an `error`.
 */
import { ERRORS, isErrorCode, type ClientMessage, type ParsedServerMessage } from '@punch/core';
import { ApiError } from '../usage.js';
import { sameTally } from './mapping.js';
import type { TallyBody, TallySocket } from './writer.js';

/** How long a set over the socket waits for Punch's push before the PUT is tried instead. */
const ANSWER_MS = 3000;
/**
 * The errors Punch answers a `tally` message with. Others (a token that ran out, just before
 * the close) are the link's business, not an answer to the set.
 */
const TALLY_ERRORS = new Set([
  'ERR_BAD_REQUEST',
  'ERR_FORBIDDEN',
  'ERR_STREAM_UNKNOWN',
  'ERR_STORAGE',
  'ERR_RATE_LIMITED',
]);

interface Pending {
  readonly body: TallyBody;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export class LinkTally implements TallySocket {
  readonly #send: (m: ClientMessage) => boolean;
  #open = false;
  /**
   * A set went unanswered: the socket may be dead without a word (the link's heartbeat will
   * find out). Sets go by PUT until the socket says anything again.
   */
  #suspect = false;
  #pending: Pending | undefined;

  /** `send` puts a message on the link; false when it is not open. */
  constructor(send: (m: ClientMessage) => boolean) {
    this.#send = send;
  }

  /** Punch welcomed the link: sets may go over it. */
  opened(): void {
    this.#open = true;
    this.#suspect = false;
  }

  /** The link dropped: a set waiting for its answer goes by PUT. */
  lost(reason: string): void {
    this.#open = false;
    this.#settle(new Error(reason));
  }

  set(body: TallyBody): Promise<void> | undefined {
    if (!this.#open || this.#suspect || this.#pending !== undefined) return undefined;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#suspect = true;
        this.#settle(new Error(`no answer over the session socket in ${ANSWER_MS} ms`));
      }, ANSWER_MS);
      this.#pending = { body, resolve, reject, timer };
      const message: ClientMessage = {
        type: 'tally',
        program: [...body.program],
        preview: [...body.preview],
        ...(body.source === undefined ? {} : { source: body.source }),
      };
      if (!this.#send(message)) this.lost('the session socket is not open');
    });
  }

  /** A message on the link: the push that answers the set, or Punch's refusal of it. */
  onMessage(m: ParsedServerMessage): void {
    this.#suspect = false;
    const p = this.#pending;
    if (p === undefined) return;
    if (
      m.type === 'tally' &&
      sameTally(m, p.body) &&
      (m.origin?.source ?? undefined) === p.body.source
    )
      this.#settle();
    else if (m.type === 'error' && TALLY_ERRORS.has(m.code)) {
      const status = isErrorCode(m.code) ? ERRORS[m.code].status : 400;
      this.#settle(new ApiError(status, m.code, m.message));
    }
  }

  #settle(err?: Error): void {
    const p = this.#pending;
    if (p === undefined) return;
    this.#pending = undefined;
    clearTimeout(p.timer);
    if (err === undefined) p.resolve();
    else p.reject(err);
  }
}
