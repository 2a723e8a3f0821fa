import WebSocket from 'ws';
import {
  CLOSE_ABNORMAL,
  CLOSE_NORMAL,
  ProblemSchema,
  backoffDelay,
  closeMeaning,
  decodeServerMessage,
  type BackoffOptions,
  type ClientMessage,
  type CloseKind,
  type ParsedServerMessage,
} from '@punch/core';

/** Reconnects to Punch after about 0.5 s, doubling up to about 8 s, each ±25%. */
export const RECONNECT: BackoffOptions = { baseMs: 500, capMs: 8000, jitter: 'narrow' };
/** A server silent this long is asked whether it is there (see `LinkOptions.quietMs`). */
const QUIET_MS = 10_000;

/** The WebSocket subprotocol of the sessions realm (DESIGN.md "WebSocket protocol (v1)"). */
const SUBPROTOCOL = 'punch.v1';

export type PeerMessage = Extract<ParsedServerMessage, { type: 'peer' }>;

/** The close meanings after which the link stops: the session, the token or the slot is gone. */
export type EndingKind = Extract<CloseKind, 'ended' | 'refused' | 'replaced'>;

/**
 * What the link reports. After `rejected` or `closed` it has stopped for good; after
 * `retrying` it connects again by itself once `delayMs` has passed.
 */
export type LinkEvent =
  /** A connection attempt starts. */
  | { type: 'connecting' }
  /** The WebSocket is open (the server's `welcome` follows). */
  | { type: 'open' }
  /** A server message, parsed by core's schema (frames it does not understand are dropped). */
  | { type: 'message'; message: ParsedServerMessage }
  /** The connection failed or dropped; `reason` is a sentence for the operator. */
  | { type: 'retrying'; reason: string; delayMs: number }
  /**
   * The upgrade was refused: 401/403 (the token) or 404 (the session). `code` is the problem
   * body's code, or `HTTP_<status>` when the body is not a problem (a proxy's page).
   */
  | { type: 'rejected'; status: 401 | 403 | 404; code: string; detail: string }
  /** Punch closed the socket with a code whose meaning (core's `closeMeaning`) is final. */
  | { type: 'closed'; kind: EndingKind; code: number; reason: string; text: string };

export interface LinkOptions {
  /** Punch's origin, `http(s)://host[:port]`. */
  readonly server: string;
  readonly session: string;
  readonly token: string;
  /**
   * With a STUN server of its own (a Punch without UDP, on Workers) the agent claims its
   * endpoint, which Punch accepts only from the IP its WebSocket came from: the media socket is
   * IPv4, so the WebSocket must be too, even to a dual-stack host.
   */
  readonly ipv4: boolean;
  /** Reconnect delays (default {@link RECONNECT}). */
  readonly reconnect?: BackoffOptions;
  /**
   * How long the server may say nothing before the link asks (`ping`), and the link gives up on
   * the connection after two and a half times that (default 10 s: gone after 25 s).
   */
  readonly quietMs?: number;
  /** How long an upgrade may take before it is given up and tried again (default 10 s). */
  readonly connectTimeoutMs?: number;
  readonly onEvent: (e: LinkEvent) => void;
}

/**
 * The agent's signalling link to Punch: one session WebSocket at a time, the token in the
 * Authorization header, typed client messages out, parsed server messages in. It rides out a
 * restarting Punch by reconnecting with backoff (or after `Retry-After` when Punch names a
 * wait), keeps the newest token Punch handed it (`token` messages) for the next connection,
 * and stops on a refused upgrade or a close whose meaning is final. The punched path does not
 * need it: media keeps flowing while it reconnects.
 */
export class SignalLink {
  readonly #o: LinkOptions;
  #token: string;
  #ws: WebSocket | undefined;
  #attempt = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #ipv4: boolean;
  /** The current connection's address family (`IPv4`, `IPv6`), once upgraded. */
  #family: string | undefined;
  /** When the server last said anything on the current connection (ms, performance.now()). */
  #heard = 0;
  #heartbeat: NodeJS.Timeout | undefined;

  constructor(options: LinkOptions) {
    this.#o = options;
    this.#token = options.token;
    this.#ipv4 = options.ipv4;
  }

  /** The token the next connection presents (the newest one Punch sent). */
  get token(): string {
    return this.#token;
  }

  /** True while the WebSocket is open (messages sent now are delivered, in order). */
  get open(): boolean {
    return this.#ws?.readyState === WebSocket.OPEN;
  }

  /** Opens the WebSocket; from here on the link reconnects by itself until `close()`. */
  connect(): void {
    if (this.#stopped) return;
    this.#o.onEvent({ type: 'connecting' });
    const url = `${this.#o.server.replace(/^http/, 'ws')}/api/session/${encodeURIComponent(this.#o.session)}/ws`;
    const ws = new WebSocket(url, [SUBPROTOCOL], {
      headers: { authorization: `Bearer ${this.#token}` },
      // A route into a black hole would otherwise hang the upgrade for minutes.
      handshakeTimeout: this.#o.connectTimeoutMs ?? 10_000,
      // IPv4 only when the agent claims its endpoint: see LinkOptions.ipv4.
      ...(this.#ipv4 ? { family: 4 } : {}),
    });
    this.#ws = ws;
    this.#family = undefined;
    ws.on('upgrade', (res) => {
      this.#family = res.socket.remoteFamily;
    });
    ws.on('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        this.#refused(res.statusCode ?? 0, Buffer.concat(chunks), res.headers['retry-after']);
      });
    });
    ws.on('error', (err: NodeJS.ErrnoException) => {
      // Connection refused, DNS, reset: Punch may be restarting. Keep trying. (An error on an
      // open socket is followed by its 'close', which decides.)
      if (ws.readyState !== WebSocket.OPEN)
        this.#retry(`cannot reach Punch at ${this.#o.server} (${err.code ?? err.message})`);
    });
    ws.on('open', () => {
      this.#attempt = 0;
      this.#listen(ws);
      this.#o.onEvent({ type: 'open' });
    });
    // Text frames arrive as Buffers (ws's default binaryType, 'nodebuffer').
    ws.on('message', (data: Buffer) => {
      this.#heard = performance.now();
      const message = decodeServerMessage(data.toString('utf8'));
      // Undefined: not a message this agent understands (a newer server's): skipped.
      if (message === undefined) return;
      if (message.type === 'token') this.#token = message.token;
      this.#o.onEvent({ type: 'message', message });
    });
    ws.on('close', (code, reason) => {
      if (this.#ws !== ws || this.#stopped) return;
      this.#ws = undefined;
      const meaning = closeMeaning(code);
      if (meaning.kind === 'ended' || meaning.kind === 'refused' || meaning.kind === 'replaced') {
        this.close();
        this.#o.onEvent({
          type: 'closed',
          kind: meaning.kind,
          code,
          reason: reason.toString(),
          text: meaning.text,
        });
      } else if (code !== CLOSE_ABNORMAL || ws.readyState === WebSocket.CLOSED) {
        // A bare 1006 while the socket is still closing is followed by its 'error': retried there.
        this.#retry(`connection to Punch closed (${code}: ${meaning.text})`);
      }
    });
  }

  /**
   * From now on connects over IPv4 only (see {@link LinkOptions.ipv4}): Punch named a public
   * STUN server in `welcome`, so the agent will claim an IPv4 endpoint. True when the current
   * connection is IPv6 and is being replaced at once (its `welcome` is then moot).
   */
  useIpv4(): boolean {
    this.#ipv4 = true;
    if (this.#family !== 'IPv6') return false;
    this.#retry(
      'moving the link to IPv4, like the media socket, for the STUN server Punch names',
      0,
    );
    return true;
  }

  /** Sends one message if the socket is open; false when it is not (the message is dropped). */
  send(message: ClientMessage): boolean {
    const ws = this.#ws;
    if (ws?.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify(message));
    return true;
  }

  /**
   * Watches the open connection: a server silent for `quietMs` is asked (`ping`), and one
   * silent for two and a half times that is given up on. A connection can die without a word
   * (a firewall that forgot it, a cut cable): TCP would take a quarter of an hour to say so,
   * while tally and tokens went nowhere.
   */
  #listen(ws: WebSocket): void {
    const quiet = this.#o.quietMs ?? QUIET_MS;
    this.#heard = performance.now();
    ws.on('ping', () => {
      this.#heard = performance.now();
    });
    clearInterval(this.#heartbeat);
    this.#heartbeat = setInterval(() => {
      if (this.#ws !== ws) return;
      const silent = performance.now() - this.#heard;
      if (silent >= quiet * 2.5)
        this.#retry(`no word from Punch in ${Math.round(silent / 1000)} s (connection lost)`);
      else if (silent >= quiet) this.send({ type: 'ping' });
    }, quiet / 2);
    this.#heartbeat.unref();
  }

  /** Closes the socket (1000) and stops reconnecting. */
  close(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearInterval(this.#heartbeat);
    const ws = this.#ws;
    this.#ws = undefined;
    if (ws !== undefined) {
      discard(ws);
      ws.close(CLOSE_NORMAL);
    }
  }

  /** An HTTP answer instead of an upgrade. */
  #refused(status: number, body: Buffer, retryAfter: string | undefined): void {
    // The body may end after close() (the agent stopped meanwhile): nothing left to report.
    if (this.#stopped) return;
    const { code, detail } = readRefusal(status, body);
    if (status === 401 || status === 403 || status === 404) {
      this.close();
      this.#o.onEvent({ type: 'rejected', status, code, detail });
    } else {
      // 429 and 503 name their wait (Retry-After, seconds); anything else backs off.
      const retry = Number(retryAfter);
      this.#retry(
        `Punch answered ${status} ${code}`,
        Number.isFinite(retry) ? retry * 1000 : undefined,
      );
    }
  }

  #retry(reason: string, afterMs?: number): void {
    if (this.#stopped) return;
    clearInterval(this.#heartbeat);
    const delayMs = afterMs ?? backoffDelay(this.#attempt++, this.#o.reconnect ?? RECONNECT);
    const ws = this.#ws;
    this.#ws = undefined;
    if (ws !== undefined) {
      discard(ws);
      ws.terminate();
    }
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      if (this.#ws === undefined) this.connect();
    }, delayMs);
    // A reconnect timer alone does not keep the process alive (the agent's own sockets do).
    this.#timer.unref();
    this.#o.onEvent({ type: 'retrying', reason, delayMs });
  }
}

/** A refusal's problem body (RFC 9457): only its code and detail matter here, each optional. */
const PROBLEM_FIELDS = ProblemSchema.pick({ code: true, detail: true }).partial();

/** A refused upgrade's code and detail: the problem body's, else `HTTP_<status>` and none. */
function readRefusal(status: number, body: Buffer): { code: string; detail: string } {
  const fallback = { code: `HTTP_${status}`, detail: '' };
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    // Not JSON (a proxy's error page): the HTTP status is all there is to report.
    return fallback;
  }
  const parsed = PROBLEM_FIELDS.safeParse(json);
  if (!parsed.success) return fallback;
  return { code: parsed.data.code ?? fallback.code, detail: parsed.data.detail ?? '' };
}

/**
 * Detaches a socket the link is leaving. Closing or terminating a socket that is still
 * connecting makes ws emit 'error' ("closed before the connection was established"): expected,
 * since the link itself ended it, so it is ignored rather than retried.
 */
function discard(ws: WebSocket): void {
  ws.removeAllListeners();
  ws.on('error', () => undefined);
}
