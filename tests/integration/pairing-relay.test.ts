/**
 * The agent's pairing falls back to the relay (DESIGN.md "The relay", `auto`): two `Pairing`s on
 * loopback, each told the other side is at an address where nothing answers (as two symmetric
 * NATs look to each other), with real TURN credentials for Punch's own relay. This test plays
 * the room: what one side's pairing reports as its relayed address reaches the other in a fresh
 * `peer`, as Punch does. Both must relay within a few seconds, carry data both ways, and keep
 * their paths when the same `peer` comes again. The NAT lab (tests/e2e/relay.test.ts) does the
 * same with the whole agent, real NATs and SRT.
 */
import { createHmac } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RelayCredentials } from '@punch/core';
import type { PeerMessage } from '../../packages/cli/src/peer/link.js';
import type { Addr, PathKind } from '../../packages/cli/src/peer/media-path.js';
import { Pairing } from '../../packages/cli/src/peer/pairing.js';
import { startHost, type Host } from '../conformance/host.js';

const SECRET = 'pairing-relay-secret-0123456789';
let host: Host;

beforeAll(async () => {
  // Loopback peers: the relay must be allowed to reach them (a LAN relay, as in the lab).
  host = await startHost({ extraArgs: ['--relay-allow-private', '--turn-secret', SECRET] });
});
afterAll(async () => {
  await host.stop();
});

function credentials(id: string): RelayCredentials {
  const expiresAt = Math.floor(Date.now() / 1000) + 600;
  const username = `${expiresAt}:${id}`;
  return {
    urls: [`turn:127.0.0.1:${host.stunPort}?transport=udp`],
    username,
    credential: createHmac('sha1', SECRET).update(username).digest('base64'),
    expiresAt,
  };
}

interface Side {
  readonly socket: Socket;
  readonly pairing: Pairing;
  readonly ups: { kind: PathKind; remote: Addr }[];
  readonly data: Buffer[];
  readonly relayed: Promise<Addr>;
  readonly failures: string[];
}

async function side(role: 'sender' | 'receiver'): Promise<Side> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const ups: Side['ups'] = [];
  const data: Buffer[] = [];
  const failures: string[] = [];
  let relayedResolve!: (a: Addr) => void;
  const relayed = new Promise<Addr>((resolve) => {
    relayedResolve = resolve;
  });
  const pairing = new Pairing({
    socket,
    session: 'show',
    stream: 'cam-1',
    role,
    punchTimeoutMs: 20_000,
    events: {
      up: (kind, remote) => ups.push({ kind, remote }),
      down: () => undefined,
      failed: (seconds, relay) => failures.push(`${seconds} ${relay ?? ''}`),
      data: (packet) => data.push(Buffer.from(packet)),
      relayed: (address) => {
        relayedResolve(address);
      },
      relayProblem: (message) => failures.push(message),
    },
  });
  socket.on('message', (msg, rinfo) => {
    pairing.onDatagram(msg, { ip: rinfo.address, port: rinfo.port });
  });
  // A project-style id: the relay's general rule (any address, loopback allowed here), since no
  // room hands this test's addresses out.
  pairing.configure('auto', credentials(`pairing-${role}`));
  return { socket, pairing, ups, data, relayed, failures };
}

/** A `peer` message naming `remote` (an address nothing answers at, and maybe a relayed one). */
const peer = (role: 'sender' | 'receiver', remote: PeerMessage['remote']): PeerMessage => ({
  type: 'peer',
  stream: 'cam-1',
  role,
  remote,
  passphrase: 'AbCdEfGhIjKlMnOpQrStUvWxYz012345',
  pbkeylen: 32,
  latencyMs: 120,
});

async function until(check: () => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`waited ${ms} ms for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('pairing without a direct path', () => {
  it('both sides relay by themselves, carry data both ways, and keep the path on a repeated peer', async () => {
    const [s, r] = await Promise.all([side('sender'), side('receiver')]);
    // Nothing listens there: a direct path can never open.
    const dark = (port: number): Addr => ({ ip: '127.0.0.1', port });
    const silentS = dark(9); // discard port, closed
    const silentR = dark(7);
    try {
      await s.pairing.open(peer('sender', silentR));
      await r.pairing.open(peer('receiver', silentS));
      // After a few seconds without a direct path, each allocates on the relay ...
      const [sRelay, rRelay] = await Promise.all([s.relayed, r.relayed]);
      expect(sRelay.port).not.toBe(rRelay.port);
      // ... and Punch tells the other side (here: the test plays the room).
      await s.pairing.open(peer('sender', { ...silentR, relay: rRelay }));
      await r.pairing.open(peer('receiver', { ...silentS, relay: sRelay }));
      // Up now, on the paths of these last `peer`s (one may have come up a moment earlier,
      // on the path the repeated `peer` then replaced).
      await until(
        () => s.pairing.path?.up === true && r.pairing.path?.up === true,
        'both paths up',
      );
      // Each reaches the other through a relay: at its relayed address, or at its socket when
      // the other's probes to our relayed address (straight from its socket, the direct path's
      // last candidate) arrived first. Whichever: a relay path, and to the other side.
      const at = (x: Side): Addr => ({ ip: '127.0.0.1', port: x.socket.address().port });
      expect([rRelay, at(r)]).toContainEqual(s.ups[0]?.remote);
      expect([sRelay, at(s)]).toContainEqual(r.ups[0]?.remote);
      expect([s.ups[0]?.kind, r.ups[0]?.kind]).toEqual(['relay', 'relay']);
      expect(s.pairing.kind).toBe('relay');

      expect(s.pairing.path?.send(Buffer.from('srt from the sender'))).toBe(true);
      expect(r.pairing.path?.send(Buffer.from('srt from the receiver'))).toBe(true);
      await until(() => s.data.length > 0 && r.data.length > 0, 'data both ways');
      expect(r.data[0]?.toString()).toBe('srt from the sender');
      expect(s.data[0]?.toString()).toBe('srt from the receiver');

      // Punch sends the same pair again (it restarted, or re-registered us): nothing is redone.
      expect(s.pairing.holds(peer('sender', { ...silentR, relay: rRelay }))).toBe(true);
      expect(r.pairing.holds(peer('receiver', { ...silentS, relay: sRelay }))).toBe(true);
      expect(s.failures, s.failures.join('; ')).toEqual([]);
      expect(r.failures).toEqual([]);
    } finally {
      s.pairing.close();
      r.pairing.close();
      s.socket.close();
      r.socket.close();
    }
  });
});
