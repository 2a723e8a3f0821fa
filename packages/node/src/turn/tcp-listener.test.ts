import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  STUN_METHOD,
  TurnStreamFramer,
  encodeBindingRequest,
  encodeMessage,
  parseMessage,
} from '@punch/core';
import { createTurnServer, type TurnServer } from './server.js';
import { listenTurnTcp, type TcpLimits, type TurnTcpListener } from './tcp-listener.js';

let udp: UdpSocket | undefined;
let turn: TurnServer | undefined;
let listener: TurnTcpListener | undefined;
const open: Socket[] = [];

afterEach(async () => {
  for (const s of open.splice(0)) s.destroy();
  await listener?.close();
  turn?.close();
  udp?.close();
  listener = turn = udp = undefined;
});

/** A relay on loopback (UDP socket for the relay, TCP listener on the same number). */
async function start(limits: Partial<TcpLimits>): Promise<{ port: number; turn: TurnServer }> {
  const socket = createSocket('udp4');
  udp = socket;
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const server = await createTurnServer({ socket, host: '127.0.0.1', secret: 's', relay: {} });
  turn = server;
  const port = socket.address().port;
  listener = await listenTurnTcp({
    host: '127.0.0.1',
    port,
    turn: server,
    limits,
    onError: (err) => {
      throw err;
    },
  });
  return { port, turn: server };
}

/** Connects; resolves once connected, with a promise of the server's close. */
function dial(port: number): Promise<{ socket: Socket; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    open.push(socket);
    // A reset from the server is what these tests provoke: 'close' is what they wait for.
    socket.on('error', () => undefined);
    const closed = new Promise<void>((r) =>
      socket.once('close', () => {
        r();
      }),
    );
    socket.once('connect', () => {
      resolve({ socket, closed });
    });
    closed.then(() => {
      reject(new Error('closed before connecting'));
    }, reject);
  });
}

describe('listenTurnTcp', () => {
  it('listens on the number it is given, for the UDP socket beside it', async () => {
    const { port } = await start({});
    expect(listener?.port).toBe(port);
  });

  it('closes a connection that holds no allocation for the idle time', async () => {
    const { port, turn } = await start({ idleMs: 20 });
    const c = await dial(port);
    await c.closed;
    expect(turn.stats.tcp.closed.get('idle')).toBe(1);
    expect(turn.stats.tcp.open).toBe(0);
  });

  it('refuses connections over the total cap, and takes more once one ends', async () => {
    const { port, turn } = await start({ maxConnections: 2 });
    const a = await dial(port);
    await dial(port);
    const third = await dial(port);
    await third.closed;
    expect(turn.stats.tcp.refused.get('total')).toBe(1);
    a.socket.destroy();
    await a.closed;
    // The server sees the end a moment later: bounded retries, each waiting for an event.
    let accepted = false;
    for (let i = 0; i < 50 && !accepted; i++) {
      const next = await dial(port);
      next.socket.write(encodeBindingRequest(new Uint8Array(12)));
      accepted = await Promise.race([
        new Promise<boolean>((r) =>
          next.socket.once('data', () => {
            r(true);
          }),
        ),
        next.closed.then(() => false),
      ]);
    }
    expect(accepted).toBe(true);
  });

  it('closes a client that does not read what it asked for, holding a bounded queue', async () => {
    const { port, turn } = await start({ maxQueuedBytes: 64 * 1024 });
    const c = await dial(port);
    c.socket.pause(); // never reads its answers
    // 300,000 Binding requests (6 MB) ask for 9.6 MB of answers: more than the kernel buffers.
    const one = encodeBindingRequest(new Uint8Array(12));
    const burst = Buffer.alloc(one.length * 10_000);
    for (let i = 0; i < 10_000; i++) burst.set(one, i * one.length);
    for (let i = 0; i < 30 && !c.socket.destroyed; i++) c.socket.write(burst);
    await c.closed;
    expect(turn.stats.tcp.closed.get('backlog')).toBe(1);
    // Up to 300,000 requests to answer before the queue fills: seconds on a busy machine, so a
    // generous bound rather than vitest's 5 s (never asserted on as a duration).
  }, 30_000);

  it('answers a burst of requests on one connection, however many wait for their crypto', async () => {
    const { port } = await start({});
    const c = await dial(port);
    const count = 2000;
    const burst = Buffer.concat(
      Array.from({ length: count }, (_, i) => {
        const id = new Uint8Array(12);
        new DataView(id.buffer).setUint32(8, i);
        return encodeMessage({
          method: STUN_METHOD.allocate,
          class: 'request',
          transactionId: id,
          attributes: [{ type: 'REQUESTED-TRANSPORT', protocol: 17 }],
        });
      }),
    );
    const framer = new TurnStreamFramer();
    const seen = new Set<number>();
    const all = new Promise<void>((resolve, reject) => {
      c.socket.on('data', (chunk: Buffer) => {
        for (const frame of framer.push(new Uint8Array(chunk)).frames) {
          const m = parseMessage(frame);
          if (!m.ok || m.message.class !== 'error') {
            reject(new Error('not a challenge'));
            return;
          }
          const id = m.message.transactionId;
          seen.add(new DataView(id.buffer, id.byteOffset, id.byteLength).getUint32(8));
        }
        if (seen.size === count) resolve();
      });
      void c.closed.then(() => {
        reject(new Error(`closed after ${seen.size} answers`));
      });
    });
    c.socket.write(burst);
    await all;
    expect(seen.size).toBe(count);
  });
});
