/**
 * The agent's TURN client against Punch's own relay when the other side's relayed address
 * changes (it allocated again after a silent relay path, or a hostile peer re-claims at will).
 * Punch's relay lets session credentials reach only the addresses handed *now*: the refresh of
 * the old permission is refused (403), and that must not cost the agent its allocation.
 */
import { createSocket } from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { findAttribute } from '@punch/core';
import { TurnClient, type TurnClientError } from '../../../packages/cli/src/peer/turn-client.js';
import { TurnTestClient } from '../turn-test-client.js';
import { startHost, type Host } from '../../conformance/host.js';
import {
  WsClient,
  createSession,
  peerToken,
  type Created,
  type Msg,
} from '../../conformance/client.js';

interface Relay {
  username: string;
  credential: string;
}

let host: Host;
beforeAll(async () => {
  host = await startHost();
});
afterAll(async () => {
  await host.stop();
});

async function agent(
  s: Created,
  role: 'sender' | 'receiver',
): Promise<{ ws: WsClient; relay: Relay }> {
  const ws = await WsClient.connect(host.url, s.session, await peerToken(host.url, s, 'cam-1'));
  ws.send({ type: 'register', stream: 'cam-1', role });
  const registered: Msg = await ws.next('registered');
  return { ws, relay: registered.relay as Relay };
}

describe("the other side's relayed address changes", () => {
  it('does not cost this agent its allocation at the next permission refresh', async () => {
    // The client's refresh intervals on a clock the test moves (retransmissions stay real).
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const server = { ip: '127.0.0.1', port: host.stunPort ?? 0 };
    const session = await createSession(host.url, { streams: ['cam-1'], relay: 'always' } as never);
    const sender = await agent(session, 'sender');
    const receiver = await agent(session, 'receiver');
    const media = createSocket('udp4');
    await new Promise<void>((resolve) => media.bind(0, '127.0.0.1', resolve));
    const lost: TurnClientError[] = [];
    const client = new TurnClient({
      transport: 'udp',
      socket: media,
      server,
      username: receiver.relay.username,
      password: receiver.relay.credential,
      onData: () => undefined,
      onLost: (err) => lost.push(err),
      rtoMs: 250,
    });
    media.on('message', (msg, rinfo) => {
      client.onDatagram(msg, { ip: rinfo.address, port: rinfo.port });
    });
    const other = [
      await TurnTestClient.open({ host: server.ip, port: server.port }),
      await TurnTestClient.open({ host: server.ip, port: server.port }),
    ];
    try {
      const { relayed } = await client.allocate();
      receiver.ws.send({ type: 'endpoint', stream: 'cam-1', role: 'receiver', relay: relayed });
      // The sender's first allocation, handed to the receiver, permitted by it.
      const first = await other[0]!.allocate(sender.relay.username, sender.relay.credential);
      const ra1 = findAttribute(first.attributes, 'XOR-RELAYED-ADDRESS')!.address;
      sender.ws.send({
        type: 'endpoint',
        stream: 'cam-1',
        role: 'sender',
        relay: { ip: ra1.ip, port: ra1.port },
      });
      await receiver.ws.next('peer');
      await client.permit([{ ip: ra1.ip, port: ra1.port }]);
      // The sender's relay path went silent: its allocation goes, a new one is told to Punch.
      await other[0]!.request(0x004, [{ type: 'LIFETIME', seconds: 0 }]);
      other[0]!.close();
      const second = await other[1]!.allocate(sender.relay.username, sender.relay.credential);
      const ra2 = findAttribute(second.attributes, 'XOR-RELAYED-ADDRESS')!.address;
      sender.ws.send({
        type: 'endpoint',
        stream: 'cam-1',
        role: 'sender',
        relay: { ip: ra2.ip, port: ra2.port },
      });
      await receiver.ws.next(
        'peer',
        (m) => (m.remote as { relay?: { port: number } }).relay?.port === ra2.port,
      );
      await client.permit([{ ip: ra2.ip, port: ra2.port }]);
      // Four minutes on (the permission refresh period): both permissions are refreshed.
      vi.advanceTimersByTime(240_000);
      vi.useRealTimers();
      for (let waited = 0; waited < 2000 && lost.length === 0; waited += 50) await sleep(50);
      expect(lost.map((e) => e.message)).toEqual([]);
    } finally {
      vi.useRealTimers();
      await client.close().catch(() => undefined);
      media.close();
      other[1]!.close();
      sender.ws.close();
      receiver.ws.close();
    }
  });
});
