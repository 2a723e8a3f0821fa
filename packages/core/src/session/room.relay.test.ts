import { beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../logger.js';
import { signToken } from '../token/token.js';
import type { TokenClaims } from '../token/claims.js';
import { turnCredentials } from '../signal/ice.js';
import { Room } from './room.js';
import { sessionRelayId, turnRestIssuer } from './relay.js';
import {
  FakeConn,
  PASSPHRASE,
  T0S,
  TTL,
  fx,
  makeRoom,
  peerClaims,
  resetFixture,
} from './test/room-fixture.js';

beforeEach(resetFixture);

const URLS = ['turn:punch.test:3478?transport=udp', 'turn:punch.test:3478?transport=tcp'];
const SECRET = 'relay-test-secret';

/** A room whose host offers Punch's relay (TURN REST credentials), in `mode`. */
function relayRoom(mode: 'auto' | 'always'): Room {
  const base = makeRoom({ relay: mode });
  return new Room(base.record, {
    store: fx.store,
    log: silentLogger,
    now: () => fx.clock,
    sign: (claims) => signToken(fx.keys, claims),
    bindings: fx.bindings,
    relay: turnRestIssuer({ secret: SECRET, urls: URLS }),
  });
}

/** A socket seated as a host seats it: relay credentials minted first, then `join`. */
async function seat(room: Room, id: string, ip: string, claims: TokenClaims): Promise<FakeConn> {
  const c = new FakeConn(id, claims, ip);
  c.relay = await room.mintRelay(c, claims);
  room.join(c);
  return c;
}

const say = (room: Room, c: FakeConn, m: unknown): void => {
  room.receive(c, JSON.stringify(m));
};

const SE = { ip: '198.51.100.1', port: 40001 };
const RE = { ip: '198.51.100.2', port: 50002 };
const SR = { ip: '203.0.113.50', port: 49200 };
const RR = { ip: '203.0.113.50', port: 49202 };

async function twoAgents(
  room: Room,
): Promise<{ s: FakeConn; r: FakeConn; su: string; ru: string }> {
  const s = await seat(room, 'sock-s', SE.ip, peerClaims('cam-wide'));
  const r = await seat(room, 'sock-r', RE.ip, peerClaims('cam-wide'));
  say(room, s, { type: 'register', stream: 'cam-wide', role: 'sender' });
  say(room, r, { type: 'register', stream: 'cam-wide', role: 'receiver' });
  const su = s.of('registered')[0]?.bind?.username ?? '';
  const ru = r.of('registered')[0]?.bind?.username ?? '';
  return { s, r, su, ru };
}

describe('relay credentials', () => {
  it('registered carries TURN REST credentials for this socket, expiring with its token, and the mode', async () => {
    const room = relayRoom('auto');
    const exp = T0S + 600;
    const c = await seat(room, 'k3v9', SE.ip, peerClaims('cam-wide', { exp }));
    say(room, c, { type: 'register', stream: 'cam-wide', role: 'sender' });
    const reg = c.of('registered')[0]!;
    expect(reg.mode).toBe('auto');
    const want = await turnCredentials(SECRET, 'show/k3v9', exp);
    expect(reg.relay).toEqual({ urls: URLS, ...want, expiresAt: exp });
    expect(sessionRelayId(want.username.split(':')[1]!)).toEqual({ session: 'show', conn: 'k3v9' });
    // A project peer's id may hold a dot but never a slash: never read as a session socket.
    expect(sessionRelayId('alice.smith')).toBeUndefined();
  });

  it('never outlive the session, and are null on a host without a relay', async () => {
    const room = relayRoom('auto');
    const creds = await room.mintRelay(
      { id: 'x', stun: null },
      peerClaims(null, { exp: T0S + 10 * TTL }),
    );
    expect(creds?.expiresAt).toBe(T0S + TTL);
    expect(await fx.room.mintRelay({ id: 'x', stun: null }, peerClaims(null))).toBeNull();
    const c = new FakeConn('plain', peerClaims('cam-wide'));
    fx.room.join(c);
    fx.room.receive(c, JSON.stringify({ type: 'register', stream: 'cam-wide', role: 'sender' }));
    expect(c.of('registered')[0]?.relay).toBeNull();
  });

  it('a fresh token brings fresh credentials, expiring with it', async () => {
    const room = relayRoom('auto');
    const c = await seat(room, 'k3v9', SE.ip, peerClaims('cam-wide'));
    await room.extend(T0S + 2 * TTL);
    const t = c.of('token').at(-1)!;
    expect(t.relay?.expiresAt).toBe(T0S + 2 * TTL);
    expect(t.relay?.username).toBe(`${T0S + 2 * TTL}:show/k3v9`);
    expect(c.relay).toEqual(t.relay);
  });
});

describe('relay mode auto', () => {
  it('a relayed address reaches the other side in a fresh peer, beside the public endpoint', async () => {
    const room = relayRoom('auto');
    const { s, r, su, ru } = await twoAgents(room);
    room.observe(su, 'cam-wide', 'sender', SE);
    room.observe(ru, 'cam-wide', 'receiver', RE);
    expect(r.of('peer').at(-1)?.remote).toEqual(SE);
    say(room, s, { type: 'endpoint', stream: 'cam-wide', role: 'sender', relay: SR });
    expect(r.of('peer')).toHaveLength(2);
    expect(r.of('peer').at(-1)).toMatchObject({
      remote: { ...SE, relay: SR },
      passphrase: PASSPHRASE,
    });
    // The sender is sent the pair again too (the same remote: the agent keeps its path).
    expect(s.of('peer').at(-1)?.remote).toEqual(RE);
    expect(room.handedTo('sock-r')).toEqual([SE, SR]);
    expect(room.handedTo('sock-s')).toEqual([RE]);
    expect(room.view(peerClaims(null)).streams[0]?.sender.endpoint).toBe(true);
  });

  it('a side whose STUN never answered (UDP blocked) pairs by its relayed address', async () => {
    const room = relayRoom('auto');
    const { s, r, ru } = await twoAgents(room);
    room.observe(ru, 'cam-wide', 'receiver', RE);
    expect(r.of('peer')).toEqual([]);
    say(room, s, { type: 'endpoint', stream: 'cam-wide', role: 'sender', relay: SR });
    expect(r.of('peer').at(-1)?.remote).toEqual({ ...SR, relay: SR });
    expect(s.of('peer').at(-1)?.remote).toEqual(RE);
  });
});

describe('relay mode always (IP privacy)', () => {
  it('pairs only relayed addresses; no message to either peer holds the other side IP', async () => {
    const room = relayRoom('always');
    const { s, r, su, ru } = await twoAgents(room);
    expect(s.of('registered')[0]?.mode).toBe('always');
    // Even if an agent's public endpoint and LAN candidates became known, they are not sent.
    room.observe(su, 'cam-wide', 'sender', SE);
    room.observe(ru, 'cam-wide', 'receiver', RE);
    say(room, s, {
      type: 'endpoint',
      stream: 'cam-wide',
      role: 'sender',
      local: [{ ip: '192.168.7.7', port: 9000 }],
    });
    expect(s.of('peer')).toEqual([]);
    say(room, s, { type: 'endpoint', stream: 'cam-wide', role: 'sender', relay: SR });
    expect(r.of('peer')).toEqual([]);
    say(room, r, { type: 'endpoint', stream: 'cam-wide', role: 'receiver', relay: RR });
    expect(s.of('peer').at(-1)?.remote).toEqual({ ...RR, relay: RR });
    expect(r.of('peer').at(-1)?.remote).toEqual({ ...SR, relay: SR });
    expect(JSON.stringify(s.sent)).not.toContain(RE.ip);
    expect(JSON.stringify(r.sent)).not.toContain(SE.ip);
    expect(JSON.stringify(r.sent)).not.toContain('192.168.7.7');
    expect(room.view(peerClaims(null)).relay).toBe('always');
  });
});
