/**
 * A live path survives a repeated `peer` (Punch restarted, or re-registered the agent) even when
 * it came up on an address no `peer` names: one the other side's own probes revealed, as when
 * its NAT maps differently towards us than towards STUN. Two real pairings on loopback; the
 * receiver is told the sender is somewhere nothing answers, so its path can only come up on the
 * sender's real socket, learned from the sender's probes.
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import type { PeerMessage } from './link.js';
import type { Addr } from './media-path.js';
import { Pairing } from './pairing.js';

const PASSPHRASE = 'AbCdEfGhIjKlMnOpQrStUvWxYz012345';
const open: { socket: Socket; pairing: Pairing }[] = [];

async function side(role: 'sender' | 'receiver'): Promise<{
  socket: Socket;
  pairing: Pairing;
  ups: Addr[];
}> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const ups: Addr[] = [];
  const pairing = new Pairing({
    socket,
    session: 'show',
    stream: 'cam-1',
    role,
    punchTimeoutMs: 10_000,
    events: {
      up: (_kind, remote) => ups.push(remote),
      down: () => undefined,
      failed: () => undefined,
      data: () => undefined,
      relayed: () => undefined,
      relayProblem: () => undefined,
    },
  });
  socket.on('message', (msg, rinfo) => {
    pairing.onDatagram(msg, { ip: rinfo.address, port: rinfo.port });
  });
  pairing.configure('auto', null);
  open.push({ socket, pairing });
  return { socket, pairing, ups };
}

const peer = (
  role: 'sender' | 'receiver',
  remote: PeerMessage['remote'],
  passphrase = PASSPHRASE,
): PeerMessage => ({
  type: 'peer',
  stream: 'cam-1',
  role,
  remote,
  passphrase,
  pbkeylen: 32,
  latencyMs: 120,
});

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`waited 10 s for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

afterEach(() => {
  for (const { socket, pairing } of open.splice(0)) {
    pairing.close();
    socket.close();
  }
});

describe('Pairing.holds', () => {
  it('keeps a path up on an address learned from the other side, for the same peer again', async () => {
    const [s, r] = await Promise.all([side('sender'), side('receiver')]);
    const sAddr: Addr = { ip: '127.0.0.1', port: s.socket.address().port };
    const rAddr: Addr = { ip: '127.0.0.1', port: r.socket.address().port };
    const dark: Addr = { ip: '127.0.0.1', port: 9 }; // where the receiver thinks the sender is
    const toReceiver = peer('receiver', dark);
    await s.pairing.open(peer('sender', rAddr));
    await r.pairing.open(toReceiver);
    await until(() => r.ups.length > 0, 'the receiver path up');
    expect(r.ups[0]).toEqual(sAddr);

    expect(r.pairing.holds(peer('receiver', dark))).toBe(true);
    // Another other side, another passphrase, or a relayed address now named: redone.
    expect(r.pairing.holds(peer('receiver', { ip: '127.0.0.1', port: 11 }))).toBe(false);
    expect(r.pairing.holds(peer('receiver', dark, 'ZyXwVuTsRqPoNmLkJiHgFeDcBa543210'))).toBe(false);
    expect(
      r.pairing.holds(peer('receiver', { ...dark, relay: { ip: '127.0.0.1', port: 13 } })),
    ).toBe(false);
  });

  it('holds nothing while no path is up', async () => {
    const r = await side('receiver');
    const toReceiver = peer('receiver', { ip: '127.0.0.1', port: 9 });
    await r.pairing.open(toReceiver);
    expect(r.pairing.holds(toReceiver)).toBe(false);
  });
});
