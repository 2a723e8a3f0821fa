import {
  CLOSE_NORMAL,
  backoffDelay,
  closeMeaning,
  decodeServerMessage,
  type ParsedServerMessage,
} from '@punch/core';
import type { StreamViewData } from './api.js';

/** The stream view a `stream` message carries (the shape of `GET /api/session/:id` `streams[]`). */
export function viewOf(m: Extract<ParsedServerMessage, { type: 'stream' }>): StreamViewData {
  return {
    name: m.name,
    state: m.state,
    sender: m.sender,
    receiver: m.receiver,
    tally: m.tally,
    takeover: m.takeover,
  };
}

export type FeedStatus = 'connecting' | 'live' | 'reconnecting' | 'ended';

export interface FeedOptions {
  readonly session: string;
  /** The token to open the socket with (read at every (re)connect: refreshed tokens apply). */
  readonly token: () => string;
  readonly onMessage: (m: ParsedServerMessage) => void;
  readonly onStatus: (status: FeedStatus, reason?: string) => void;
  /** Opens a socket; tests and the page use the browser's WebSocket. */
  readonly open?: (url: string, protocols: string[]) => WebSocket;
}

/** Close kinds after which reconnecting cannot help (docs/errors.md). */
const FINAL = new Set(['refused', 'not-found', 'replaced', 'ended']);

/** Reconnect delay: from 0.5 s up to 10 s, never at once after a loss (equal jitter). */
export const RECONNECT = { baseMs: 500, capMs: 10_000, jitter: 'equal' } as const;

/**
 * The session's WebSocket, kept open: token in `Sec-WebSocket-Protocol` (never the URL), every
 * frame parsed with core's schema, reconnect with backoff and jitter, a ping every 25 s so idle
 * proxies keep it. `closed` from the server, or a final close code, ends it.
 */
export class SessionFeed {
  readonly #o: FeedOptions;
  #ws: WebSocket | undefined;
  #attempt = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #ping: ReturnType<typeof setInterval> | undefined;
  #stopped = false;
  #pingedAt: number | undefined;
  #offsetMs = 0;

  constructor(options: FeedOptions) {
    this.#o = options;
  }

  /**
   * The server's clock in milliseconds (this machine's, corrected by the offset measured with a
   * ping after each welcome): countdowns and extensions must not trust a laptop's clock.
   */
  serverNow(): number {
    return Date.now() + this.#offsetMs;
  }

  start(): void {
    this.#connect();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearInterval(this.#ping);
    this.#ws?.close(CLOSE_NORMAL, 'bye');
  }

  send(message: unknown): void {
    if (this.#ws?.readyState === WebSocket.OPEN) this.#ws.send(JSON.stringify(message));
  }

  #connect(): void {
    if (this.#stopped) return;
    this.#o.onStatus(this.#attempt === 0 ? 'connecting' : 'reconnecting');
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const url = `${scheme}://${location.host}/api/session/${encodeURIComponent(this.#o.session)}/ws`;
    const protocols = ['punch.v1', `punch.token.${this.#o.token()}`];
    const ws = this.#o.open?.(url, protocols) ?? new WebSocket(url, protocols);
    this.#ws = ws;
    ws.onmessage = (ev: MessageEvent) => {
      if (typeof ev.data !== 'string') return;
      const m = decodeServerMessage(ev.data);
      if (m === undefined) return; // a newer server's message: ignored
      if (m.type === 'welcome') {
        this.#attempt = 0;
        this.#pingedAt = Date.now();
        ws.send(JSON.stringify({ type: 'ping' })); // learns the server's clock from `pong`
        this.#o.onStatus('live');
      } else if (m.type === 'pong' && this.#pingedAt !== undefined) {
        const now = Date.now();
        this.#offsetMs = m.at - (this.#pingedAt + now) / 2;
        this.#pingedAt = undefined;
      }
      this.#o.onMessage(m);
      if (m.type === 'closed')
        this.#end(m.reason === 'expired' ? 'the session expired' : 'the session was closed');
    };
    ws.onopen = () => {
      clearInterval(this.#ping);
      this.#ping = setInterval(() => {
        this.send({ type: 'ping' });
      }, 25_000);
    };
    ws.onclose = (ev: CloseEvent) => {
      clearInterval(this.#ping);
      if (this.#stopped || this.#ws !== ws) return;
      const meaning = closeMeaning(ev.code);
      if (FINAL.has(meaning.kind)) {
        this.#end(meaning.text);
        return;
      }
      this.#o.onStatus('reconnecting');
      const delay = backoffDelay(this.#attempt++, RECONNECT);
      // A refused upgrade (401, 404) reaches a browser as a bare 1006: ask over HTTP why, so an
      // expired link or a deleted session ends the feed instead of retrying for ever.
      void this.#refusal().then((reason) => {
        if (reason !== null) {
          this.#end(reason);
          return;
        }
        if (this.#stopped) return;
        this.#timer = setTimeout(() => {
          this.#connect();
        }, delay);
      });
    };
  }

  /** Why the server refuses this token for this session, or null (unreachable, or fine). */
  async #refusal(): Promise<string | null> {
    try {
      const res = await fetch(`/api/session/${encodeURIComponent(this.#o.session)}`, {
        headers: { authorization: `Bearer ${this.#o.token()}` },
      });
      if (res.status === 401) return 'the token is no longer valid';
      if (res.status === 403) return 'this token may not open this session';
      if (res.status === 404 || res.status === 410) return 'the session has ended';
      return null;
    } catch {
      return null; // Punch unreachable: keep retrying
    }
  }

  #end(reason: string): void {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearInterval(this.#ping);
    this.#o.onStatus('ended', reason);
  }
}
