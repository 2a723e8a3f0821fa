/**
 * The sessions realm and the relay (DESIGN.md "The relay"): a session's relay mode, the TURN
 * credentials each session socket gets in `registered`, relayed addresses in `peer`, and IP
 * privacy in `always` mode. Where the host runs Punch's own relay (Node), the credentials are
 * used for real: allocations on its STUN port, and permissions only towards addresses Punch
 * handed that socket.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STUN_METHOD, findAttribute } from '@punch/core';
import { TurnTestClient, codeOf } from '../integration/turn-test-client.js';
import { CAN, startHost, type Host } from './host.js';
import {
  WsClient,
  call,
  codeOf as httpCode,
  createSession,
  peerToken,
  type Created,
  type Msg,
} from './client.js';

let host: Host;
beforeAll(async () => {
  host = await startHost();
});
afterAll(async () => {
  await host.stop();
});

interface Relay {
  urls: string[];
  username: string;
  credential: string;
  expiresAt: number;
}

async function agent(
  s: Created,
  role: 'sender' | 'receiver',
  ttl?: number,
): Promise<{ ws: WsClient; registered: Msg }> {
  const ws = await WsClient.connect(
    host.url,
    s.session,
    await peerToken(host.url, s, 'cam-1', ttl),
  );
  ws.send({ type: 'register', stream: 'cam-1', role });
  return { ws, registered: await ws.next('registered') };
}

describe('relay mode', () => {
  it('is auto unless asked, always on request, shown by POST and GET; anything else is 400', async () => {
    const auto = await createSession(host.url, { streams: ['cam-1'] });
    expect((auto as Created & { relay: string }).relay).toBe('auto');
    const r = await call(host.url, 'GET', `/api/session/${auto.session}`, { token: auto.token });
    expect((r.json as { relay: string }).relay).toBe('auto');

    const always = await call(host.url, 'POST', '/api/session', {
      body: { streams: ['cam-1'], relay: 'always' },
    });
    expect(always.status).toBe(201);
    const created = always.json as Created & { relay: string };
    expect(created.relay).toBe('always');
    const g = await call(host.url, 'GET', `/api/session/${created.session}`, {
      token: created.token,
    });
    expect((g.json as { relay: string }).relay).toBe('always');

    const bad = await call(host.url, 'POST', '/api/session', { body: { relay: 'sometimes' } });
    expect(bad.status).toBe(400);
    expect(httpCode(bad)).toBe('ERR_BAD_REQUEST');
  });

  it('registered says the mode', async () => {
    const s = await createSession(host.url, { streams: ['cam-1'], relay: 'always' } as never);
    const a = await agent(s, 'sender');
    expect(a.registered.mode).toBe('always');
    a.ws.close();
  });
});

describe.skipIf(!CAN.relay)("credentials for Punch's own relay", () => {
  it('registered carries TURN REST credentials for this socket, expiring with its token', async () => {
    const s = await createSession(host.url, { streams: ['cam-1'] });
    const a = await agent(s, 'sender', 300);
    const relay = a.registered.relay as Relay;
    expect(relay.urls).toEqual([
      `turn:127.0.0.1:${host.stunPort}?transport=udp`,
      `turn:127.0.0.1:${host.stunPort}?transport=tcp`,
    ]);
    expect(relay.username).toMatch(new RegExp(`^${relay.expiresAt}:${s.session}/[a-z0-9]+$`));
    expect(relay.expiresAt).toBeLessThanOrEqual(Date.now() / 1000 + 301);
    expect(relay.expiresAt).toBeGreaterThan(Date.now() / 1000 + 200);
    a.ws.close();
  });

  it('they allocate on the STUN port; a permission reaches the other side relayed address, nothing never handed out', async () => {
    const s = await createSession(host.url, { streams: ['cam-1'] });
    const server = { host: '127.0.0.1', port: host.stunPort! };
    const sides = await Promise.all([agent(s, 'sender'), agent(s, 'receiver')]);
    const turns = await Promise.all(sides.map(() => TurnTestClient.open(server)));
    try {
      const relayed: { ip: string; port: number }[] = [];
      for (const [i, side] of sides.entries()) {
        const relay = side.registered.relay as Relay;
        const ok = await turns[i]!.allocate(relay.username, relay.credential);
        expect(ok.class).toBe('success');
        const at = findAttribute(ok.attributes, 'XOR-RELAYED-ADDRESS')?.address;
        relayed.push({ ip: at!.ip, port: at!.port });
      }
      sides[0].ws.send({ type: 'endpoint', stream: 'cam-1', role: 'sender', relay: relayed[0] });
      sides[1].ws.send({ type: 'endpoint', stream: 'cam-1', role: 'receiver', relay: relayed[1] });
      const toSender = await sides[0].ws.next('peer');
      expect((toSender.remote as { relay: unknown }).relay).toEqual(relayed[1]);

      const permit = (i: number, ip: string, port: number) =>
        turns[i]!.request(STUN_METHOD.createPermission, [
          { type: 'XOR-PEER-ADDRESS', address: { ip, port, family: 4 } },
        ]);
      // The other side's relayed address: handed out by Punch (and relay to relay anyway).
      expect((await permit(0, relayed[1]!.ip, relayed[1]!.port)).class).toBe('success');
      // A public address Punch never handed this socket: refused, unlike a project peer's.
      expect(codeOf(await permit(0, '203.0.113.5', 5000))).toBe(403);
    } finally {
      for (const t of turns) t.close();
      for (const side of sides) side.ws.close();
    }
  });
});

describe('always (IP privacy)', () => {
  it("pairs on relayed addresses only: neither peer is ever sent the other's public or LAN address", async () => {
    const s = await createSession(host.url, { streams: ['cam-1'], relay: 'always' } as never);
    const [a, b] = await Promise.all([agent(s, 'sender'), agent(s, 'receiver')]);
    // Both claim public and LAN endpoints (from the IP they connect from, as a host without
    // STUN requires); in `always` mode none of it may reach the other side.
    a.ws.send({
      type: 'endpoint',
      stream: 'cam-1',
      role: 'sender',
      public: { ip: '127.0.0.1', port: 41001 },
      local: [{ ip: '192.168.77.1', port: 41001 }],
    });
    b.ws.send({
      type: 'endpoint',
      stream: 'cam-1',
      role: 'receiver',
      public: { ip: '127.0.0.1', port: 41002 },
      local: [{ ip: '192.168.77.2', port: 41002 }],
    });
    await a.ws.settle();
    await b.ws.settle();
    expect(a.ws.all('peer')).toEqual([]);
    // Relayed addresses: real allocations where the host runs the relay (it checks that a
    // claimed one is this session's), made-up ones where it cannot tell (an external TURN).
    const turns: TurnTestClient[] = [];
    const relayed = async (side: { registered: Msg }, fake: number) => {
      if (!CAN.relay) return { ip: '198.51.100.40', port: fake };
      const t = await TurnTestClient.open({ host: '127.0.0.1', port: host.stunPort! });
      turns.push(t);
      const relay = side.registered.relay as Relay;
      const ok = await t.allocate(relay.username, relay.credential);
      const at = findAttribute(ok.attributes, 'XOR-RELAYED-ADDRESS')?.address;
      return { ip: at!.ip, port: at!.port };
    };
    const [ra, rb] = [await relayed(a, 50000), await relayed(b, 50002)];
    a.ws.send({ type: 'endpoint', stream: 'cam-1', role: 'sender', relay: ra });
    b.ws.send({ type: 'endpoint', stream: 'cam-1', role: 'receiver', relay: rb });
    const pa = await a.ws.next('peer');
    const pb = await b.ws.next('peer');
    expect(pa.remote).toEqual({ ...rb, relay: rb });
    expect(pb.remote).toEqual({ ...ra, relay: ra });
    for (const t of turns) t.close();
    const heard = JSON.stringify([...a.ws.received, ...b.ws.received]);
    for (const leak of ['41001', '41002', '192.168.77']) expect(heard).not.toContain(leak);
    // Nor the producer's connection strings.
    const connect = await call(host.url, 'GET', `/api/session/${s.session}/connect`, {
      token: s.token,
    });
    expect(JSON.stringify(connect.json)).not.toMatch(/4100[12]|192\.168\.77/);
    a.ws.close();
    b.ws.close();
  });
});
