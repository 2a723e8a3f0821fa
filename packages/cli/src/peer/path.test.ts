import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, it, expect, vi } from 'vitest';
import { PacketType, deriveTunnelKey, encodeProbe, packetType, verifyProbe } from '@punch/core';
import type { Addr, PathEvents, Via } from './media-path.js';
import { PunchedPath } from './path.js';

const PASSPHRASE = 'correct-horse-battery-staple-42';
const SESSION = 'nab-floor';
const STREAM = 'cam-wide';
/** Upper bound for any wait: generous, and never asserted on as a duration. */
const WAIT_MS = 4000;

type Event =
  | { type: 'up'; remote: Addr; via: Via }
  | { type: 'down'; reason: string }
  | { type: 'failed'; seconds: number }
  | { type: 'pong' }
  | { type: 'data'; from: Addr; isRemote: boolean };

/** Records events and lets a test wait for one, with a bound. */
class Recorder {
  readonly events: Event[] = [];
  readonly #waiters: { match: (e: Event) => boolean; resolve: (e: Event) => void }[] = [];

  push(e: Event): void {
    this.events.push(e);
    for (const w of [...this.#waiters]) {
      if (w.match(e)) {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        w.resolve(e);
      }
    }
  }

  next<T extends Event['type']>(type: T, ms = WAIT_MS): Promise<Extract<Event, { type: T }>> {
    const match = (e: Event): boolean => e.type === type;
    const seen = this.events.find(match);
    if (seen !== undefined) return Promise.resolve(seen as Extract<Event, { type: T }>);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`no "${type}" within ${ms} ms; saw ${JSON.stringify(this.events)}`));
      }, ms);
      this.#waiters.push({
        match,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e as Extract<Event, { type: T }>);
        },
      });
    });
  }

  get sink(): PathEvents {
    return {
      up: (remote, via) => {
        this.push({ type: 'up', remote, via });
      },
      down: (reason) => {
        this.push({ type: 'down', reason });
      },
      failed: (seconds) => {
        this.push({ type: 'failed', seconds });
      },
      // Not reached here: route() below records data itself, through isRemote() and heard().
      // media-path.test.ts covers data through onDatagram().
      data: () => undefined,
    };
  }
}

const sockets: Socket[] = [];
const paths: PunchedPath[] = [];

afterEach(async () => {
  vi.useRealTimers();
  for (const p of paths.splice(0)) p.close();
  await Promise.all(
    sockets.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          try {
            s.close(() => {
              resolve();
            });
          } catch {
            resolve(); // already closed
          }
        }),
    ),
  );
});

/** A UDP socket on loopback, port chosen by the OS. */
async function udp(): Promise<Socket> {
  const s = createSocket('udp4');
  sockets.push(s);
  s.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      s.off('error', reject);
      resolve();
    });
  });
  return s;
}

function addr(s: Socket): Addr {
  const a = s.address();
  return { ip: a.address, port: a.port };
}

/** Counts datagrams a socket sends (wrapping send, as the agent's socket would be used). */
/** Counts the datagrams `s` sends (to `port` only, when given: pings and late acks to the
 * other path must not count). */
function countSends(s: Socket, port?: number): { count: () => number } {
  let n = 0;
  const send = s.send.bind(s) as (...args: unknown[]) => void;
  (s as unknown as { send: (...args: unknown[]) => void }).send = (...args: unknown[]) => {
    if (port === undefined || args[1] === port) n++;
    send(...args);
  };
  return { count: () => n };
}

/** Routes a socket's datagrams to its path by type, as agent.ts does. */
function route(s: Socket, path: () => PunchedPath | undefined, rec: Recorder): void {
  s.on('message', (msg, rinfo) => {
    const p = path();
    if (p === undefined) return;
    const from = { ip: rinfo.address, port: rinfo.port };
    switch (packetType(msg)) {
      case 'probe':
      case 'probeAck':
        void p.onProbe(msg, from);
        break;
      case 'ping':
        p.onPing(msg, from);
        break;
      case 'pong':
        p.onPing(msg, from);
        rec.push({ type: 'pong' });
        break;
      case 'data': {
        const isRemote = p.isRemote(from);
        if (isRemote) p.heard();
        rec.push({ type: 'data', from, isRemote });
        break;
      }
      default:
        break;
    }
  });
}

const key = (passphrase = PASSPHRASE, session = SESSION, stream = STREAM): Promise<CryptoKey> =>
  deriveTunnelKey(passphrase, session, stream);

/** Two agents on two loopback sockets, each told the other's address. */
async function pair(keys?: [CryptoKey, CryptoKey], punchTimeoutMs = WAIT_MS * 2) {
  const [ka, kb] = keys ?? [await key(), await key()];
  const sa = await udp();
  const sb = await udp();
  const ra = new Recorder();
  const rb = new Recorder();
  const a = new PunchedPath({
    socket: sa,
    key: ka,
    role: 'sender',
    remote: addr(sb),
    events: ra.sink,
    punchTimeoutMs,
  });
  const b = new PunchedPath({
    socket: sb,
    key: kb,
    role: 'receiver',
    remote: addr(sa),
    events: rb.sink,
    punchTimeoutMs,
  });
  route(sa, () => a, ra);
  route(sb, () => b, rb);
  paths.push(a, b);
  return { a, b, sa, sb, ra, rb };
}

/** A path on `socket` towards `remote`, routed, and closed after the test. */
function side(
  socket: Socket,
  k: CryptoKey,
  role: 'sender' | 'receiver',
  remote: ConstructorParameters<typeof PunchedPath>[0]['remote'],
  silenceMs?: number,
): { path: PunchedPath; rec: Recorder } {
  const rec = new Recorder();
  const path = new PunchedPath({
    key: k,
    punchTimeoutMs: WAIT_MS * 2,
    socket,
    role,
    remote,
    events: rec.sink,
    ...(silenceMs === undefined ? {} : { silenceMs }),
  });
  route(socket, () => path, rec);
  paths.push(path);
  return { path, rec };
}

describe('PunchedPath between two agents on loopback', () => {
  it('confirms up on both sides, each pointing at the other', async () => {
    const { a, b, sa, sb, ra, rb } = await pair();
    const [upA, upB] = await Promise.all([ra.next('up'), rb.next('up')]);
    expect(upA.remote).toEqual(addr(sb));
    expect(upB.remote).toEqual(addr(sa));
    expect(upA.via).toBe('public');
    expect(upB.via).toBe('public');
    expect(a.remote).toEqual(addr(sb));
    expect(b.remote).toEqual(addr(sa));
    expect(a.isRemote(addr(sb))).toBe(true);
    expect(b.isRemote(addr(sa))).toBe(true);
    expect(ra.events.some((e) => e.type === 'failed' || e.type === 'down')).toBe(false);
  });

  it('the other side back at a new address (restarted, or remapped by its NAT): the path moves there', async () => {
    const k = await key();
    const [sa, sb, sb2] = await Promise.all([udp(), udp(), udp()]);
    const { path: a, rec: ra } = side(sa, k, 'sender', addr(sb), 2000);
    const b = side(sb, k, 'receiver', addr(sa));
    await Promise.all([ra.next('up'), b.rec.next('up')]);
    // The old one goes quiet for good; the new one finds A, and pings it from its new address.
    b.path.close();
    await side(sb2, k, 'receiver', addr(sa)).rec.next('up');
    // A must not go on sending into the old address because the new one keeps talking to it.
    await vi.waitFor(
      () => {
        expect(a.remote).toEqual(addr(sb2));
      },
      { timeout: WAIT_MS, interval: 50 },
    );
  });

  it("the other side's new relayed address replaces its old one at once, not after a silence", async () => {
    const k = await key();
    const [sa, sb, sb2] = await Promise.all([udp(), udp(), udp()]);
    // B's "relayed address" is a socket of its own here: what matters is the label and the
    // order. A long silence: a move now cannot be the silence's doing.
    const remote = { ip: '127.0.0.1', port: 9, relay: addr(sb) };
    const { path: a, rec: ra } = side(sa, k, 'sender', remote, 60_000);
    side(sb, k, 'receiver', addr(sa));
    expect(await ra.next('up')).toMatchObject({ remote: addr(sb), via: 'relay' });
    // B allocates again: Punch names its new relayed address; the old one still answers for now.
    side(sb2, k, 'receiver', addr(sa));
    a.addRelay(addr(sb2));
    await vi.waitFor(
      () => {
        expect(a.remote).toEqual(addr(sb2));
      },
      { timeout: WAIT_MS, interval: 50 },
    );
  });

  it('measures RTT with pings once up', async () => {
    const { a, b, ra, rb } = await pair();
    await Promise.all([ra.next('up'), rb.next('up')]);
    expect(a.rttMs).toBeUndefined();
    await Promise.all([ra.next('pong'), rb.next('pong')]);
    expect(a.rttMs).toBeTypeOf('number');
    expect(a.rttMs).toBeGreaterThanOrEqual(0);
    expect(b.rttMs).toBeTypeOf('number');
    expect(b.rttMs).toBeGreaterThanOrEqual(0);
  });

  it('does not take data from an address that never proved the passphrase', async () => {
    const { sa, sb, ra, rb } = await pair();
    await Promise.all([ra.next('up'), rb.next('up')]);
    const stranger = await udp();
    const data = new Uint8Array([PacketType.data, 0x80, 0x02, 0x00, 0x00]);
    // The stranger first: its datagram is refused.
    stranger.send(data, addr(sa).port, '127.0.0.1');
    const fromStranger = await ra.next('data');
    expect(fromStranger.from).toEqual(addr(stranger));
    expect(fromStranger.isRemote).toBe(false);
    // The real peer's datagram is accepted (so the refusal above is about the address).
    ra.events.splice(0);
    sb.send(data, addr(sa).port, '127.0.0.1');
    const fromPeer = await ra.next('data');
    expect(fromPeer.from).toEqual(addr(sb));
    expect(fromPeer.isRemote).toBe(true);
  });

  it('refuses data from anyone before the path is up', async () => {
    const sa = await udp();
    const silent = await udp();
    const ra = new Recorder();
    const a = new PunchedPath({
      socket: sa,
      key: await key(),
      role: 'sender',
      remote: addr(silent),
      events: ra.sink,
      punchTimeoutMs: WAIT_MS * 2,
    });
    paths.push(a);
    route(sa, () => a, ra);
    silent.send(new Uint8Array([PacketType.data, 1, 2, 3]), addr(sa).port, '127.0.0.1');
    expect((await ra.next('data')).isRemote).toBe(false);
    expect(a.remote).toBeUndefined();
  });

  it('never adopts a peer whose key comes from another passphrase, session or stream', async () => {
    for (const other of [
      await key('another-passphrase-entirely'),
      await key(PASSPHRASE, 'other-session'),
      await key(PASSPHRASE, SESSION, 'cam-tight'),
    ]) {
      const { a, b, ra, rb } = await pair([await key(), other], 600);
      await Promise.all([ra.next('failed'), rb.next('failed')]);
      expect(ra.events.some((e) => e.type === 'up')).toBe(false);
      expect(rb.events.some((e) => e.type === 'up')).toBe(false);
      expect(a.remote).toBeUndefined();
      expect(b.remote).toBeUndefined();
      a.close();
      b.close();
    }
  }, 15_000);

  it('calls failed after punchTimeoutMs when the remote never answers', async () => {
    const sa = await udp();
    const silent = await udp();
    let probes = 0;
    silent.on('message', (msg) => {
      if (packetType(msg) === 'probe') probes++;
    });
    const ra = new Recorder();
    const a = new PunchedPath({
      socket: sa,
      key: await key(),
      role: 'receiver',
      remote: addr(silent),
      events: ra.sink,
      punchTimeoutMs: 600,
    });
    paths.push(a);
    route(sa, () => a, ra);
    const failed = await ra.next('failed');
    expect(failed.seconds).toBe(0.6);
    expect(a.remote).toBeUndefined();
    expect(probes).toBeGreaterThan(0); // it did try the candidate
    expect(ra.events.filter((e) => e.type === 'failed')).toHaveLength(1);
  });
});

/** A path whose remote is a socket the test drives by hand; resolves with its first probe. */
async function lonePath(role: 'sender' | 'receiver' = 'sender') {
  const sa = await udp();
  const remote = await udp();
  const k = await key();
  const rec = new Recorder();
  const firstProbe = new Promise<Uint8Array>((resolve) => {
    remote.on('message', (msg) => {
      if (packetType(msg) === 'probe') resolve(new Uint8Array(msg));
    });
  });
  const path = new PunchedPath({
    socket: sa,
    key: k,
    role,
    remote: addr(remote),
    events: rec.sink,
    punchTimeoutMs: WAIT_MS * 2,
  });
  paths.push(path);
  route(sa, () => path, rec);
  const probe = await firstProbe;
  const verified = await verifyProbe(k, probe, role);
  if (verified === undefined) throw new Error('the path sent a probe its own key refuses');
  const other: 'sender' | 'receiver' = role === 'sender' ? 'receiver' : 'sender';
  const ack = await encodeProbe(k, 'probeAck', other, verified.nonce);
  return { path, rec, remote, ack, k, other };
}

describe('PunchedPath acks', () => {
  it('comes up on an authenticated ack of its own probe, from where it sent it', async () => {
    const { path, rec, remote, ack } = await lonePath();
    await path.onProbe(ack, addr(remote));
    expect(rec.events).toEqual([{ type: 'up', remote: addr(remote), via: 'public' }]);
    expect(path.remote).toEqual(addr(remote));
  });

  it('ignores an ack for a nonce it never sent', async () => {
    const { path, rec, remote, k, other } = await lonePath();
    const forged = await encodeProbe(k, 'probeAck', other, new Uint8Array(8).fill(0x5a));
    await path.onProbe(forged, addr(remote));
    expect(rec.events).toEqual([]);
    expect(path.remote).toBeUndefined();
  });

  it('ignores an ack of its probe that comes from another address', async () => {
    const { path, rec, remote, ack } = await lonePath('receiver');
    const elsewhere = await udp();
    await path.onProbe(ack, addr(elsewhere));
    expect(rec.events).toEqual([]);
    expect(path.remote).toBeUndefined();
    // The same ack from the right address does bring it up.
    await path.onProbe(ack, addr(remote));
    expect(rec.events.map((e) => e.type)).toEqual(['up']);
  });

  it('ignores its own probe reflected back at it', async () => {
    const sa = await udp();
    const rec = new Recorder();
    // Its only candidate is its own address: every probe comes straight back.
    let path: PunchedPath | undefined = undefined;
    const reflected = new Promise<void>((resolve) => {
      sa.on('message', (msg) => {
        if (packetType(msg) === 'probe') resolve();
      });
    });
    route(sa, () => path, rec);
    path = new PunchedPath({
      socket: sa,
      key: await key(),
      role: 'sender',
      remote: addr(sa),
      events: rec.sink,
      punchTimeoutMs: 600,
    });
    paths.push(path);
    await reflected;
    await rec.next('failed');
    expect(rec.events.map((e) => e.type)).toEqual(['failed']);
    expect(path.remote).toBeUndefined();
  });
});

describe('PunchedPath.close', () => {
  it('clears its timers: nothing fires after close', async () => {
    const sa = await udp();
    const silent = await udp();
    const k = await key();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });

    // Control: the same setup, left open, fails on the fake clock.
    const open = new Recorder();
    const left = new PunchedPath({
      socket: sa,
      key: k,
      role: 'sender',
      remote: addr(silent),
      events: open.sink,
      punchTimeoutMs: 600,
    });
    paths.push(left);
    vi.advanceTimersByTime(600);
    expect(open.events).toEqual([{ type: 'failed', seconds: 0.6 }]);
    left.close();
    expect(vi.getTimerCount()).toBe(0);

    const closed = new Recorder();
    const path = new PunchedPath({
      socket: sa,
      key: k,
      role: 'sender',
      remote: addr(silent),
      events: closed.sink,
      punchTimeoutMs: 600,
    });
    paths.push(path);
    expect(vi.getTimerCount()).toBeGreaterThan(0);
    path.close();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(60_000);
    expect(closed.events).toEqual([]);
    expect(open.events).toHaveLength(1);
  });

  it('stops answering probes and emits nothing once closed', async () => {
    const { a, b, sa, ra, rb } = await pair();
    await Promise.all([ra.next('up'), rb.next('up')]);
    const k = await key();
    const stranger = await udp();
    const from = addr(stranger);
    const sends = countSends(sa, from.port);
    // Open: a valid probe from a new address is answered with an ack, and probed back (a
    // probe alone proves nothing; only an ack to our own nonce does).
    await a.onProbe(await encodeProbe(k, 'probe', 'receiver', new Uint8Array(8).fill(1)), from);
    expect(sends.count()).toBe(2);
    expect(a.isRemote(from)).toBe(false);
    a.close();
    b.close();
    const events = ra.events.length + rb.events.length;
    // Closed: the same kind of probe gets no answer and confirms nothing.
    await a.onProbe(await encodeProbe(k, 'probe', 'receiver', new Uint8Array(8).fill(2)), from);
    expect(sends.count()).toBe(2);
    expect(ra.events.length + rb.events.length).toBe(events);
  });

  it('does not come up on a valid ack that arrives after close()', async () => {
    const { path, rec, remote, ack } = await lonePath();
    path.close();
    await path.onProbe(ack, addr(remote));
    expect(rec.events).toEqual([]);
    expect(path.remote).toBeUndefined();
  });
});
