/**
 * The pairing's search for a way through, on the clock: a search the other side walked away
 * from still fails at its deadline (both agents say "no direct path", whichever exits first).
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PeerMessage } from './link.js';
import { Pairing } from './pairing.js';

const TIMEOUT_MS = 6000;

/** Another agent that never answers: a socket that drops everything. */
let silent: Socket;
let socket: Socket;
let failures: number[];
let pairing: Pairing;

const peer = (): PeerMessage => ({
  type: 'peer',
  stream: 'cam-1',
  role: 'sender',
  remote: { ip: '127.0.0.1', port: (silent.address() as { port: number }).port },
  passphrase: 'AbCdEfGhIjKlMnOpQrStUvWxYz012345',
  pbkeylen: 32,
  latencyMs: 120,
});

const bound = (s: Socket): Promise<void> =>
  new Promise((resolve) => {
    s.bind(0, '127.0.0.1', resolve);
  });

beforeEach(async () => {
  silent = createSocket('udp4');
  socket = createSocket('udp4');
  await Promise.all([bound(silent), bound(socket)]);
  failures = [];
  // Timers only: the sockets and WebCrypto stay real.
  vi.useFakeTimers({
    toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'],
  });
  pairing = new Pairing({
    socket,
    session: 'show',
    stream: 'cam-1',
    role: 'receiver',
    punchTimeoutMs: TIMEOUT_MS,
    events: {
      up: () => undefined,
      down: () => undefined,
      failed: (seconds) => failures.push(seconds),
      data: () => undefined,
      relayed: () => undefined,
      relayProblem: () => undefined,
    },
  });
});

afterEach(() => {
  pairing.drop();
  vi.useRealTimers();
  silent.close();
  socket.close();
});

describe('Pairing', () => {
  it('fails a search at its deadline, as the path itself does', async () => {
    expect(await pairing.open(peer())).toBe(true);
    vi.advanceTimersByTime(TIMEOUT_MS - 1);
    expect(failures).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(failures).toEqual([TIMEOUT_MS / 1000]);
  });

  it('a search the other side left still fails at the same deadline', async () => {
    await pairing.open(peer());
    vi.advanceTimersByTime(TIMEOUT_MS / 2);
    pairing.leave();
    expect(pairing.path).toBeUndefined();
    vi.advanceTimersByTime(TIMEOUT_MS / 2 - 1);
    expect(failures).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(failures).toEqual([TIMEOUT_MS / 1000]);
  });

  it('the other side coming back starts a new search with its own full deadline', async () => {
    await pairing.open(peer());
    vi.advanceTimersByTime(TIMEOUT_MS / 2);
    pairing.leave();
    await pairing.open(peer());
    vi.advanceTimersByTime(TIMEOUT_MS - 1);
    expect(failures).toEqual([]); // the first search's deadline passed: it was forgotten
    vi.advanceTimersByTime(1);
    expect(failures).toEqual([TIMEOUT_MS / 1000]);
  });

  it('Punch going away after the other side left: the agent waits instead of failing', async () => {
    await pairing.open(peer());
    pairing.leave();
    pairing.linkLost();
    vi.advanceTimersByTime(10 * TIMEOUT_MS);
    expect(failures).toEqual([]);
  });

  it('Punch going away during a live search does not cancel that search', async () => {
    await pairing.open(peer());
    pairing.linkLost();
    vi.advanceTimersByTime(TIMEOUT_MS);
    expect(failures).toEqual([TIMEOUT_MS / 1000]);
  });

  it('a stopped agent (drop) fails nothing later', async () => {
    await pairing.open(peer());
    pairing.leave();
    pairing.drop();
    vi.advanceTimersByTime(10 * TIMEOUT_MS);
    expect(failures).toEqual([]);
  });
});
