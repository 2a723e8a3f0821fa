import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { backoffDelay, type BackoffOptions } from '@punch/core';
import { SignalLink, type LinkEvent } from './link.js';

const TOKEN = 'p_first.token';
/** Upper bound for any wait: generous, and never asserted on as a duration. */
const WAIT_MS = 4000;
/** Reconnects within milliseconds, with a fixed draw so each delay is known in advance. */
const FAST: BackoffOptions = { baseMs: 8, capMs: 64, jitter: 'equal', random: () => 0 };

/** An HTTP answer a test server gives instead of upgrading. */
interface Refusal {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

/** A stand-in for Punch's session WebSocket on 127.0.0.1, port chosen by the OS. */
class FakePunch {
  readonly upgrades: IncomingMessage[] = [];
  /** Answers for the next upgrades, in order; an upgrade with none left is accepted. */
  readonly refusals: Refusal[] = [];
  readonly #server: Server = createServer();
  readonly #wss = new WebSocketServer({ noServer: true });
  readonly #sockets = new Waiter<WebSocket>();

  async listen(host = '127.0.0.1'): Promise<string> {
    this.#server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.upgrades.push(req);
      const refusal = this.refusals.shift();
      if (refusal === undefined) {
        this.#wss.handleUpgrade(req, socket, head, (ws) => {
          this.#sockets.push(ws);
        });
        return;
      }
      const headers = {
        'content-length': String(Buffer.byteLength(refusal.body)),
        ...refusal.headers,
      };
      socket.end(
        `HTTP/1.1 ${refusal.status} Refused\r\n` +
          Object.entries(headers)
            .map(([k, v]) => `${k}: ${v}\r\n`)
            .join('') +
          `connection: close\r\n\r\n${refusal.body}`,
      );
    });
    await new Promise<void>((resolve) => {
      this.#server.listen(0, host, resolve);
    });
    const name = host.includes(':') ? `[${host}]` : host;
    return `http://${name}:${(this.#server.address() as AddressInfo).port}`;
  }

  /** The server side of the next accepted connection. */
  connection(): Promise<WebSocket> {
    return this.#sockets.next(() => true, 'a connection');
  }

  async close(): Promise<void> {
    for (const ws of this.#wss.clients) ws.terminate();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => {
      this.#server.close(() => {
        resolve();
      });
    });
  }
}

/** Collects values and lets a test wait for one that matches, with a bound. */
class Waiter<T> {
  readonly seen: T[] = [];
  readonly #waiting: { match: (v: T) => boolean; resolve: (v: T) => void }[] = [];
  #taken = 0;

  push(v: T): void {
    this.seen.push(v);
    const w = this.#waiting.find((x) => x.match(v));
    if (w === undefined) return;
    this.#waiting.splice(this.#waiting.indexOf(w), 1);
    this.#taken = this.seen.length;
    w.resolve(v);
  }

  /** The first value after the last one taken that matches. */
  next(match: (v: T) => boolean, what: string): Promise<T> {
    const i = this.seen.findIndex((v, n) => n >= this.#taken && match(v));
    if (i >= 0) {
      this.#taken = i + 1;
      return Promise.resolve(this.seen[i]!);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`no ${what} within ${WAIT_MS} ms; saw ${JSON.stringify(this.seen)}`));
      }, WAIT_MS);
      this.#waiting.push({
        match,
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
      });
    });
  }
}

const servers: FakePunch[] = [];
const links: SignalLink[] = [];

afterEach(async () => {
  for (const l of links.splice(0)) l.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function setup(reconnect: BackoffOptions = FAST, host?: string, quietMs?: number) {
  const punch = new FakePunch();
  servers.push(punch);
  const server = await punch.listen(host);
  const events = new Waiter<LinkEvent>();
  const link = new SignalLink({
    server,
    session: 'nab-floor',
    token: TOKEN,
    ipv4: false,
    reconnect,
    ...(quietMs === undefined ? {} : { quietMs }),
    onEvent: (e) => {
      events.push(e);
    },
  });
  links.push(link);
  const next = <T extends LinkEvent['type']>(type: T): Promise<Extract<LinkEvent, { type: T }>> =>
    events.next((e) => e.type === type, `"${type}" event`) as Promise<
      Extract<LinkEvent, { type: T }>
    >;
  return { punch, server, link, events, next };
}

function received(ws: WebSocket): Promise<unknown> {
  return new Promise((resolve) => {
    ws.once('message', (data: Buffer) => {
      resolve(JSON.parse(data.toString('utf8')));
    });
  });
}

const WELCOME = {
  type: 'welcome',
  session: 'nab-floor',
  role: 'peer',
  stream: 'cam-1',
  expiresAt: 4_000_000_000,
  tally: { program: ['cam-1'], preview: [] },
  stun: { host: '127.0.0.1', port: 3478 },
};

describe('SignalLink: the session WebSocket', () => {
  it('opens the session path with the token in Authorization and the punch.v1 subprotocol', async () => {
    const { punch, link, next } = await setup();
    link.connect();
    const ws = await punch.connection();
    await next('open');
    const req = punch.upgrades[0]!;
    expect(req.url).toBe('/api/session/nab-floor/ws');
    expect(req.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(req.headers['sec-websocket-protocol']).toBe('punch.v1');
    expect(ws.protocol).toBe('punch.v1');
    expect(link.open).toBe(true);
  });

  it('sends typed client messages as JSON, and drops them while not open', async () => {
    const { punch, link, next } = await setup();
    expect(link.send({ type: 'ping' })).toBe(false);
    link.connect();
    const ws = await punch.connection();
    await next('open');
    const got = received(ws);
    expect(
      link.send({
        type: 'endpoint',
        stream: 'cam-1',
        role: 'sender',
        public: { ip: '203.0.113.7', port: 40000 },
      }),
    ).toBe(true);
    expect(await got).toEqual({
      type: 'endpoint',
      stream: 'cam-1',
      role: 'sender',
      public: { ip: '203.0.113.7', port: 40000 },
    });
  });

  it('parses server messages and skips frames it does not understand', async () => {
    const { punch, link, events, next } = await setup();
    link.connect();
    const ws = await punch.connection();
    ws.send('not json');
    ws.send(JSON.stringify({ type: 'from-a-newer-server', x: 1 }));
    ws.send(JSON.stringify({ type: 'peer-left', stream: 'cam-1' })); // no role: malformed
    ws.send(JSON.stringify(WELCOME));
    const m = await next('message');
    expect(m.message).toEqual(WELCOME);
    expect(events.seen.filter((e) => e.type === 'message')).toHaveLength(1);
  });

  it('reconnects with the newest token Punch sent', async () => {
    const { punch, link, next } = await setup();
    link.connect();
    const ws = await punch.connection();
    ws.send(JSON.stringify({ type: 'token', token: 'p_second.token', expiresAt: 4_000_000_000 }));
    expect((await next('message')).message).toMatchObject({ type: 'token' });
    expect(link.token).toBe('p_second.token');
    ws.close(1001); // Punch restarting
    expect((await next('retrying')).reason).toBe(
      'connection to Punch closed (1001: the server is restarting)',
    );
    await punch.connection();
    expect(punch.upgrades.map((r) => r.headers.authorization)).toEqual([
      `Bearer ${TOKEN}`,
      'Bearer p_second.token',
    ]);
  });
});

describe('SignalLink: how it ends', () => {
  it.each([
    [4410, 'ended', 'the session has ended'],
    [4409, 'replaced', 'replaced by a newer connection'],
    [4401, 'refused', 'the token is no longer valid'],
    [4403, 'refused', 'this token may not do that'],
  ] as const)('a close with %i reports %s and stops', async (code, kind, text) => {
    const { punch, link, events, next } = await setup();
    link.connect();
    const ws = await punch.connection();
    ws.close(code, 'why');
    expect(await next('closed')).toEqual({ type: 'closed', kind, code, reason: 'why', text });
    // Reported from the same close as a retry would be: none was scheduled.
    expect(events.seen.some((e) => e.type === 'retrying')).toBe(false);
    expect(link.open).toBe(false);
  });

  it.each([
    [401, 'ERR_TOKEN_EXPIRED', 'The token has expired'],
    [403, 'ERR_STREAM_FORBIDDEN', 'this token is for stream "cam-2"'],
    [404, 'ERR_SESSION_NOT_FOUND', 'No such session'],
  ] as const)(
    'a refused upgrade (%i) reports the problem code and stops',
    async (status, code, detail) => {
      const { punch, link, events, next } = await setup();
      punch.refusals.push({
        status,
        body: JSON.stringify({ type: 'about:blank', title: 'Refused', status, code, detail }),
        headers: { 'content-type': 'application/problem+json' },
      });
      link.connect();
      expect(await next('rejected')).toEqual({ type: 'rejected', status, code, detail });
      expect(events.seen.some((e) => e.type === 'retrying')).toBe(false);
    },
  );

  it('a refusal that is not a problem body (a proxy page) reports the HTTP status', async () => {
    const { punch, link, next } = await setup();
    punch.refusals.push({ status: 403, body: '<html>Forbidden</html>' });
    link.connect();
    expect(await next('rejected')).toEqual({
      type: 'rejected',
      status: 403,
      code: 'HTTP_403',
      detail: '',
    });
  });
});

describe('SignalLink: reconnecting', () => {
  it('backs off between failed attempts and starts over once connected', async () => {
    const { punch, link, next } = await setup();
    const problem = JSON.stringify({
      type: 'x',
      title: 'x',
      status: 500,
      code: 'ERR_INTERNAL',
      detail: '',
    });
    punch.refusals.push({ status: 500, body: problem }, { status: 500, body: problem });
    link.connect();
    const first = await next('retrying');
    const second = await next('retrying');
    expect(first).toEqual({
      type: 'retrying',
      reason: 'Punch answered 500 ERR_INTERNAL',
      delayMs: backoffDelay(0, FAST),
    });
    expect(second.delayMs).toBe(backoffDelay(1, FAST));
    expect(backoffDelay(1, FAST)).toBeGreaterThan(backoffDelay(0, FAST)); // the test can fail
    const ws = await punch.connection();
    await next('open');
    ws.terminate(); // a drop, no close frame
    const afterDrop = await next('retrying');
    expect(afterDrop).toEqual({
      type: 'retrying',
      reason: 'connection to Punch closed (1006: the connection was lost)',
      delayMs: backoffDelay(0, FAST),
    });
    await punch.connection();
    expect(punch.upgrades).toHaveLength(4);
  });

  it('waits as long as Retry-After says', async () => {
    const { punch, link, next } = await setup();
    punch.refusals.push({
      status: 503,
      body: JSON.stringify({
        type: 'x',
        title: 'x',
        status: 503,
        code: 'ERR_CAPACITY',
        detail: '',
      }),
      headers: { 'retry-after': '0' },
    });
    link.connect();
    expect(await next('retrying')).toEqual({
      type: 'retrying',
      reason: 'Punch answered 503 ERR_CAPACITY',
      delayMs: 0,
    });
    await punch.connection();
  });

  it('keeps trying a Punch that is not there, saying so', async () => {
    const events = new Waiter<LinkEvent>();
    const link = new SignalLink({
      server: await unusedPort(),
      session: 'nab-floor',
      token: TOKEN,
      ipv4: false,
      reconnect: FAST,
      onEvent: (e) => {
        events.push(e);
      },
    });
    links.push(link);
    link.connect();
    const first = await events.next((e) => e.type === 'retrying', 'a retry');
    const second = await events.next((e) => e.type === 'retrying', 'a second retry');
    expect(first).toMatchObject({
      reason: expect.stringMatching(
        /^cannot reach Punch at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)$/,
      ) as unknown,
      delayMs: backoffDelay(0, FAST),
    });
    expect(second).toMatchObject({ delayMs: backoffDelay(1, FAST) });
    expect(events.seen.filter((e) => e.type === 'connecting').length).toBeGreaterThanOrEqual(2);
  });

  it('a closed link does not connect again', async () => {
    const events = new Waiter<LinkEvent>();
    const link: SignalLink = new SignalLink({
      server: await unusedPort(),
      session: 'nab-floor',
      token: TOKEN,
      ipv4: false,
      reconnect: FAST,
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'retrying') link.close();
      },
    });
    links.push(link);
    link.connect();
    await events.next((e) => e.type === 'retrying', 'a retry');
    link.connect();
    expect(events.seen.map((e) => e.type)).toEqual(['connecting', 'retrying']);
    expect(link.open).toBe(false);
  });
});

/** An http:// URL on 127.0.0.1 where nothing listens (a port just freed). */
async function unusedPort(): Promise<string> {
  const s = createServer();
  await new Promise<void>((resolve) => {
    s.listen(0, '127.0.0.1', resolve);
  });
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => {
    s.close(() => {
      resolve();
    });
  });
  return `http://127.0.0.1:${port}`;
}

describe('useIpv4 (Punch names a public STUN server: the agent will claim an IPv4 endpoint)', () => {
  it('a link connected over IPv6 is replaced at once, and says why', async () => {
    const { link, next } = await setup(FAST, '::1');
    link.connect();
    await next('open');
    expect(link.useIpv4()).toBe(true);
    const retry = await next('retrying');
    expect(retry.reason).toContain('IPv4');
    expect(retry.delayMs).toBe(0);
    expect(link.open).toBe(false);
  });

  it('a link already over IPv4 stays as it is', async () => {
    const { link, next, events } = await setup();
    link.connect();
    await next('open');
    expect(link.useIpv4()).toBe(false);
    expect(link.open).toBe(true);
    expect(events.seen.some((e) => e.type === 'retrying')).toBe(false);
  });

  it('asks a silent Punch whether it is there, and gives up on one that stays silent', async () => {
    const { punch, link, next } = await setup(FAST, undefined, 100);
    link.connect();
    const ws = await punch.connection();
    const asked = received(ws);
    await next('open');
    // Nothing from the server (a connection a firewall forgot): the link asks, then gives up.
    expect(await asked).toEqual({ type: 'ping' });
    expect((await next('retrying')).reason).toMatch(/^no word from Punch in \d+ s/);
    await punch.connection(); // and connects again
  });

  it('a Punch that answers, or speaks first, keeps the connection', async () => {
    const { punch, link, events, next } = await setup(FAST, undefined, 50);
    link.connect();
    const ws = await punch.connection();
    ws.on('message', () => {
      ws.send(JSON.stringify({ type: 'pong', at: 1 }));
    });
    await next('open');
    await new Promise((r) => setTimeout(r, 500)); // ten quiet periods
    expect(events.seen.filter((e) => e.type === 'retrying')).toEqual([]);
    expect(link.open).toBe(true);
  });

  it('gives up an upgrade that never completes, and tries again', async () => {
    // A port that takes the connection and never answers it (a black-holed route, a wedged proxy).
    const mute = createNetServer(() => undefined);
    await new Promise<void>((resolve) => mute.listen(0, '127.0.0.1', resolve));
    const events = new Waiter<LinkEvent>();
    const link = new SignalLink({
      server: `http://127.0.0.1:${(mute.address() as AddressInfo).port}`,
      session: 'nab-floor',
      token: TOKEN,
      ipv4: false,
      reconnect: FAST,
      connectTimeoutMs: 200,
      onEvent: (e) => {
        events.push(e);
      },
    });
    links.push(link);
    try {
      link.connect();
      const retrying = await events.next((e) => e.type === 'retrying', 'a retry');
      expect(retrying.type === 'retrying' && retrying.reason).toMatch(/cannot reach Punch/);
    } finally {
      link.close();
      mute.close();
    }
  });
});
