/**
 * Who may reach a session socket's allocation on Punch's own relay, and what a session's relay
 * credentials still do once the session is deleted (DESIGN.md "The relay": "credentials expire
 * with the token that got them"; "session credentials reach only addresses Punch itself handed
 * to that agent"): no stranger reaches a session's allocation or spends its bandwidth, and a
 * deleted session's credentials and allocations end at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STUN_METHOD, encodeMessage, findAttribute, parseMessage } from '@punch/core';
import { TurnTestClient, codeOf } from '../turn-test-client.js';
import { startHost, type Host } from '../../conformance/host.js';
import {
  WsClient,
  call,
  createSession,
  peerToken,
  type Created,
  type Msg,
} from '../../conformance/client.js';

interface Relay {
  urls: string[];
  username: string;
  credential: string;
}
interface Addr {
  ip: string;
  port: number;
}

let host: Host;
beforeAll(async () => {
  // No --relay-allow-private: the production policy. The smallest bandwidth cap (1000 B/s per
  // allocation) makes a stranger's drain of a victim's cap visible with one datagram.
  host = await startHost({ extraArgs: ['--relay-max-bps', '8000'] });
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

async function allocate(turn: TurnTestClient, relay: Relay): Promise<Addr> {
  const ok = await turn.allocate(relay.username, relay.credential);
  expect(ok.class).toBe('success');
  const at = findAttribute(ok.attributes, 'XOR-RELAYED-ADDRESS')?.address;
  return { ip: at!.ip, port: at!.port };
}

const permit = (turn: TurnTestClient, to: Addr) =>
  turn.request(STUN_METHOD.createPermission, [
    { type: 'XOR-PEER-ADDRESS', address: { ...to, family: 4 } },
  ]);

/** A Send indication (unauthenticated, as RFC 8656 §10 has it). */
function sendTo(turn: TurnTestClient, to: Addr, text: string | Uint8Array): void {
  turn.raw(
    encodeMessage({
      method: STUN_METHOD.send,
      class: 'indication',
      transactionId: crypto.getRandomValues(new Uint8Array(12)),
      attributes: [
        { type: 'XOR-PEER-ADDRESS', address: { ...to, family: 4 } },
        { type: 'DATA', data: typeof text === 'string' ? new TextEncoder().encode(text) : text },
      ],
    }),
  );
}

/** Two agents of an `always` session, allocated and paired relay to relay. */
async function pairedSession(): Promise<{
  sides: { ws: WsClient; relay: Relay }[];
  turns: TurnTestClient[];
  relayed: Addr[];
  session: Created;
}> {
  const session = await createSession(host.url, { streams: ['cam-1'], relay: 'always' } as never);
  const sides = [await agent(session, 'sender'), await agent(session, 'receiver')];
  const server = { host: '127.0.0.1', port: host.stunPort ?? 0 };
  const turns = [await TurnTestClient.open(server), await TurnTestClient.open(server)];
  const relayed = [
    await allocate(turns[0]!, sides[0]!.relay),
    await allocate(turns[1]!, sides[1]!.relay),
  ];
  sides[0]!.ws.send({ type: 'endpoint', stream: 'cam-1', role: 'sender', relay: relayed[0] });
  sides[1]!.ws.send({ type: 'endpoint', stream: 'cam-1', role: 'receiver', relay: relayed[1] });
  await sides[0]!.ws.next('peer');
  await sides[1]!.ws.next('peer');
  expect((await permit(turns[0]!, relayed[1]!)).class).toBe('success');
  expect((await permit(turns[1]!, relayed[0]!)).class).toBe('success');
  return { sides, turns, relayed, session };
}

describe('a stranger and a session allocation (relay to relay)', () => {
  it('a stranger allocation cannot put datagrams into a session allocation it was never handed', async () => {
    const { sides, turns, relayed } = await pairedSession();
    // The stranger: the only credentials anyone can get (a session of their own).
    const other = await createSession(host.url, { streams: ['cam-1'] });
    const stranger = await agent(other, 'sender');
    const turn = await TurnTestClient.open({ host: '127.0.0.1', port: host.stunPort ?? 0 });
    try {
      await allocate(turn, stranger.relay);
      // Nobody handed the stranger the victim's relayed address; "relay to relay always" lets it
      // in anyway.
      const code = codeOf(await permit(turn, relayed[0]!));
      sendTo(turn, relayed[0]!, 'injected');
      // Then the real peer sends: the victim must get the real peer's datagram first.
      sendTo(turns[1]!, relayed[0]!, 'genuine');
      const [first] = await turns[0]!.received(1);
      expect({ code, first: new TextDecoder().decode(first) }).toEqual({
        code: 403,
        first: 'genuine',
      });
    } finally {
      turn.close();
      stranger.ws.close();
      for (const t of turns) t.close();
      for (const s of sides) s.ws.close();
    }
  });
});

describe("a stranger and a session allocation's bandwidth cap", () => {
  it("cannot spend the victim's cap: the genuine peer's datagram still gets through", async () => {
    const { sides, turns, relayed } = await pairedSession();
    const other = await createSession(host.url, { streams: ['cam-1'] });
    const stranger = await agent(other, 'sender');
    const turn = await TurnTestClient.open({ host: '127.0.0.1', port: host.stunPort ?? 0 });
    try {
      await allocate(turn, stranger.relay);
      await permit(turn, relayed[0]!);
      // A full cap's worth (1000 B) into the victim's relayed address...
      sendTo(turn, relayed[0]!, new Uint8Array(1000));
      // ...then the real peer's media, a moment later.
      sendTo(turns[1]!, relayed[0]!, new Uint8Array(500).fill(7));
      const got = await turns[0]!.received(1).catch(() => []);
      expect(got.some((d) => d.length === 500)).toBe(true);
    } finally {
      turn.close();
      stranger.ws.close();
      for (const t of turns) t.close();
      for (const s of sides) s.ws.close();
    }
  });
});

describe('credentials of a deleted session', () => {
  it('allocate nothing once DELETE /api/session answered, and the allocations made go', async () => {
    const { sides, turns, relayed, session } = await pairedSession();
    const later = await TurnTestClient.open({ host: '127.0.0.1', port: host.stunPort ?? 0 });
    try {
      const del = await call(host.url, 'DELETE', `/api/session/${session.session}`, {
        token: session.token,
      });
      expect(del.status).toBeLessThan(300);
      // A fresh allocation with the deleted session's credentials.
      const again = await later.allocate(sides[0]!.relay.username, sides[0]!.relay.credential);
      // The old allocations still relay between each other.
      sendTo(turns[1]!, relayed[0]!, 'after-delete');
      const stillRelayed = await turns[0]!
        .received(1)
        .then(() => true)
        .catch(() => false);
      expect({ allocate: codeOf(again), stillRelayed }).toEqual({
        allocate: 401,
        stillRelayed: false,
      });
    } finally {
      later.close();
      for (const t of turns) t.close();
      for (const s of sides) s.ws.close();
    }
  });
});

describe('relayed addresses a session socket claims', () => {
  it("open nothing on Punch's relay when they are no allocation of it", async () => {
    // Anyone may create a session: its two sockets are the attacker's. The sender "relays" at a
    // third party's address; the receiver's session credentials then reach it as if Punch had
    // vouched for it, which makes session credentials as open as a project peer's.
    const session = await createSession(host.url, { streams: ['cam-1'], relay: 'always' } as never);
    const sides = [await agent(session, 'sender'), await agent(session, 'receiver')];
    const turn = await TurnTestClient.open({ host: '127.0.0.1', port: host.stunPort ?? 0 });
    try {
      const mine = await allocate(turn, sides[1]!.relay);
      const victim = { ip: '203.0.113.77', port: 9 };
      sides[0]!.ws.send({ type: 'endpoint', stream: 'cam-1', role: 'sender', relay: victim });
      const refused = await sides[0]!.ws.next('error');
      expect(refused.code).toBe('ERR_ENDPOINT_MISMATCH');
      sides[1]!.ws.send({ type: 'endpoint', stream: 'cam-1', role: 'receiver', relay: mine });
      await sides[1]!.ws.settle();
      // The third party was never handed to the receiver: no pair, and no permission towards it.
      expect(sides[1]!.ws.received.some((m) => m.type === 'peer')).toBe(false);
      expect(codeOf(await permit(turn, victim))).toBe(403);
    } finally {
      turn.close();
      for (const s of sides) s.ws.close();
    }
  });

  it('never open loopback or the host itself', async () => {
    const session = await createSession(host.url, { streams: ['cam-1'] });
    const sides = [await agent(session, 'sender'), await agent(session, 'receiver')];
    const turn = await TurnTestClient.open({ host: '127.0.0.1', port: host.stunPort ?? 0 });
    try {
      const mine = await allocate(turn, sides[1]!.relay);
      const stun = { ip: '127.0.0.1', port: host.stunPort ?? 0 };
      // The relay's own port as a "relayed address" is no allocation: refused at once.
      sides[0]!.ws.send({ type: 'endpoint', stream: 'cam-1', role: 'sender', relay: stun });
      expect((await sides[0]!.ws.next('error')).code).toBe('ERR_ENDPOINT_MISMATCH');
      // A public endpoint on the socket's own IP and a LAN candidate on loopback are accepted
      // and handed over, but the relay still reaches neither.
      sides[0]!.ws.send({
        type: 'endpoint',
        stream: 'cam-1',
        role: 'sender',
        public: stun,
        local: [{ ip: '127.0.0.1', port: 22 }],
      });
      sides[1]!.ws.send({ type: 'endpoint', stream: 'cam-1', role: 'receiver', relay: mine });
      await sides[1]!.ws.next('peer');
      expect(codeOf(await permit(turn, stun))).toBe(403);
      expect(codeOf(await permit(turn, { ip: '127.0.0.1', port: 22 }))).toBe(403);
    } finally {
      turn.close();
      for (const s of sides) s.ws.close();
    }
  });
});

describe('IP privacy through the relay (always)', () => {
  it("a Data indication names the other side's relayed address, never its own", async () => {
    const { sides, turns, relayed } = await pairedSession();
    try {
      const seen = new Promise<Addr | undefined>((resolve) => {
        turns[1]!.socket.on('message', (msg: Buffer) => {
          const m = parseMessage(new Uint8Array(msg));
          if (m.ok && m.message.class === 'indication')
            resolve(findAttribute(m.message.attributes, 'XOR-PEER-ADDRESS')?.address);
        });
      });
      sendTo(turns[0]!, relayed[1]!, 'hello');
      const from = await seen;
      const senderClient = turns[0]!.socket.address();
      expect({ ip: from?.ip, port: from?.port }).toEqual(relayed[0]);
      expect(from?.port).not.toBe(senderClient.port);
    } finally {
      for (const t of turns) t.close();
      for (const s of sides) s.ws.close();
    }
  });
});
