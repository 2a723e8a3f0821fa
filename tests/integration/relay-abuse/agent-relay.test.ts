/**
 * The agent's relay side (`punch peer`'s Pairing and TURN client) against a hostile TURN server
 * and hostile `peer` messages: no busy loops, no piled-up timers, no flood of candidates. The
 * TURN server here is scripted on purpose: it is the attacker, answering what no real server
 * would (437 to every CreatePermission, a LIFETIME past what a timer holds).
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  STUN_METHOD,
  decodeServerMessage,
  encodeMessage,
  parseMessage,
  type TurnAttribute,
} from '@punch/core';
import type { PeerMessage } from '../../../packages/cli/src/peer/link.js';
import { Pairing } from '../../../packages/cli/src/peer/pairing.js';

/** A scripted TURN server on loopback: counts requests by method and answers as told. */
class HostileTurn {
  readonly socket = createSocket('udp4');
  readonly seen = new Map<number, number>();
  answer: (method: number) => { code?: number; attributes?: TurnAttribute[] } = () => ({});

  async open(): Promise<number> {
    this.socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
      const parsed = parseMessage(new Uint8Array(msg));
      if (!parsed.ok || parsed.message.class !== 'request') return;
      const { method, transactionId } = parsed.message;
      this.seen.set(method, (this.seen.get(method) ?? 0) + 1);
      const { code, attributes = [] } = this.answer(method);
      const reply = encodeMessage({
        method,
        class: code === undefined ? 'success' : 'error',
        transactionId,
        attributes:
          code === undefined ? attributes : [{ type: 'ERROR-CODE', code, reason: 'hostile' }],
      });
      this.socket.send(reply, rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve) => this.socket.bind(0, '127.0.0.1', resolve));
    return this.socket.address().port;
  }

  count(method: number): number {
    return this.seen.get(method) ?? 0;
  }
}

const RELAYED: TurnAttribute = {
  type: 'XOR-RELAYED-ADDRESS',
  address: { ip: '127.0.0.1', port: 40000, family: 4 },
};

let turn: HostileTurn;
let socket: Socket;
let pairing: Pairing;
const problems: string[] = [];

const peer = (relayPort: number): PeerMessage => ({
  type: 'peer',
  stream: 'cam-1',
  role: 'sender',
  remote: {
    ip: '127.0.0.1',
    port: relayPort,
    relay: { ip: '127.0.0.1', port: relayPort },
  },
  passphrase: 'AbCdEfGhIjKlMnOpQrStUvWxYz012345',
  pbkeylen: 32,
  latencyMs: 120,
});

/** Waits (real time, bounded) until `done()` or `ms` passed. */
async function until(done: () => boolean, ms: number): Promise<void> {
  for (let waited = 0; waited < ms && !done(); waited += 20) await sleep(20);
}

beforeEach(async () => {
  turn = new HostileTurn();
  const port = await turn.open();
  socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  problems.length = 0;
  pairing = new Pairing({
    socket,
    session: 'show',
    stream: 'cam-1',
    role: 'receiver',
    punchTimeoutMs: 60_000,
    events: {
      up: () => undefined,
      down: () => undefined,
      failed: () => undefined,
      data: () => undefined,
      relayed: () => undefined,
      relayProblem: (m) => problems.push(m),
    },
  });
  socket.on('message', (msg, rinfo) => {
    pairing.onDatagram(msg, { ip: rinfo.address, port: rinfo.port });
  });
  pairing.configure('always', {
    urls: [`turn:127.0.0.1:${port}`],
    username: '9999999999:show.x',
    credential: 'x',
    expiresAt: 9_999_999_999,
  });
});

afterEach(() => {
  pairing.close();
  vi.useRealTimers();
  socket.close();
  turn.socket.close();
});

describe('a TURN server that answers 437 to every CreatePermission', () => {
  it('does not make the agent allocate again and again with no pause', async () => {
    turn.answer = (method) =>
      method === STUN_METHOD.allocate ? { attributes: [RELAYED] } : { code: 437 };
    // Frozen clock: a re-allocation scheduled with a backoff timer cannot run; only an
    // untimed loop keeps allocating.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    await pairing.open(peer(40001));
    await until(() => turn.count(STUN_METHOD.allocate) >= 50, 1500);
    expect(turn.count(STUN_METHOD.allocate)).toBeLessThan(5);
  });
});

describe('a peer whose relayed address keeps changing', () => {
  it('leaves no refresh timers behind for the addresses it no longer uses', async () => {
    turn.answer = (method) => (method === STUN_METHOD.allocate ? { attributes: [RELAYED] } : {});
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const CHANGES = 30;
    for (let i = 0; i < CHANGES; i++) {
      await pairing.open(peer(41000 + i));
      const want = i + 1;
      await until(() => turn.count(STUN_METHOD.channelBind) >= want, 1000);
    }
    const before = turn.count(STUN_METHOD.createPermission);
    // One permission refresh period (4 minutes): only the peer in use now is worth refreshing.
    vi.advanceTimersByTime(240_000);
    await until(() => turn.count(STUN_METHOD.createPermission) - before >= CHANGES, 1000);
    expect(turn.count(STUN_METHOD.createPermission) - before).toBeLessThanOrEqual(2);
  });
});

describe('a hostile Punch', () => {
  it('cannot hand the agent more LAN candidates than Punch itself accepts from a peer (8)', () => {
    // Every candidate is probed every 200 ms until the punch timeout (path.ts): fifteen hundred
    // third-party addresses in one frame turn the agent into a 7,500 datagram/s flooder (the 64 KiB frame cap still lets ~1,800 through).
    const local = Array.from({ length: 1_500 }, (_, i) => ({
      ip: `198.51.${Math.floor(i / 250)}.${(i % 250) + 1}`,
      port: 9,
    }));
    const frame = JSON.stringify({ ...peer(40001), remote: { ip: '203.0.113.9', port: 9, local } });
    const m = decodeServerMessage(frame);
    expect(m?.type === 'peer' ? (m.remote.local?.length ?? 0) : 0).toBeLessThanOrEqual(8);
  });
});

describe('a TURN server that grants the longest LIFETIME the attribute can say', () => {
  it('does not make the agent refresh every millisecond (setInterval past 2^31-1 ms)', async () => {
    // (0xffffffff - 60) s in ms overflows Node's timer range: Node runs the interval every 1 ms.
    turn.answer = (method) =>
      method === STUN_METHOD.allocate
        ? { attributes: [RELAYED, { type: 'LIFETIME', seconds: 0xffffffff }] }
        : {};
    await pairing.open(peer(40001));
    await until(() => turn.count(STUN_METHOD.refresh) >= 100, 1500);
    expect(turn.count(STUN_METHOD.refresh)).toBe(0);
  });
});
