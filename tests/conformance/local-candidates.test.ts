/**
 * `endpoint.local` is for peers behind the same NAT: private, link-local and loopback addresses
 * only. A public address there is dropped, so a socket cannot make the other side's agent probe
 * an internet host of its choosing (docs/protocol.md, `endpoint`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UdpPeer, WsClient, announce, createSession, type Bind } from './client.js';
import { startHost, type Host } from './host.js';

let host: Host;
beforeAll(async () => {
  host = await startHost();
});
afterAll(async () => {
  await host.stop();
});

const LOCAL = [
  { ip: '192.168.1.20', port: 40000 },
  { ip: '10.0.0.5', port: 40000 },
  { ip: '169.254.7.7', port: 40000 },
  { ip: 'fe80::1', port: 40000 },
  { ip: 'fd00::5', port: 40000 },
];
const PUBLIC = [
  { ip: '198.51.100.7', port: 40000 },
  { ip: '2001:db8::7', port: 40000 },
  { ip: '::ffff:203.0.113.9', port: 40000 },
];

describe('endpoint.local', () => {
  it('carries private, link-local and loopback candidates to the other side, never public ones', async () => {
    const s = await createSession(host.url, { streams: ['cam-1'] });
    const open: { ws: WsClient; udp: UdpPeer }[] = [];
    const join = async (role: 'sender' | 'receiver') => {
      const ws = await WsClient.connect(host.url, s.session, s.token);
      ws.send({ type: 'register', stream: 'cam-1', role });
      const bind = (await ws.next('registered')).bind as Bind;
      const side = { ws, udp: await UdpPeer.open(), role, bind };
      open.push(side);
      return side;
    };
    const sender = await join('sender');
    const receiver = await join('receiver');
    sender.ws.send({
      type: 'endpoint',
      stream: 'cam-1',
      role: 'sender',
      local: [PUBLIC[0], LOCAL[0], LOCAL[1], PUBLIC[1], LOCAL[2], LOCAL[3], PUBLIC[2], LOCAL[4]],
    });
    await announce(sender.ws, sender.udp, { stream: 'cam-1', role: 'sender' }, sender.bind);
    await announce(receiver.ws, receiver.udp, { stream: 'cam-1', role: 'receiver' }, receiver.bind);
    const peer = await receiver.ws.next('peer');
    expect(peer.remote).toEqual({ ip: '127.0.0.1', port: sender.udp.port, local: LOCAL });
    expect(sender.ws.all('error')).toEqual([]);

    // Only public candidates: the other side gets none at all.
    sender.ws.send({ type: 'endpoint', stream: 'cam-1', role: 'sender', local: PUBLIC });
    const again = await receiver.ws.next('peer');
    expect(again.remote).toEqual({ ip: '127.0.0.1', port: sender.udp.port });
    for (const x of open) {
      x.ws.close();
      x.udp.close();
    }
  });
});
