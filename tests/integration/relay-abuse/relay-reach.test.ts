/**
 * What any credential holder reaches through Punch's own relay. With `--relay-allow-private`
 * (LAN use) the relay still never reaches its own STUN/TURN port or link-local addresses (cloud
 * metadata); a project peer named with a dot is not read as a session socket; and one client
 * cannot hold every relay port with the credentials of one free session.
 */
import { createHmac } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  STUN_METHOD,
  encodeBindingRequest,
  encodeMessage,
  findAttribute,
  parseMessage,
} from '@punch/core';
import { TurnTestClient, codeOf } from '../turn-test-client.js';
import { startHost, type Host } from '../../conformance/host.js';
import {
  WsClient,
  createSession,
  peerToken,
  type Created,
  type Msg,
} from '../../conformance/client.js';

const SECRET = 'redteam-turn-secret-0123456789abcdef';
let user = 0;
/** TURN REST credentials as a project peer gets them (welcome.iceServers): not a session's. */
function projectCredentials(): { username: string; password: string } {
  const username = `${Math.floor(Date.now() / 1000) + 3600}:redteam${++user}`;
  return { username, password: createHmac('sha1', SECRET).update(username).digest('base64') };
}

const permit = (turn: TurnTestClient, ip: string, port: number) =>
  turn.request(STUN_METHOD.createPermission, [
    { type: 'XOR-PEER-ADDRESS', address: { ip, port, family: 4 } },
  ]);

describe('--relay-allow-private (LAN use)', () => {
  let host: Host;
  beforeAll(async () => {
    host = await startHost({ extraArgs: ['--relay-allow-private', '--turn-secret', SECRET] });
  });
  afterAll(async () => {
    await host.stop();
  });

  it("still refuses the relay's own STUN/TURN port: the relay never talks to itself", async () => {
    const stunPort = host.stunPort ?? 0;
    const turn = await TurnTestClient.open({ host: '127.0.0.1', port: stunPort });
    try {
      const { username, password } = projectCredentials();
      expect((await turn.allocate(username, password)).class).toBe('success');
      const code = codeOf(await permit(turn, '127.0.0.1', stunPort));
      // Proof of reach: a Binding request relayed to the STUN port comes back answered (its
      // XOR-MAPPED-ADDRESS is the relayed address: the relay became its own client).
      const binding = encodeBindingRequest(crypto.getRandomValues(new Uint8Array(12)));
      turn.raw(
        encodeMessage({
          method: STUN_METHOD.send,
          class: 'indication',
          transactionId: crypto.getRandomValues(new Uint8Array(12)),
          attributes: [
            { type: 'XOR-PEER-ADDRESS', address: { ip: '127.0.0.1', port: stunPort, family: 4 } },
            { type: 'DATA', data: binding },
          ],
        }),
      );
      const answered = await turn
        .received(1)
        .then(([d]) => {
          const m = d === undefined ? undefined : parseMessage(d);
          return m?.ok === true && m.message.class === 'success';
        })
        .catch(() => false);
      expect({ code, answered }).toEqual({ code: 403, answered: false });
    } finally {
      turn.close();
    }
  });

  it('still refuses link-local addresses (169.254.169.254: cloud metadata)', async () => {
    const turn = await TurnTestClient.open({ host: '127.0.0.1', port: host.stunPort ?? 0 });
    try {
      const { username, password } = projectCredentials();
      expect((await turn.allocate(username, password)).class).toBe('success');
      expect(codeOf(await permit(turn, '169.254.169.254', 53))).toBe(403);
    } finally {
      turn.close();
    }
  });
});

describe('a project peer whose id has a dot', () => {
  let host: Host;
  beforeAll(async () => {
    host = await startHost({ extraArgs: ['--turn-secret', SECRET] });
  });
  afterAll(async () => {
    await host.stop();
  });

  it("gets a project peer's reach, not a session socket's (nothing handed: nothing reached)", async () => {
    // welcome.iceServers mints `<expiry>:<peer>`; PeerIdSchema allows dots, so peer
    // "alice.smith" reads as session "alice", socket "smith" to the relay's policy.
    const username = `${Math.floor(Date.now() / 1000) + 3600}:alice.smith`;
    const password = createHmac('sha1', SECRET).update(username).digest('base64');
    const turn = await TurnTestClient.open({ host: '127.0.0.1', port: host.stunPort ?? 0 });
    try {
      expect((await turn.allocate(username, password)).class).toBe('success');
      // A browser's public address, as ICE would permit it: fine for any project peer.
      expect(codeOf(await permit(turn, '203.0.113.5', 5000))).toBe(0);
    } finally {
      turn.close();
    }
  });
});

describe('relay ports', () => {
  const POOL = 20;
  let host: Host;
  beforeAll(async () => {
    const low = 20_000 + Math.floor(Math.random() * 10_000);
    host = await startHost({ extraArgs: ['--relay-ports', `${low}-${low + POOL - 1}`] });
  });
  afterAll(async () => {
    await host.stop();
  });

  async function credentialsOf(s: Created, role: 'sender' | 'receiver') {
    const ws = await WsClient.connect(host.url, s.session, await peerToken(host.url, s, 'cam-1'));
    ws.send({ type: 'register', stream: 'cam-1', role });
    const registered: Msg = await ws.next('registered');
    return { ws, relay: registered.relay as { username: string; credential: string } };
  }

  /** A TURN client on another loopback address: another machine, as far as the relay knows. */
  async function clientFrom(ip: string): Promise<TurnTestClient> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, ip, resolve));
    return Reflect.construct(TurnTestClient, [
      socket,
      { host: '127.0.0.1', port: host.stunPort ?? 0 },
    ]) as TurnTestClient;
  }

  it('one client address cannot take every relay port with one free session', async () => {
    // The attacker: one session anyone may create, its two sockets' credentials, ten
    // allocations each (the per-username cap), all from 127.0.0.1.
    const mine = await createSession(host.url, { streams: ['cam-1'] });
    const creds = [await credentialsOf(mine, 'sender'), await credentialsOf(mine, 'receiver')];
    const held: TurnTestClient[] = [];
    // Someone else's session, from another address.
    const theirs = await createSession(host.url, { streams: ['cam-1'] });
    const victim = await credentialsOf(theirs, 'sender');
    const legit = await clientFrom('127.0.0.2');
    try {
      for (let i = 0; i < POOL; i++) {
        const c = creds[i % 2]!.relay;
        const t = await TurnTestClient.open({ host: '127.0.0.1', port: host.stunPort ?? 0 });
        held.push(t);
        const answer = await t.allocate(c.username, c.credential);
        if (answer.class !== 'success') break;
      }
      const answer = await legit.allocate(victim.relay.username, victim.relay.credential);
      const relayed = findAttribute(answer.attributes, 'XOR-RELAYED-ADDRESS');
      expect({ code: codeOf(answer), relayed: relayed !== undefined }).toEqual({
        code: 0,
        relayed: true,
      });
    } finally {
      legit.close();
      for (const t of held) t.close();
      for (const c of [...creds, victim]) c.ws.close();
    }
  });
});
