/**
 * The punched path through the `MediaPath` interface only, routed the way the agent routes
 * the media socket's datagrams: what a second kind of path (the relay) must do as well.
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { deriveTunnelKey, encodeBindingSuccess, PacketType } from '@punch/core';
import { Traffic } from './health.js';
import type { Addr, MediaPath, PathEvents } from './media-path.js';
import { PunchedPath } from './path.js';

/** Upper bound for any wait: generous, and never asserted on as a duration. */
const WAIT_MS = 4000;

type Seen = { type: 'up'; remote: Addr } | { type: 'data'; packet: Buffer } | { type: 'down' };

/** One side: its socket, its path, and what the path reported. */
class Side {
  readonly seen: Seen[] = [];
  readonly offered: boolean[] = [];
  path!: MediaPath;
  readonly #waiting: { match: (e: Seen) => boolean; resolve: (e: Seen) => void }[] = [];

  constructor(readonly socket: Socket) {
    // As the agent does: every datagram is offered to the path.
    socket.on('message', (msg, rinfo) => {
      this.offered.push(this.path.onDatagram(msg, { ip: rinfo.address, port: rinfo.port }));
    });
  }

  get events(): PathEvents {
    const push = (e: Seen): void => {
      this.seen.push(e);
      const w = this.#waiting.find((x) => x.match(e));
      if (w === undefined) return;
      this.#waiting.splice(this.#waiting.indexOf(w), 1);
      w.resolve(e);
    };
    return {
      up: (remote) => {
        push({ type: 'up', remote });
      },
      down: () => {
        push({ type: 'down' });
      },
      failed: () => undefined, // punchTimeoutMs is far beyond any test here
      data: (packet) => {
        push({ type: 'data', packet: Buffer.from(packet) });
      },
    };
  }

  next<T extends Seen['type']>(type: T): Promise<Extract<Seen, { type: T }>> {
    const match = (e: Seen): boolean => e.type === type;
    const seen = this.seen.find(match);
    if (seen !== undefined) return Promise.resolve(seen as Extract<Seen, { type: T }>);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`no "${type}" within ${WAIT_MS} ms; saw ${JSON.stringify(this.seen)}`));
      }, WAIT_MS);
      this.#waiting.push({
        match,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e as Extract<Seen, { type: T }>);
        },
      });
    });
  }

  get addr(): Addr {
    const a = this.socket.address();
    return { ip: a.address, port: a.port };
  }
}

const sockets: Socket[] = [];
const paths: MediaPath[] = [];

afterEach(() => {
  for (const p of paths.splice(0)) p.close();
  for (const s of sockets.splice(0)) s.close();
});

async function side(): Promise<Side> {
  const s = createSocket('udp4');
  sockets.push(s);
  await new Promise<void>((resolve) => {
    s.bind(0, '127.0.0.1', resolve);
  });
  return new Side(s);
}

/** Two agents' punched paths on loopback, seen only as MediaPaths. */
async function pair(): Promise<[Side, Side]> {
  const key = await deriveTunnelKey('correct-horse-battery-staple-42', 'nab-floor', 'cam-wide');
  const a = await side();
  const b = await side();
  const open = (me: Side, other: Side, role: 'sender' | 'receiver'): MediaPath =>
    new PunchedPath({
      socket: me.socket,
      key,
      role,
      remote: other.addr,
      events: me.events,
      punchTimeoutMs: 60_000,
    });
  a.path = open(a, b, 'sender');
  b.path = open(b, a, 'receiver');
  paths.push(a.path, b.path);
  return [a, b];
}

/** An SRT data packet as an SRT tool would send it (the first bit clear: data, not control). */
const SRT = Buffer.from([0x00, 0x00, 0x00, 0x2a, 1, 2, 3, 4, 5, 6, 7, 8]);

describe('the punched path as a MediaPath', () => {
  it('is a direct path, not up and sending nothing until punched', async () => {
    const [a] = await pair();
    expect(a.path.kind).toBe('direct');
    expect(a.path.up).toBe(false);
    expect(a.path.remote).toBeUndefined();
    expect(a.path.send(SRT)).toBe(false);
  });

  it('carries SRT packets both ways once up, unchanged', async () => {
    const [a, b] = await pair();
    await Promise.all([a.next('up'), b.next('up')]);
    expect(a.path.up).toBe(true);
    expect(a.path.remote).toEqual(b.addr);
    expect(a.path.send(SRT)).toBe(true);
    expect((await b.next('data')).packet).toEqual(SRT);
    const back = Buffer.from([0x80, 0x02, 0, 0, 9, 9]); // an SRT control packet (ACK)
    expect(b.path.send(back)).toBe(true);
    expect((await a.next('data')).packet).toEqual(back);
  });

  it('claims its own traffic and leaves other datagrams to whoever else listens', async () => {
    const [a, b] = await pair();
    await Promise.all([a.next('up'), b.next('up')]);
    // Probes and pings so far were all the path's.
    expect(a.offered.length).toBeGreaterThan(0);
    expect(a.offered.every((x) => x)).toBe(true);
    const from = { ip: '127.0.0.1', port: 9 };
    const stun = Buffer.from(encodeBindingSuccess(new Uint8Array(12), { ...from, family: 4 }));
    expect(a.path.onDatagram(stun, from)).toBe(false);
    const stranger = Buffer.from([PacketType.data, ...SRT]);
    expect(a.path.onDatagram(stranger, from)).toBe(false); // data from an unproven address
    expect(a.path.onDatagram(Buffer.from([0x40, 0x00, 0x00, 0x04, 1, 2, 3, 4]), from)).toBe(false);
    expect(a.seen.some((e) => e.type === 'data')).toBe(false);
    // The same data from the proven other side is the path's, and handed on without its type byte.
    expect(a.path.onDatagram(stranger, b.addr)).toBe(true);
    expect((await a.next('data')).packet).toEqual(SRT);
  });

  it('reports health as a direct path, with RTT and loss, once up', async () => {
    const [a, b] = await pair();
    const traffic = new Traffic(0);
    expect(traffic.sample(a.path, undefined, 1000)).toMatchObject({ path: 'none' });
    await Promise.all([a.next('up'), b.next('up')]);
    traffic.sent(SRT);
    const stats = traffic.sample(a.path, undefined, 2000);
    expect(stats).toMatchObject({ path: 'direct', sendBytes: SRT.byteLength, lossPct: 0 });
  });

  it('sends and takes nothing once closed', async () => {
    const [a, b] = await pair();
    await Promise.all([a.next('up'), b.next('up')]);
    a.path.close();
    expect(a.path.up).toBe(false);
    expect(a.path.send(SRT)).toBe(false);
    expect(a.path.onDatagram(Buffer.from([PacketType.data, ...SRT]), b.addr)).toBe(false);
    expect(a.seen.some((e) => e.type === 'data')).toBe(false);
  });
});
