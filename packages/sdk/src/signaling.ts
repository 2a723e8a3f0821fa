import {
  CLOSE_ABNORMAL,
  CLOSE_NORMAL,
  backoffDelay,
  closeCodeForStatus,
  closeMeaning,
} from '@punch/core';
import { Emitter } from './emitter.js';
import { fromServerError, PunchSignalError } from './errors.js';
import type { PeerRef } from './ids.js';
import { notATokenMessage, tokenFailureMessage } from './token-source.js';
import type { Logger } from './logger.js';
import { parseServerMessage, type ClientMessage, type ServerCloseReason } from './messages.js';
import {
  closeInfo,
  frameText,
  OPEN,
  refusedStatus,
  type WebSocketConstructor,
  type WebSocketLike,
} from './socket.js';

/**
 * The signalling socket: connects with a peer token, reconnects with backoff and jitter,
 * refreshes the token before it expires (on the same socket), keeps the socket alive with
 * pings, and queues outgoing signals while it is down. It knows nothing of WebRTC.
 */

export interface Welcome {
  readonly project: string;
  readonly group: string;
  readonly peer: string;
  readonly expiresAt: number;
  readonly iceServers: RTCIceServer[];
}

export interface SignalClientEvents {
  /** Every accepted connection, the first and each reconnect. */
  welcome: Welcome;
  signal: { readonly from: PeerRef; readonly payload: unknown };
  /** A server `error`, or the token source failing. */
  error: PunchSignalError;
  refreshed: { readonly expiresAt: number; readonly iceServers: RTCIceServer[] };
  reconnecting: { readonly attempt: number; readonly delayMs: number; readonly code: number };
  /** The end: the client closed it, or the server closed it for good. Emitted once. */
  close: { readonly code: number; readonly reason: string };
}

export interface SignalClientOptions {
  /** `ws(s)://…/api/signal`. */
  readonly url: string;
  readonly token?: string | undefined;
  readonly getToken?: (() => Promise<string>) | undefined;
  readonly WebSocket: WebSocketConstructor;
  /** Refresh this many seconds before the token expires. */
  readonly refreshBeforeS: number;
  readonly logger: Logger;
  /** Ping period in ms (default 25 000); two periods without a frame drop the socket. */
  readonly pingIntervalMs?: number;
  readonly random?: () => number;
  readonly now?: () => number;
}

/** Outgoing signals kept while the socket is down. */
const MAX_QUEUE = 256;
/** setTimeout's largest delay. */
const MAX_TIMER = 2 ** 31 - 1;
/** JWT characters: base64url and dots (anything else cannot go in a subprotocol). */
const TOKEN_CHARS = /^[A-Za-z0-9_.-]{1,8192}$/;

/**
 * Server closes after which reconnecting cannot help: the id was taken over by another
 * connection, the key or project is gone, or the token is refused.
 */
function isTerminal(
  code: number,
  reason: string,
  closed: ServerCloseReason | undefined,
  refreshable: boolean,
): boolean {
  if (closed === 'replaced' || closed === 'key-deleted' || closed === 'project-deleted') {
    return true;
  }
  // An expired token is fatal only when there is no way to get another one.
  if (closed === 'expired' || reason === 'ERR_TOKEN_EXPIRED') return !refreshable;
  const { kind } = closeMeaning(code);
  return kind === 'refused' || kind === 'replaced' || kind === 'ended';
}

/**
 * @example
 * const client = new SignalClient({ url, getToken, WebSocket, refreshBeforeS: 60, logger });
 * client.events.on('signal', ({ from, payload }) => handle(from, payload));
 * client.start();
 */
export class SignalClient {
  readonly events = new Emitter<SignalClientEvents>();
  readonly #o: SignalClientOptions;
  readonly #now: () => number;
  #ws: WebSocketLike | null = null;
  #welcomed = false;
  #serverClosed: ServerCloseReason | undefined;
  #refused: number | undefined;
  #attempt = 0;
  #ended = false;
  #queue: string[] = [];
  #expiresAt = 0;
  #refreshRef: string | undefined;
  #refreshSeq = 0;
  #lastFrameAt = 0;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #refreshTimer: ReturnType<typeof setTimeout> | undefined;
  #pingTimer: ReturnType<typeof setInterval> | undefined;

  constructor(options: SignalClientOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  /** True once closed for good. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Opens the first connection. */
  start(): void {
    void this.#connect();
  }

  /**
   * Sends a message now when the socket is up, or (for `signal`s) once it is back. Token
   * refreshes and pings are never queued: they only make sense on the socket they were for.
   */
  send(message: ClientMessage): void {
    if (this.#ended) return;
    const text = JSON.stringify(message);
    const ws = this.#ws;
    if (ws !== null && this.#welcomed && ws.readyState === OPEN) {
      ws.send(text);
      return;
    }
    if (message.type !== 'signal') return;
    if (this.#queue.length >= MAX_QUEUE) {
      this.#queue.shift();
      this.#o.logger.warn('signal queue full while disconnected: dropped the oldest message');
    }
    this.#queue.push(text);
  }

  /** Closes the socket for good and emits `close` (code 1000). */
  close(): void {
    if (this.#ended) return;
    const ws = this.#ws;
    this.#ws = null;
    this.#end(CLOSE_NORMAL, 'closed by the client');
    if (ws !== null) {
      try {
        ws.close(CLOSE_NORMAL, 'bye');
      } catch (err) {
        // Closing a socket that is still connecting throws in some runtimes; it is dropped
        // either way, which is all close() promises.
        this.#o.logger.debug('socket close threw', { err: String(err) });
      }
    }
  }

  async #token(): Promise<string> {
    const { token, getToken } = this.#o;
    let t: unknown;
    try {
      t = getToken === undefined ? token : await getToken();
    } catch (cause) {
      // The token endpoint's own words (a 401's "not logged in") say what to fix.
      throw new PunchSignalError('ERR_TOKEN_SOURCE', await tokenFailureMessage(cause), { cause });
    }
    if (typeof t !== 'string' || !TOKEN_CHARS.test(t)) {
      throw new PunchSignalError('ERR_TOKEN_SOURCE', notATokenMessage(t));
    }
    return t;
  }

  async #connect(): Promise<void> {
    this.#reconnectTimer = undefined;
    if (this.#ended) return;
    let ws: WebSocketLike;
    try {
      const token = await this.#token();
      if (this.#ended) return;
      ws = new this.#o.WebSocket(this.#o.url, ['punch.v1', `punch.token.${token}`]);
    } catch (err) {
      if (this.#ended) return;
      const e =
        err instanceof PunchSignalError
          ? err
          : new PunchSignalError('ERR_TOKEN_SOURCE', 'cannot open the socket', { cause: err });
      this.events.emit('error', e);
      if (this.#o.getToken === undefined) this.#end(closeCodeForStatus(401), e.code);
      else this.#retry(CLOSE_ABNORMAL);
      return;
    }
    this.#ws = ws;
    this.#welcomed = false;
    this.#serverClosed = undefined;
    this.#refused = undefined;
    ws.addEventListener('message', (ev) => {
      if (this.#ws === ws) this.#frame(frameText(ev));
    });
    ws.addEventListener('error', (ev) => {
      if (this.#ws === ws) this.#refused = refusedStatus(ev) ?? this.#refused;
    });
    ws.addEventListener('close', (ev) => {
      if (this.#ws !== ws) return;
      const { code, reason } = closeInfo(ev);
      this.#lost(code, reason);
    });
  }

  #frame(text: string | undefined): void {
    this.#lastFrameAt = this.#now();
    if (text === undefined) return;
    const parsed = parseServerMessage(text);
    if (!parsed.ok) {
      this.#o.logger.warn('ignored a malformed frame from the server', { error: parsed.error });
      return;
    }
    const m = parsed.value;
    switch (m.type) {
      case 'welcome':
        this.#welcomed = true;
        this.#attempt = 0;
        this.#expiresAt = m.expiresAt;
        this.#startPing();
        this.#scheduleRefresh();
        this.events.emit('welcome', m);
        this.#flush();
        return;
      case 'signal':
        this.events.emit('signal', { from: m.from, payload: m.payload });
        return;
      case 'refreshed':
        this.#refreshRef = undefined;
        this.#expiresAt = m.expiresAt;
        this.#scheduleRefresh();
        this.events.emit('refreshed', { expiresAt: m.expiresAt, iceServers: m.iceServers });
        return;
      case 'error': {
        const err = fromServerError(m);
        if (m.ref !== undefined && m.ref === this.#refreshRef) {
          this.#refreshRef = undefined;
          this.#scheduleRefresh(true);
        }
        this.events.emit('error', err);
        return;
      }
      case 'closed':
        this.#serverClosed = m.reason;
        return;
      case 'pong':
        return;
    }
  }

  #flush(): void {
    const ws = this.#ws;
    if (ws === null) return;
    const queued = this.#queue;
    this.#queue = [];
    for (const text of queued) ws.send(text);
  }

  /** The socket is gone (closed by the server, the network, or the heartbeat). */
  #lost(code: number, reason: string): void {
    this.#ws = null;
    this.#welcomed = false;
    this.#stopTimers();
    if (this.#ended) return;
    const refreshable = this.#o.getToken !== undefined;
    if (this.#refused === 401 || this.#refused === 403) {
      this.#end(closeCodeForStatus(this.#refused), `HTTP ${this.#refused}`);
    } else if (isTerminal(code, reason, this.#serverClosed, refreshable)) {
      this.#end(code, reason);
    } else {
      this.#retry(code);
    }
  }

  #retry(code: number): void {
    const delayMs = backoffDelay(this.#attempt, this.#o.random ? { random: this.#o.random } : {});
    this.#attempt++;
    this.#o.logger.debug('signalling socket lost; reconnecting', { code, delayMs });
    this.events.emit('reconnecting', { attempt: this.#attempt, delayMs, code });
    this.#reconnectTimer = setTimeout(() => {
      void this.#connect();
    }, delayMs);
  }

  #end(code: number, reason: string): void {
    this.#ended = true;
    this.#stopTimers();
    clearTimeout(this.#reconnectTimer);
    this.#queue = [];
    this.events.emit('close', { code, reason });
  }

  #stopTimers(): void {
    clearInterval(this.#pingTimer);
    clearTimeout(this.#refreshTimer);
    this.#pingTimer = undefined;
    this.#refreshTimer = undefined;
    this.#refreshRef = undefined;
  }

  #startPing(): void {
    const period = this.#o.pingIntervalMs ?? 25_000;
    this.#lastFrameAt = this.#now();
    clearInterval(this.#pingTimer);
    this.#pingTimer = setInterval(() => {
      const ws = this.#ws;
      if (ws === null) return;
      if (this.#now() - this.#lastFrameAt > 2 * period) {
        // No frame, not even a pong, for two periods: the path is dead even if TCP has not
        // noticed. Drop the socket now rather than wait out a closing handshake.
        this.#o.logger.debug('no frame from the server for two ping periods; reconnecting');
        this.#ws = null;
        try {
          ws.close(CLOSE_NORMAL, 'heartbeat timeout');
        } catch (err) {
          this.#o.logger.debug('socket close threw', { err: String(err) });
        }
        this.#lost(CLOSE_ABNORMAL, 'heartbeat timeout');
        return;
      }
      this.send({ type: 'ping' });
    }, period);
  }

  /**
   * Plans the next token refresh: `refreshBeforeS` before expiry, but never later than half
   * the remaining lifetime (a short-lived token would otherwise refresh in a loop). After a
   * failed attempt (`retry`), tries again sooner, while the token still lives.
   */
  #scheduleRefresh(retry = false): void {
    clearTimeout(this.#refreshTimer);
    this.#refreshTimer = undefined;
    if (this.#o.getToken === undefined) return;
    const remaining = this.#expiresAt * 1000 - this.#now();
    let delay: number;
    if (retry) {
      if (remaining <= 1000) return; // The server closes it as expired; the reconnect gets a new one.
      delay = Math.min(30_000, remaining / 4);
    } else {
      delay = Math.max(remaining - this.#o.refreshBeforeS * 1000, remaining / 2);
    }
    this.#refreshTimer = setTimeout(
      () => {
        void this.#refresh();
      },
      Math.min(MAX_TIMER, Math.max(1000, delay)),
    );
  }

  async #refresh(): Promise<void> {
    this.#refreshTimer = undefined;
    const ws = this.#ws;
    if (ws === null || !this.#welcomed) return;
    let token: string;
    try {
      token = await this.#token();
    } catch (err) {
      if (this.#ws !== ws) return;
      this.#scheduleRefresh(true);
      this.events.emit(
        'error',
        err instanceof PunchSignalError
          ? err
          : new PunchSignalError('ERR_TOKEN_SOURCE', 'getToken() failed', { cause: err }),
      );
      return;
    }
    if (this.#ws !== ws || ws.readyState !== OPEN) return;
    const ref = `token-${++this.#refreshSeq}`;
    this.#refreshRef = ref;
    ws.send(JSON.stringify({ type: 'token', token, ref } satisfies ClientMessage));
  }
}
