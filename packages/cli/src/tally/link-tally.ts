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

interface Pending {
  readonly body: TallyBody;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export class LinkTally implements TallySocket {
  readonly #send: (m: ClientMessage) => boolean;
  #open = false;
  #pending: Pending | undefined;

  /** `send` puts a message on the link; false when it is not open. */
  constructor(send: (m: ClientMessage) => boolean) {
    this.#send = send;
  }

  /** Punch welcomed the link: sets may go over it. */
  opened(): void {
    this.#open = true;
  }

  /** The link dropped: a set waiting for its answer goes by PUT. */
  lost(reason: string): void {
    this.#open = false;
    this.#settle(new Error(reason));
  }

  set(body: TallyBody): Promise<void> | undefined {
    if (!this.#open || this.#pending !== undefined) return undefined;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
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
    const p = this.#pending;
    if (p === undefined) return;
    if (
      m.type === 'tally' &&
      sameTally(m, p.body) &&
      (m.origin?.source ?? undefined) === p.body.source
    )
      this.#settle();
    else if (m.type === 'error') {
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
