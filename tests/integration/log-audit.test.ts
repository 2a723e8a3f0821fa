/**
 * The seed's logging rules, checked on a whole session lifecycle: Punch logs creation, closure,
 * registrations, authentication failures (with IP) and rate-limit hits — and never a token, a
 * passphrase, or a peer IP outside authentication failures.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startHost, type Host } from '../conformance/host.js';
import {
  UdpPeer,
  WsClient,
  call,
  createSession,
  peerToken,
  type Msg,
} from '../conformance/client.js';

const PEER_IPS = ['127.0.0.60', '127.0.0.61', '127.0.0.62'] as const;
const ATTACKER_IP = '127.0.0.99';

let host: Host;
const secrets = new Set<string>();

beforeAll(async () => {
  host = await startHost();
  const s = await createSession(host.url, { streams: ['cam-1', 'cam-2'] }, PEER_IPS[0]);
  secrets.add(s.token);
  const senderToken = await peerToken(host.url, s, 'cam-1');
  const receiverToken = await peerToken(host.url, s, null);
  secrets.add(senderToken).add(receiverToken);

  const sides: { ws: WsClient; udp: UdpPeer; role: 'sender' | 'receiver' }[] = [];
  for (const [i, role, token] of [
    [1, 'sender', senderToken],
    [2, 'receiver', receiverToken],
  ] as const) {
    const ws = await WsClient.connect(host.url, s.session, token, {
      from: PEER_IPS[i],
      via: i === 1 ? 'header' : 'protocol',
    });
    const udp = await UdpPeer.open(PEER_IPS[i]);
    ws.send({ type: 'register', stream: 'cam-1', role });
    const bind = (await ws.next('registered')).bind as {
      host: string;
      port: number;
      username: string;
    };
    secrets.add(bind.username);
    await udp.stun(bind.host, bind.port, bind.username);
    sides.push({ ws, udp, role });
  }
  const [sender, receiver] = sides as [(typeof sides)[0], (typeof sides)[0]];
  const peer = await sender.ws.next('peer');
  secrets.add(peer.passphrase as string);
  expect((peer.remote as { ip: string }).ip).toBe(PEER_IPS[2]);
  await receiver.ws.next('peer');
  sender.ws.send({
    type: 'endpoint',
    stream: 'cam-1',
    role: 'sender',
    local: [{ ip: '192.168.77.5', port: 9000 }],
  });
  await receiver.ws.next('peer');
  sender.ws.send({
    type: 'health',
    stream: 'cam-1',
    role: 'sender',
    stats: { path: 'direct', rttMs: 9 },
  });
  await call(host.url, 'PUT', `/api/session/${s.session}/tally`, {
    token: s.token,
    body: { program: ['cam-1'], preview: [] },
    from: PEER_IPS[0],
  });
  await sender.ws.next('tally');
  await call(host.url, 'GET', `/api/session/${s.session}/connect`, {
    token: s.token,
    from: PEER_IPS[0],
  });
  const ext = await call(host.url, 'PATCH', `/api/session/${s.session}`, {
    token: s.token,
    body: { ttl: 3600 }, // more than the 1800 s left: a PATCH never shortens
    from: PEER_IPS[0],
  });
  secrets.add((ext.json as { token: string }).token);
  for (const side of sides) secrets.add((await side.ws.next('token')).token as string);
  // Authentication failures, from another address: these lines may (must) carry the IP.
  await call(host.url, 'GET', `/api/session/${s.session}`, {
    token: `${s.token.slice(0, -2)}xx`,
    from: ATTACKER_IP,
  });
  await call(host.url, 'GET', `/api/session/${s.session}`, { from: ATTACKER_IP });
  sender.ws.close();
  await receiver.ws.next('peer-left');
  await call(host.url, 'DELETE', `/api/session/${s.session}`, {
    token: s.token,
    from: PEER_IPS[0],
  });
  const closed: Msg = await receiver.ws.next('closed');
  expect(closed.reason).toBe('closed');
  for (const side of sides) side.udp.close();
  await host.stop();
});
afterAll(async () => {
  await host.stop();
});

/** Every log line (stdout and stderr), less the one human line `punch serve` prints on start. */
const lines = (): string[] =>
  host.logs.filter((l) => l.trim() !== '' && !l.startsWith('Dashboard: http'));

it('logs the events the seed lists', () => {
  const messages = lines().map((l) => (JSON.parse(l) as { msg: string }).msg);
  for (const m of [
    'session created',
    'peer registered',
    'stream paired',
    'peer left',
    'session closed',
    'authentication failed',
  ]) {
    expect(messages).toContain(m);
  }
});

it('never logs a token, a token part, a passphrase or a STUN username', () => {
  expect(secrets.size).toBeGreaterThanOrEqual(9);
  for (const line of lines()) {
    for (const secret of secrets) {
      expect(line).not.toContain(secret);
      for (const part of secret.split('.')) {
        if (part.length >= 16) expect(line).not.toContain(part);
      }
    }
  }
});

it('never logs a peer IP; logs the IP of authentication failures', () => {
  for (const line of lines()) {
    for (const ip of PEER_IPS) expect(line).not.toContain(ip);
    if (line.includes(ATTACKER_IP))
      expect(JSON.parse(line)).toMatchObject({ msg: 'authentication failed', ip: ATTACKER_IP });
  }
  const failures = lines().filter((l) => l.includes('authentication failed'));
  expect(failures.length).toBeGreaterThanOrEqual(2);
  expect(failures.every((l) => l.includes(ATTACKER_IP))).toBe(true);
});
