import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  encodeBindingSuccess,
  parseBindingRequest,
  type BindingRequest,
  type StunAddress,
} from '@punch/core';
import { StunProbe, type StunAnswer, type StunTarget } from './stun-probe.js';

/** Upper bound for any wait: generous, and never asserted on as a duration. */
const WAIT_MS = 4000;
const A: StunAddress = { ip: '203.0.113.7', port: 40000, family: 4 };
const B: StunAddress = { ip: '203.0.113.7', port: 40001, family: 4 };

/** Values pushed as they come, awaited one at a time in order, each wait bounded. */
class Queue<T> {
  readonly #items: T[] = [];
  readonly #waiting: ((v: T) => void)[] = [];

  /** Values pushed and not yet taken. */
  get pending(): number {
    return this.#items.length;
  }

  push(v: T): void {
    const w = this.#waiting.shift();
    if (w === undefined) this.#items.push(v);
    else w(v);
  }

  next(what: string): Promise<T> {
    const v = this.#items.shift();
    if (v !== undefined) return Promise.resolve(v);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`no ${what} within ${WAIT_MS} ms`));
      }, WAIT_MS);
      this.#waiting.push((x) => {
        clearTimeout(timer);
        resolve(x);
      });
    });
  }
}

const sockets: Socket[] = [];
const probes: StunProbe[] = [];

afterEach(() => {
  vi.useRealTimers();
  for (const p of probes.splice(0)) p.stop();
  for (const s of sockets.splice(0)) s.close();
});

async function udp(): Promise<Socket> {
  const s = createSocket('udp4');
  sockets.push(s);
  await new Promise<void>((resolve) => {
    s.bind(0, '127.0.0.1', resolve);
  });
  return s;
}

/**
 * A STUN server on loopback, answering with core's codec; the test says what each request
 * gets (an address, or nothing).
 */
async function stunServer() {
  const socket = await udp();
  const requests = new Queue<{ request: BindingRequest; answer: (mapped: StunAddress) => void }>();
  socket.on('message', (msg, rinfo) => {
    const request = parseBindingRequest(msg);
    if (request === undefined) return;
    requests.push({
      request,
      answer: (mapped) => {
        socket.send(encodeBindingSuccess(request.transactionId, mapped), rinfo.port, rinfo.address);
      },
    });
  });
  return { port: socket.address().port, requests };
}

/** The agent's side: a media socket whose datagrams go to the probe, as the agent routes them. */
async function probe(options: { retryMs?: number; refreshMs?: number } = {}) {
  const media = await udp();
  // Counts what the probe sends, at the moment it sends it.
  let sent = 0;
  const send = media.send.bind(media) as (...args: unknown[]) => void;
  (media as unknown as { send: (...args: unknown[]) => void }).send = (...args: unknown[]) => {
    sent++;
    send(...args);
  };
  const answers = new Queue<StunAnswer>();
  const offered = new Queue<boolean>();
  const p = new StunProbe({
    socket: media,
    onAnswer: (a) => {
      answers.push(a);
    },
    ...options,
  });
  probes.push(p);
  media.on('message', (msg) => {
    offered.push(p.onDatagram(msg));
  });
  return { media, probe: p, answers, offered, sent: () => sent };
}

describe('StunProbe', () => {
  it("asks Punch's STUN with the USERNAME from registered.bind and reports the mapping", async () => {
    const server = await stunServer();
    const { probe: p, answers, offered } = await probe();
    const target: StunTarget = { host: '127.0.0.1', port: server.port, username: 'nab-floor:u1' };
    p.start(target);
    const { request, answer } = await server.requests.next('a Binding request');
    expect(request.username).toBe('nab-floor:u1');
    answer(A);
    expect(await offered.next('the answer')).toBe(true);
    expect(await answers.next('a report')).toEqual({
      mapped: { ip: A.ip, port: A.port },
      moved: false,
      target,
    });
    expect(p.mapped).toEqual({ ip: A.ip, port: A.port });
  });

  it('asks an external STUN server (--stun) without a USERNAME', async () => {
    const server = await stunServer();
    const { probe: p, answers } = await probe();
    p.start({ host: '127.0.0.1', port: server.port });
    const { request, answer } = await server.requests.next('a Binding request');
    expect(request.username).toBeUndefined();
    answer(A);
    expect((await answers.next('a report')).target.username).toBeUndefined();
  });

  it('asks again every 500 ms until answered, each time with a fresh transaction id', async () => {
    const server = await stunServer();
    const { probe: p, answers, sent } = await probe();
    // Fake timers drive the retries; the datagrams are real.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    p.start({ host: '127.0.0.1', port: server.port, username: 'u' });
    const first = await server.requests.next('a request');
    vi.advanceTimersByTime(499);
    expect(sent()).toBe(1);
    vi.advanceTimersByTime(1);
    expect(sent()).toBe(2);
    const second = await server.requests.next('a retry');
    vi.advanceTimersByTime(500);
    const third = await server.requests.next('another retry');
    const ids = [first, second, third].map((r) =>
      Buffer.from(r.request.transactionId).toString('hex'),
    );
    expect(new Set(ids).size).toBe(3);
    third.answer(A);
    expect((await answers.next('a report')).mapped).toEqual({ ip: A.ip, port: A.port });
  });

  it('takes only the answer to its latest request', async () => {
    const server = await stunServer();
    const { probe: p, answers, offered } = await probe();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    p.start({ host: '127.0.0.1', port: server.port, username: 'u' });
    const stale = await server.requests.next('a request');
    vi.advanceTimersByTime(500);
    const latest = await server.requests.next('a retry');
    stale.answer(B);
    expect(await offered.next('the stale answer')).toBe(false);
    expect(p.onDatagram(encodeBindingSuccess(randomBytes(12), B))).toBe(false); // a stranger's
    expect(p.onDatagram(new Uint8Array([0xc5, 1, 2, 3]))).toBe(false); // not STUN at all
    expect(p.mapped).toBeUndefined();
    expect(answers.pending).toBe(0);
    latest.answer(A);
    expect(await offered.next('the latest answer')).toBe(true);
    expect(await answers.next('a report')).toMatchObject({ mapped: { ip: A.ip, port: A.port } });
  });

  it('once answered, refreshes every 10 s and reports only a mapping that moved', async () => {
    const server = await stunServer();
    const { probe: p, answers, offered, sent } = await probe();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const target = { host: '127.0.0.1', port: server.port, username: 'u' };
    p.start(target);
    (await server.requests.next('a request')).answer(A);
    expect(await answers.next('the first report')).toMatchObject({ moved: false });
    vi.advanceTimersByTime(9_999);
    expect(sent()).toBe(1); // no fast retry once answered
    vi.advanceTimersByTime(1);
    expect(sent()).toBe(2);
    (await server.requests.next('a refresh')).answer(A); // the same mapping
    await offered.next('the first answer');
    expect(await offered.next('the unchanged answer')).toBe(true);
    expect(answers.pending).toBe(0);
    vi.advanceTimersByTime(10_000);
    (await server.requests.next('another refresh')).answer(B); // the NAT moved it
    expect(await answers.next('the second report')).toEqual({
      mapped: { ip: B.ip, port: B.port },
      moved: true,
      target,
    });
  });

  it('start() learns the mapping afresh (a re-registration)', async () => {
    const server = await stunServer();
    const { probe: p, answers } = await probe();
    p.start({ host: '127.0.0.1', port: server.port, username: 'first' });
    (await server.requests.next('a request')).answer(A);
    await answers.next('the first report');
    p.start({ host: '127.0.0.1', port: server.port, username: 'second' });
    expect(p.mapped).toBeUndefined();
    const again = await server.requests.next('the new registration');
    expect(again.request.username).toBe('second');
    again.answer(A);
    expect(await answers.next('a report')).toMatchObject({ moved: false });
  });

  it('schedules nothing once stopped', async () => {
    const media = await udp();
    const server = await udp();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const p = new StunProbe({ socket: media, onAnswer: () => undefined });
    expect(vi.getTimerCount()).toBe(0);
    p.start({ host: '127.0.0.1', port: server.address().port });
    expect(vi.getTimerCount()).toBe(1);
    p.stop();
    expect(vi.getTimerCount()).toBe(0);
  });
});
