import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { MAX_BUFFERED, jsonSender } from './json-sender.js';

interface Pair {
  /** The server side's sender, and how many writes reached its socket's stream. */
  send: (message: object) => void;
  writes: () => number;
  server: WebSocket;
  socket: Duplex;
  client: WebSocket;
  received: unknown[];
}

let http: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => http?.close(resolve));
  http = undefined;
});

/** A real ws server and client on loopback, with the server socket's writes counted. */
async function pair(): Promise<Pair> {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const srv = createServer();
  http = srv;
  const accepted = new Promise<{ ws: WebSocket; socket: Duplex }>((resolve) => {
    srv.on('upgrade', (req, socket, head) => {
      wss.handleUpgrade(req, socket, head, (ws) => {
        resolve({ ws, socket });
      });
    });
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  const client = new WebSocket(`ws://127.0.0.1:${port}/`);
  const received: unknown[] = [];
  client.on('message', (data: Buffer) => received.push(JSON.parse(data.toString()) as unknown));
  const { ws, socket } = await accepted;
  await new Promise((resolve) => client.once('open', resolve));
  // Count what leaves the stream: one _write or _writev call is one write to the kernel.
  let writes = 0;
  const s = socket as Duplex & {
    _write: (...a: unknown[]) => void;
    _writev?: (...a: unknown[]) => void;
  };
  const write = s._write.bind(s);
  s._write = (...a) => {
    writes++;
    write(...a);
  };
  const writev = s._writev?.bind(s);
  if (writev !== undefined) {
    s._writev = (...a) => {
      writes++;
      writev(...a);
    };
  }
  const send = jsonSender(ws, socket);
  return {
    // Any JSON will do here: the sender does not look inside what it sends.
    send: (m) => {
      send(m as Parameters<typeof send>[0]);
    },
    writes: () => writes,
    server: ws,
    socket,
    client,
    received,
  };
}

const until = async (check: () => boolean): Promise<void> => {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 5));
};

describe('jsonSender', () => {
  it('sends the frames of one tick in one write, in order', async () => {
    const p = await pair();
    for (let i = 0; i < 20; i++) p.send({ type: 'signal', i });
    expect(p.writes()).toBe(0); // corked until the tick ends
    await until(() => p.received.length === 20);
    expect(p.received).toEqual(Array.from({ length: 20 }, (_, i) => ({ type: 'signal', i })));
    expect(p.writes()).toBe(1);
    p.client.close();
  });

  it('starts a new write in the next tick, and uncorks fully each time', async () => {
    const p = await pair();
    p.send({ n: 1 });
    await new Promise((resolve) => setImmediate(resolve));
    p.send({ n: 2 });
    p.send({ n: 3 });
    await until(() => p.received.length === 3);
    expect(p.writes()).toBe(2);
    expect(p.socket.writableCorked).toBe(0);
    p.client.close();
  });

  it('delivers a close sent right after messages, after them', async () => {
    const p = await pair();
    const closed = new Promise<number>((resolve) => p.client.once('close', resolve));
    p.send({ bye: true });
    p.server.close(4401, 'ERR_KEY_REVOKED');
    expect(await closed).toBe(4401);
    expect(p.received).toEqual([{ bye: true }]);
  });

  it('sends nothing on a socket that is no longer open', async () => {
    const p = await pair();
    const closed = new Promise((resolve) => p.server.once('close', resolve));
    p.client.close();
    await closed;
    const before = p.writes(); // the close handshake's own frame
    p.send({ late: true });
    await new Promise((resolve) => setImmediate(resolve));
    expect(p.writes()).toBe(before);
  });

  it('drops a socket whose peer stopped reading once it buffers over the limit', async () => {
    const p = await pair();
    p.client.pause(); // the client stops reading: the server's buffer only grows
    const closed = new Promise((resolve) => p.server.once('close', resolve));
    const big = { blob: 'x'.repeat(64 * 1024) };
    for (let i = 0; i < 1000 && p.server.readyState === WebSocket.OPEN; i++) {
      p.send(big);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await closed;
    expect(p.server.readyState).toBe(WebSocket.CLOSED);
    expect(MAX_BUFFERED).toBeLessThan(1000 * 64 * 1024);
  });
});
