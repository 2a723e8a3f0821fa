/** Black-box clients for the conformance suite: HTTP, WebSocket and STUN over UDP. */
import { createSocket, type Socket } from 'node:dgram';
import { request } from 'node:http';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { encodeBindingRequest, parseBindingResponse } from '@punch/core';

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: unknown;
}

export interface CallOptions {
  token?: string;
  body?: unknown;
  /** Raw body text (sent as is, with `contentType`). */
  raw?: string;
  contentType?: string;
  /** Source address on loopback (127.0.0.0/8), to act as another client IP. */
  from?: string;
  headers?: Record<string, string>;
}

/** One HTTP request; never throws on an HTTP error status. */
export function call(
  base: string,
  method: string,
  path: string,
  o: CallOptions = {},
): Promise<HttpResult> {
  const url = new URL(path, base);
  const headers: Record<string, string> = { ...o.headers };
  if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`;
  let payload: string | undefined;
  if (o.raw !== undefined) {
    payload = o.raw;
    if (o.contentType !== undefined) headers['content-type'] = o.contentType;
  } else if (o.body !== undefined) {
    payload = JSON.stringify(o.body);
    headers['content-type'] = o.contentType ?? 'application/json';
  }
  if (payload !== undefined) headers['content-length'] = String(Buffer.byteLength(payload));
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method, headers, ...(o.from === undefined ? {} : { localAddress: o.from }), agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text === '' ? undefined : JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/** The `code` of a problem+json body. */
export function codeOf(r: HttpResult): string | undefined {
  const j = r.json as { code?: string } | undefined;
  return j?.code;
}

export interface Created {
  session: string;
  token: string;
  expiresAt: number;
  streams: string[];
}

let counter = 0;
/** A unique valid session name for this run. */
export function uniqueName(prefix = 's'): string {
  counter++;
  return `${prefix}-${process.pid}-${counter}-${randomBytes(3).toString('hex')}`;
}

export async function createSession(
  base: string,
  body: { name?: string; ttl?: number; streams?: string[] } = {},
  from?: string,
): Promise<Created> {
  const r = await call(base, 'POST', '/api/session', {
    body: { name: uniqueName(), ...body },
    ...(from === undefined ? {} : { from }),
  });
  if (r.status !== 201) throw new Error(`create failed: ${r.status} ${r.text}`);
  return r.json as Created;
}

export async function peerToken(
  base: string,
  created: Created,
  stream: string | null,
  ttl?: number,
): Promise<string> {
  const r = await call(base, 'POST', `/api/session/${created.session}/tokens`, {
    token: created.token,
    body: ttl === undefined ? { stream } : { stream, ttl },
  });
  if (r.status !== 201) throw new Error(`token failed: ${r.status} ${r.text}`);
  return (r.json as { token: string }).token;
}

export type Msg = { type: string } & Record<string, unknown>;

/** A WebSocket client that queues every message so tests can await them in order. */
export class WsClient {
  readonly ws: WebSocket;
  readonly received: Msg[] = [];
  #waiters: { pred: (m: Msg) => boolean; resolve: (m: Msg) => void }[] = [];
  #cursor = 0;
  closeCode: number | undefined;
  readonly closed: Promise<number>;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString('utf8')) as Msg;
      this.received.push(m);
      this.#waiters = this.#waiters.filter((w) => {
        if (w.pred(m)) {
          w.resolve(m);
          return false;
        }
        return true;
      });
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code) => {
        this.closeCode = code;
        resolve(code);
      });
    });
  }

  /** Connects with the token in the Authorization header (or as a subprotocol). */
  static async connect(
    base: string,
    session: string,
    token: string | undefined,
    o: {
      via?: 'header' | 'protocol';
      from?: string;
      protocols?: string[];
      query?: string;
      headers?: Record<string, string>;
      /** Another endpoint than the session's (`/api/signal`). */
      path?: string;
    } = {},
  ): Promise<WsClient> {
    const url = `${base.replace(/^http/, 'ws')}${o.path ?? `/api/session/${session}/ws`}${o.query ?? ''}`;
    const protocols =
      o.protocols ??
      (o.via === 'protocol' && token !== undefined
        ? ['punch.v1', `punch.token.${token}`]
        : ['punch.v1']);
    const headers: Record<string, string> = { ...o.headers };
    if (o.via !== 'protocol' && token !== undefined) headers.authorization = `Bearer ${token}`;
    const ws = new WebSocket(url, protocols, {
      headers,
      ...(o.from === undefined ? {} : { localAddress: o.from }),
    });
    const client = new WsClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => {
        resolve();
      });
      ws.once('unexpected-response', (_req, res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          reject(
            new UpgradeRefused(
              res.statusCode ?? 0,
              Buffer.concat(chunks).toString('utf8'),
              res.headers['retry-after'],
            ),
          );
        });
      });
      ws.once('error', reject);
    });
    return client;
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The next message (after those already taken) matching `type` (and `pred`). */
  next(type: string, pred: (m: Msg) => boolean = () => true, timeoutMs = 5000): Promise<Msg> {
    const match = (m: Msg): boolean => m.type === type && pred(m);
    for (let i = this.#cursor; i < this.received.length; i++) {
      const m = this.received[i]!;
      if (match(m)) {
        this.#cursor = i + 1;
        return Promise.resolve(m);
      }
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new Error(
            `no "${type}" message within ${timeoutMs} ms; got: ${JSON.stringify(this.received.slice(-5))}`,
          ),
        );
      }, timeoutMs);
      this.#waiters.push({
        pred: match,
        resolve: (m) => {
          clearTimeout(timer);
          this.#cursor = this.received.length;
          resolve(m);
        },
      });
    });
  }

  /**
   * Waits until the server has handled everything sent so far (a ping's pong comes back after
   * it), without taking any other message: what arrived meanwhile is still there for `next`.
   */
  async settle(): Promise<void> {
    const cursor = this.#cursor;
    this.send({ type: 'ping' });
    const pong = await this.next('pong');
    this.received.splice(this.received.indexOf(pong), 1);
    this.#cursor = cursor;
  }

  /** Messages of `type` received so far. */
  all(type: string): Msg[] {
    return this.received.filter((m) => m.type === type);
  }

  close(): void {
    this.ws.close();
  }
}

export class UpgradeRefused extends Error {
  readonly status: number;
  readonly body: string;
  readonly retryAfter: string | undefined;
  constructor(status: number, body: string, retryAfter: string | undefined) {
    super(`upgrade refused with ${status}: ${body}`);
    this.status = status;
    this.body = body;
    this.retryAfter = retryAfter;
  }
  get code(): string | undefined {
    try {
      return (JSON.parse(this.body) as { code?: string }).code;
    } catch {
      return undefined;
    }
  }
}

/** Expects the WebSocket upgrade to be refused; returns the refusal. */
export async function refusedUpgrade(
  base: string,
  session: string,
  token: string | undefined,
  o: { via?: 'header' | 'protocol'; from?: string; query?: string } = {},
): Promise<UpgradeRefused> {
  try {
    const c = await WsClient.connect(base, session, token, o);
    c.close();
  } catch (err) {
    if (err instanceof UpgradeRefused) return err;
    throw err;
  }
  throw new Error('the upgrade was accepted');
}

/** A UDP socket that speaks STUN, as an agent's media socket does. */
export class UdpPeer {
  readonly socket: Socket;
  private constructor(socket: Socket) {
    this.socket = socket;
  }

  static async open(address = '127.0.0.1'): Promise<UdpPeer> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) =>
      socket.bind(0, address, () => {
        resolve();
      }),
    );
    return new UdpPeer(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** Sends a Binding request with `username` and resolves with the mapped address answered. */
  stun(
    host: string,
    port: number,
    username?: string,
    timeoutMs = 3000,
  ): Promise<{ ip: string; port: number }> {
    const tid = randomBytes(12);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.socket.off('message', onMessage);
        reject(new Error('no STUN answer'));
      }, timeoutMs);
      const onMessage = (msg: Buffer): void => {
        const r = parseBindingResponse(new Uint8Array(msg));
        if (r === undefined || Buffer.compare(Buffer.from(r.transactionId), tid) !== 0) return;
        clearTimeout(timer);
        this.socket.off('message', onMessage);
        resolve({ ip: r.mapped.ip, port: r.mapped.port });
      };
      this.socket.on('message', onMessage);
      this.socket.send(encodeBindingRequest(tid, username), port, host);
    });
  }

  /** Sends raw bytes (junk tests). */
  sendRaw(bytes: Uint8Array, host: string, port: number): void {
    this.socket.send(bytes, port, host);
  }

  close(): void {
    this.socket.close();
  }
}

/** The `sid` claim of a token (read, not verified): which instance of the session it is for. */
export function sidOf(token: string): string {
  const payload = token.slice(2).split('.')[0] ?? '';
  return (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sid: string }).sid;
}

/** Where `registered` tells an agent to send STUN; null from a host without STUN of its own. */
export type Bind = { host: string; port: number; username: string } | null;

/**
 * An agent tells Punch the public endpoint of its media socket `udp`. With a binding it sends
 * STUN there and the host records what it observes (Node); without one (Workers) it claims the
 * endpoint its own STUN server reported (here: loopback) with `endpoint`, from the same IP.
 * Resolves once the host has it.
 */
export async function announce(
  ws: WsClient,
  udp: UdpPeer,
  slot: { stream: string; role: 'sender' | 'receiver' },
  bind: Bind,
): Promise<{ ip: string; port: number }> {
  if (bind !== null) return udp.stun(bind.host, bind.port, bind.username);
  const mapped = { ip: '127.0.0.1', port: udp.port };
  ws.send({ type: 'endpoint', stream: slot.stream, role: slot.role, public: mapped });
  await ws.settle();
  return mapped;
}
