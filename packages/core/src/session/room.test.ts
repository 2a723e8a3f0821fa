import type { PunchError } from '../errors.js';
import { describe, it, expect, beforeEach } from 'vitest';
import { silentLogger } from '../logger.js';
import type { TokenClaims } from '../token/claims.js';
import { KeyRing, signToken, verifyToken } from '../token/token.js';
import type { Endpoint } from '../wire/common.js';
import type { ServerMessage } from '../wire/to-client.js';
import { BindRegistry } from './bindings.js';
import type { Conn } from './conn.js';
import type { HealthSample, SessionRecord, SessionStore } from './record.js';
import { HEALTH_LIVE_MS, Room } from './room.js';

// ---- fakes ------------------------------------------------------------------------------------

class FakeConn implements Conn {
  readonly sent: ServerMessage[] = [];
  closedWith: { code: number; reason: string } | undefined;
  constructor(
    readonly id: string,
    public claims: TokenClaims,
    readonly ip = '203.0.113.10',
    readonly stun: { host: string; port: number } | null = { host: 'punch.test', port: 3478 },
  ) {}
  send(message: ServerMessage): void {
    this.sent.push(message);
  }
  close(err: PunchError): void {
    this.closedWith = { code: err.closeCode, reason: err.code };
  }
  of<T extends ServerMessage['type']>(type: T): Extract<ServerMessage, { type: T }>[] {
    return this.sent.filter((m): m is Extract<ServerMessage, { type: T }> => m.type === type);
  }
  /** The last message other than a `stream` state push (those have their own tests). */
  last(): ServerMessage | undefined {
    return this.sent.filter((m) => m.type !== 'stream').at(-1);
  }
  errors(): string[] {
    return this.of('error').map((e) => e.code);
  }
}

class MemoryStore implements SessionStore {
  readonly saved: SessionRecord[] = [];
  readonly health: { session: string; sample: HealthSample }[] = [];
  readonly deleted: string[] = [];
  saveSession(record: SessionRecord): void {
    this.saved.push(structuredClone(record));
  }
  appendHealth(session: string, sample: HealthSample): void {
    this.health.push({ session, sample });
  }
  healthHistory(session: string, streams: readonly string[] | null, limit: number): HealthSample[] {
    return this.health
      .filter(
        (h) => h.session === session && (streams === null || streams.includes(h.sample.stream)),
      )
      .map((h) => h.sample)
      .slice(-limit);
  }
  deleteSession(session: string): void {
    this.deleted.push(session);
  }
}

// ---- fixture ----------------------------------------------------------------------------------

const T0 = 1_741_234_000_000; // ms
const T0S = T0 / 1000;
const TTL = 1800;
const PASSPHRASE = 'AbCdEfGhIjKlMnOpQrStUvWxYz012345';

let clock: number;
let store: MemoryStore;
let bindings: BindRegistry;
let keys: KeyRing;
let room: Room;
let paired: number;
let nextId = 0;

function makeRoom(over: Partial<SessionRecord> = {}): Room {
  const record: SessionRecord = {
    id: 'show',
    instance: 'inst0001',
    streams: ['cam-wide', 'cam-close'],
    passphrase: PASSPHRASE,
    pbkeylen: 24,
    latencyMs: 250,
    createdAt: T0S,
    expiresAt: T0S + TTL,
    tally: { program: [], preview: [] },
    ...over,
  };
  return new Room(record, {
    store,
    log: silentLogger,
    now: () => clock,
    sign: (claims) => signToken(keys, claims),
    bindings,
    onPaired: () => {
      paired++;
    },
  });
}

const adminClaims = (over: Partial<TokenClaims> = {}): TokenClaims => ({
  session: 'show',
  role: 'admin',
  stream: null,
  exp: T0S + TTL,
  ...over,
});
const peerClaims = (stream: string | null, over: Partial<TokenClaims> = {}): TokenClaims => ({
  session: 'show',
  role: 'peer',
  stream,
  exp: T0S + TTL,
  ...over,
});

function join(claims: TokenClaims, ip?: string, stun?: FakeConn['stun']): FakeConn {
  const c = new FakeConn(`c${++nextId}`, claims, ip, stun);
  room.join(c);
  return c;
}

const send = (c: FakeConn, m: unknown): void => {
  room.receive(c, JSON.stringify(m));
};

function register(c: FakeConn, stream: string, role: 'sender' | 'receiver'): string {
  send(c, { type: 'register', stream, role });
  const r = c.last();
  if (r?.type !== 'registered') throw new Error(`not registered: ${JSON.stringify(r)}`);
  return r.bind?.username ?? '';
}

/** Registers a sender and a receiver on `stream` and gives both an endpoint by STUN. */
function pairUp(stream = 'cam-wide'): {
  s: FakeConn;
  r: FakeConn;
  su: string;
  ru: string;
  se: Endpoint;
  re: Endpoint;
} {
  const s = join(adminClaims(), '198.51.100.1');
  const r = join(adminClaims(), '198.51.100.2');
  const su = register(s, stream, 'sender');
  const ru = register(r, stream, 'receiver');
  const se = { ip: '198.51.100.1', port: 40001 };
  const re = { ip: '198.51.100.2', port: 50002 };
  room.observe(su, stream, 'sender', se);
  room.observe(ru, stream, 'receiver', re);
  return { s, r, su, ru, se, re };
}

const stateOf = (stream: string): string => {
  const v = room.view(adminClaims()).streams.find((s) => s.name === stream);
  if (v === undefined) throw new Error(`no stream ${stream}`);
  return v.state;
};

beforeEach(async () => {
  clock = T0;
  store = new MemoryStore();
  bindings = new BindRegistry();
  keys = await KeyRing.fromSecrets('room-test-secret-0123456789abcdef-xyz');
  paired = 0;
  room = makeRoom();
});

// ---- tests ------------------------------------------------------------------------------------

describe('join', () => {
  it('sends welcome with session, role, stream, expiry, stun and tally', () => {
    const a = join(adminClaims());
    expect(a.sent).toEqual([
      {
        type: 'welcome',
        session: 'show',
        role: 'admin',
        stream: null,
        expiresAt: T0S + TTL,
        tally: { program: [], preview: [] },
        stun: { host: 'punch.test', port: 3478 },
      },
      ...['cam-wide', 'cam-close'].map((name) => ({
        type: 'stream',
        name,
        state: 'idle',
        sender: { present: false, endpoint: false, path: null },
        receiver: { present: false, endpoint: false, path: null },
        tally: 'none',
      })),
    ]);
    const noStun = join(peerClaims('cam-wide'), '203.0.113.1', null);
    expect(noStun.of('welcome')[0]).toMatchObject({ role: 'peer', stream: 'cam-wide', stun: null });
  });

  it('filters the welcome tally to the streams a peer token covers', () => {
    room = makeRoom({ tally: { program: ['cam-wide'], preview: ['cam-close'] } });
    expect(join(peerClaims('cam-wide')).of('welcome')[0]!.tally).toEqual({
      program: ['cam-wide'],
      preview: [],
    });
    expect(join(peerClaims('cam-close')).of('welcome')[0]!.tally).toEqual({
      program: [],
      preview: ['cam-close'],
    });
    const all = { program: ['cam-wide'], preview: ['cam-close'] };
    expect(join(peerClaims(null)).of('welcome')[0]!.tally).toEqual(all);
    expect(join(adminClaims()).of('welcome')[0]!.tally).toEqual(all);
  });

  it('a closed room closes new sockets with 4410 and sends nothing', () => {
    room.close('closed');
    const c = join(adminClaims());
    expect(c.sent).toEqual([]);
    expect(c.closedWith?.code).toBe(4410);
  });
});

describe('register', () => {
  it('a peer scoped to cam-wide cannot register cam-close: ERR_STREAM_FORBIDDEN, socket open', () => {
    const p = join(peerClaims('cam-wide'));
    send(p, { type: 'register', stream: 'cam-close', role: 'sender' });
    expect(p.errors()).toEqual(['ERR_STREAM_FORBIDDEN']);
    expect(p.of('registered')).toEqual([]);
    expect(p.closedWith).toBeUndefined();
    expect(bindings.size).toBe(0);
    // Its own stream is fine.
    send(p, { type: 'register', stream: 'cam-wide', role: 'sender' });
    expect(p.last()).toMatchObject({ type: 'registered', stream: 'cam-wide', role: 'sender' });
  });

  it('an unknown stream: ERR_STREAM_UNKNOWN', () => {
    const a = join(adminClaims());
    send(a, { type: 'register', stream: 'cam-nope', role: 'sender' });
    expect(a.errors()).toEqual(['ERR_STREAM_UNKNOWN']);
    const p = join(peerClaims(null));
    send(p, { type: 'register', stream: 'cam-nope', role: 'receiver' });
    expect(p.errors()).toEqual(['ERR_STREAM_UNKNOWN']);
  });

  it('registered carries a STUN bind username, recorded in the shared registry', () => {
    const p = join(peerClaims('cam-wide'), '203.0.113.9', { host: 'stun.punch.test', port: 3479 });
    send(p, { type: 'register', stream: 'cam-wide', role: 'receiver' });
    const r = p.last();
    expect(r).toMatchObject({
      type: 'registered',
      stream: 'cam-wide',
      role: 'receiver',
      bind: { host: 'stun.punch.test', port: 3479 },
    });
    const username = r?.type === 'registered' ? r.bind?.username : undefined;
    expect(username).toMatch(/^[a-z0-9]{16,}$/);
    expect(bindings.get(username!)).toEqual({
      session: 'show',
      stream: 'cam-wide',
      role: 'receiver',
      connId: p.id,
    });
  });

  it('bind is null when the host has no STUN', () => {
    const p = join(peerClaims('cam-wide'), '203.0.113.9', null);
    send(p, { type: 'register', stream: 'cam-wide', role: 'sender' });
    expect(p.last()).toEqual({
      type: 'registered',
      stream: 'cam-wide',
      role: 'sender',
      bind: null,
    });
  });

  it('usernames differ per registration', () => {
    const a = join(adminClaims());
    const u1 = register(a, 'cam-wide', 'sender');
    const u2 = register(a, 'cam-wide', 'receiver');
    const u3 = register(a, 'cam-close', 'sender');
    expect(new Set([u1, u2, u3]).size).toBe(3);
    expect(bindings.size).toBe(3);
  });

  it('a newer registration replaces the older: ERR_REPLACED then close 4409', () => {
    const old = join(peerClaims('cam-wide'));
    const oldUser = register(old, 'cam-wide', 'sender');
    const receiver = join(peerClaims('cam-wide'));
    register(receiver, 'cam-wide', 'receiver');

    const fresh = join(peerClaims('cam-wide'));
    const freshUser = register(fresh, 'cam-wide', 'sender');

    expect(old.errors()).toEqual(['ERR_REPLACED']);
    expect(old.closedWith?.code).toBe(4409);
    expect(bindings.get(oldUser)).toBeUndefined();
    expect(bindings.get(freshUser)?.connId).toBe(fresh.id);
    expect(receiver.of('peer-left')).toEqual([
      { type: 'peer-left', stream: 'cam-wide', role: 'sender' },
    ]);
    // The old socket is out of the room: its messages are ignored.
    const before = old.sent.length;
    send(old, { type: 'ping' });
    expect(old.sent.length).toBe(before);
    // The old username no longer records anything; the new one does.
    room.observe(oldUser, 'cam-wide', 'sender', { ip: '192.0.2.1', port: 1 });
    expect(room.endpoints('cam-wide').sender).toBeNull();
    room.observe(freshUser, 'cam-wide', 'sender', { ip: '192.0.2.2', port: 2 });
    expect(room.endpoints('cam-wide').sender).toEqual({ ip: '192.0.2.2', port: 2 });
  });

  it('registering again on the same socket keeps the slot and username', () => {
    const a = join(adminClaims());
    const u1 = register(a, 'cam-wide', 'sender');
    const u2 = register(a, 'cam-wide', 'sender');
    expect(u2).toBe(u1);
    expect(a.errors()).toEqual([]);
    expect(a.closedWith).toBeUndefined();
  });
});

describe('pairing by STUN observation', () => {
  it('sends peer to BOTH sides in the same call, each with the other side', () => {
    const s = join(peerClaims('cam-wide'), '198.51.100.1');
    const r = join(peerClaims('cam-wide'), '198.51.100.2');
    const su = register(s, 'cam-wide', 'sender');
    const ru = register(r, 'cam-wide', 'receiver');
    const se = { ip: '198.51.100.1', port: 40001 };
    const re = { ip: '198.51.100.2', port: 50002 };

    room.observe(su, 'cam-wide', 'sender', se);
    expect(s.of('peer')).toEqual([]);
    expect(r.of('peer')).toEqual([]);
    expect(stateOf('cam-wide')).toBe('waiting');

    const sBefore = s.sent.length;
    const rBefore = r.sent.length;
    room.observe(ru, 'cam-wide', 'receiver', re);
    expect(s.sent.slice(sBefore, sBefore + 1)).toEqual([
      {
        type: 'peer',
        stream: 'cam-wide',
        role: 'sender',
        remote: re,
        passphrase: PASSPHRASE,
        pbkeylen: 24,
        latencyMs: 250,
      },
    ]);
    expect(r.sent.slice(rBefore, rBefore + 1)).toEqual([
      {
        type: 'peer',
        stream: 'cam-wide',
        role: 'receiver',
        remote: se,
        passphrase: PASSPHRASE,
        pbkeylen: 24,
        latencyMs: 250,
      },
    ]);
    expect(paired).toBe(1);
    // Then the state push, after both have their `peer`.
    expect(s.sent.slice(sBefore + 1).map((m) => m.type)).toEqual(['stream']);
    expect(r.sent.slice(rBefore + 1).map((m) => m.type)).toEqual(['stream']);
  });

  it('unchanged endpoints are not sent again; a changed one re-pairs both', () => {
    const { s, r, su, ru, se, re } = pairUp();
    expect(s.of('peer')).toHaveLength(1);
    expect(r.of('peer')).toHaveLength(1);

    room.observe(su, 'cam-wide', 'sender', { ...se });
    room.observe(ru, 'cam-wide', 'receiver', { ...re });
    expect(s.of('peer')).toHaveLength(1);
    expect(r.of('peer')).toHaveLength(1);

    const moved = { ip: '198.51.100.1', port: 40999 };
    room.observe(su, 'cam-wide', 'sender', moved);
    expect(s.of('peer')).toHaveLength(2);
    expect(r.of('peer')).toHaveLength(2);
    expect(r.of('peer')[1]!.remote).toEqual(moved);
    expect(s.of('peer')[1]!.remote).toEqual(re);
    expect(paired).toBe(2);
  });

  it('ignores observations with a username that is not the slot holder', () => {
    const s = join(adminClaims());
    register(s, 'cam-wide', 'sender');
    room.observe('not-a-username', 'cam-wide', 'sender', { ip: '192.0.2.1', port: 9 });
    expect(room.endpoints('cam-wide').sender).toBeNull();
  });

  it('streams are independent', () => {
    const { s } = pairUp('cam-wide');
    const c = join(adminClaims());
    register(c, 'cam-close', 'sender');
    expect(stateOf('cam-wide')).toBe('paired');
    expect(stateOf('cam-close')).toBe('waiting');
    expect(c.of('peer')).toEqual([]);
    expect(s.of('peer')).toHaveLength(1);
  });

  it('leave → peer-left to the other; on return they are paired again', () => {
    const { s, r, se } = pairUp();
    room.leave(r);
    expect(s.of('peer-left')).toEqual([
      { type: 'peer-left', stream: 'cam-wide', role: 'receiver' },
    ]);
    expect(stateOf('cam-wide')).toBe('waiting');
    expect(bindings.size).toBe(1);

    const r2 = join(adminClaims(), '198.51.100.3');
    const ru2 = register(r2, 'cam-wide', 'receiver');
    const re2 = { ip: '198.51.100.3', port: 50003 };
    const before = s.of('peer').length;
    room.observe(ru2, 'cam-wide', 'receiver', re2);
    expect(s.of('peer').length).toBe(before + 1);
    expect(s.of('peer').at(-1)!.remote).toEqual(re2);
    expect(r2.of('peer')).toHaveLength(1);
    expect(r2.of('peer')[0]!.remote).toEqual(se);
    expect(stateOf('cam-wide')).toBe('paired');
  });

  it('even an unchanged pair is sent again after a leave and return', () => {
    const { s, r, su, se, re } = pairUp();
    room.leave(s);
    const s2 = join(adminClaims(), '198.51.100.1');
    const su2 = register(s2, 'cam-wide', 'sender');
    expect(su2).not.toBe(su);
    room.observe(su2, 'cam-wide', 'sender', se); // same address as before
    expect(s2.of('peer').map((m) => m.remote)).toEqual([re]);
    expect(r.of('peer').map((m) => m.remote)).toEqual([se, se]);
  });
});

describe('endpoint message (hosts without STUN)', () => {
  it('the public IP must equal the connection IP: ERR_ENDPOINT_MISMATCH otherwise', () => {
    const s = join(adminClaims(), '198.51.100.1', null);
    register(s, 'cam-wide', 'sender');
    send(s, {
      type: 'endpoint',
      stream: 'cam-wide',
      role: 'sender',
      public: { ip: '192.0.2.66', port: 4000 },
    });
    expect(s.errors()).toEqual(['ERR_ENDPOINT_MISMATCH']);
    expect(s.closedWith).toBeUndefined();
    expect(room.endpoints('cam-wide').sender).toBeNull();

    send(s, {
      type: 'endpoint',
      stream: 'cam-wide',
      role: 'sender',
      public: { ip: '198.51.100.1', port: 4000 },
    });
    expect(s.errors()).toEqual(['ERR_ENDPOINT_MISMATCH']);
    expect(room.endpoints('cam-wide').sender).toEqual({ ip: '198.51.100.1', port: 4000 });
  });

  it('accepts IPv4-mapped IPv6 on either side', () => {
    const s = join(adminClaims(), '::ffff:198.51.100.1', null);
    register(s, 'cam-wide', 'sender');
    send(s, {
      type: 'endpoint',
      stream: 'cam-wide',
      role: 'sender',
      public: { ip: '198.51.100.1', port: 4000 },
    });
    const r = join(adminClaims(), '198.51.100.2', null);
    register(r, 'cam-wide', 'receiver');
    send(r, {
      type: 'endpoint',
      stream: 'cam-wide',
      role: 'receiver',
      public: { ip: '::ffff:198.51.100.2', port: 5000 },
    });
    expect(s.errors()).toEqual([]);
    expect(r.errors()).toEqual([]);
    expect(s.of('peer')).toHaveLength(1);
    expect(s.of('peer')[0]!.remote).toEqual({ ip: '::ffff:198.51.100.2', port: 5000 });
  });

  it('pairs with local candidates in remote.local', () => {
    const s = join(adminClaims(), '198.51.100.1', null);
    const r = join(adminClaims(), '198.51.100.2', null);
    register(s, 'cam-wide', 'sender');
    register(r, 'cam-wide', 'receiver');
    const local = [{ ip: '192.168.1.5', port: 9000 }];
    send(s, {
      type: 'endpoint',
      stream: 'cam-wide',
      role: 'sender',
      public: { ip: '198.51.100.1', port: 4000 },
      local,
    });
    send(r, {
      type: 'endpoint',
      stream: 'cam-wide',
      role: 'receiver',
      public: { ip: '198.51.100.2', port: 5000 },
    });
    expect(r.of('peer')[0]!.remote).toEqual({ ip: '198.51.100.1', port: 4000, local });
    expect(s.of('peer')[0]!.remote).toEqual({ ip: '198.51.100.2', port: 5000 });
  });

  it('a repeated identical endpoint is not re-sent; a changed local list re-pairs', () => {
    const s = join(adminClaims(), '198.51.100.1', null);
    const r = join(adminClaims(), '198.51.100.2', null);
    register(s, 'cam-wide', 'sender');
    register(r, 'cam-wide', 'receiver');
    const sEndpoint = {
      type: 'endpoint',
      stream: 'cam-wide',
      role: 'sender',
      public: { ip: '198.51.100.1', port: 4000 },
    };
    send(s, sEndpoint);
    send(r, {
      type: 'endpoint',
      stream: 'cam-wide',
      role: 'receiver',
      public: { ip: '198.51.100.2', port: 5000 },
    });
    expect(s.of('peer')).toHaveLength(1);
    expect(r.of('peer')).toHaveLength(1);

    send(s, sEndpoint); // keepalive-style repeat
    expect(s.of('peer')).toHaveLength(1);
    expect(r.of('peer')).toHaveLength(1);
    expect(paired).toBe(1);

    const local = [{ ip: '10.0.0.5', port: 9000 }];
    send(s, { ...sEndpoint, local });
    expect(r.of('peer')).toHaveLength(2);
    expect(r.of('peer')[1]!.remote).toEqual({ ip: '198.51.100.1', port: 4000, local });
    expect(s.of('peer')).toHaveLength(2);
  });

  it('requires holding the slot (ERR_NOT_REGISTERED) and a covering token', () => {
    const a = join(adminClaims(), '198.51.100.1', null);
    send(a, {
      type: 'endpoint',
      stream: 'cam-wide',
      role: 'sender',
      public: { ip: '198.51.100.1', port: 4000 },
    });
    expect(a.errors()).toEqual(['ERR_NOT_REGISTERED']);

    const p = join(peerClaims('cam-wide'), '198.51.100.1', null);
    send(p, { type: 'endpoint', stream: 'cam-close', role: 'sender' });
    expect(p.errors()).toEqual(['ERR_STREAM_FORBIDDEN']);
  });
});

describe('health', () => {
  it('is stored and fanned out to admin sockets only', () => {
    const s = join(peerClaims('cam-wide'));
    register(s, 'cam-wide', 'sender');
    const admin1 = join(adminClaims());
    const admin2 = join(adminClaims());
    const otherPeer = join(peerClaims(null));
    const stats = { path: 'direct' as const, rttMs: 12, lossPct: 0.5 };
    clock = T0 + 1234;
    send(s, { type: 'health', stream: 'cam-wide', role: 'sender', stats });

    const expected = { type: 'health', stream: 'cam-wide', role: 'sender', stats, at: T0 + 1234 };
    expect(admin1.of('health')).toEqual([expected]);
    expect(admin2.of('health')).toEqual([expected]);
    expect(otherPeer.of('health')).toEqual([]);
    expect(s.of('health')).toEqual([]);
    expect(store.health).toEqual([
      { session: 'show', sample: { stream: 'cam-wide', role: 'sender', at: T0 + 1234, stats } },
    ]);
    expect(room.healthHistory(['cam-wide'], 10)).toHaveLength(1);
  });

  it('stores and fans out at most one report per slot per 500 ms; faster ones only refresh the path', () => {
    const s = join(peerClaims('cam-wide'));
    register(s, 'cam-wide', 'sender');
    const admin = join(adminClaims());
    for (let i = 0; i < 20; i++) {
      clock = T0 + i * 10;
      send(s, { type: 'health', stream: 'cam-wide', role: 'sender', stats: { rttMs: i } });
    }
    clock = T0 + 600;
    send(s, {
      type: 'health',
      stream: 'cam-wide',
      role: 'sender',
      stats: { rttMs: 99, path: 'direct' },
    });
    expect(store.health.map((h) => h.sample.stats.rttMs)).toEqual([0, 99]);
    expect(admin.of('health').map((h) => h.stats.rttMs)).toEqual([0, 99]);
    // A throttled report still says the path is live.
    clock = T0 + 700;
    send(s, { type: 'health', stream: 'cam-wide', role: 'sender', stats: { path: 'relay' } });
    expect(room.view(adminClaims()).streams[0]!.sender.path).toBe('relay');
  });

  it('refused without the slot (ERR_NOT_REGISTERED) or for another stream', () => {
    const p = join(peerClaims('cam-wide'));
    send(p, { type: 'health', stream: 'cam-wide', role: 'sender', stats: {} });
    send(p, { type: 'health', stream: 'cam-close', role: 'sender', stats: {} });
    expect(p.errors()).toEqual(['ERR_NOT_REGISTERED', 'ERR_STREAM_FORBIDDEN']);
    expect(store.health).toEqual([]);
  });
});

describe('stream state (view)', () => {
  it('idle → waiting → paired → connected → paired after 5 s without health', () => {
    expect(HEALTH_LIVE_MS).toBe(5_000);
    expect(stateOf('cam-wide')).toBe('idle');

    const s = join(adminClaims());
    const su = register(s, 'cam-wide', 'sender');
    expect(stateOf('cam-wide')).toBe('waiting');
    const r = join(adminClaims());
    const ru = register(r, 'cam-wide', 'receiver');
    expect(stateOf('cam-wide')).toBe('waiting');
    room.observe(su, 'cam-wide', 'sender', { ip: '198.51.100.1', port: 1111 });
    expect(stateOf('cam-wide')).toBe('waiting');
    room.observe(ru, 'cam-wide', 'receiver', { ip: '198.51.100.2', port: 2222 });
    expect(stateOf('cam-wide')).toBe('paired');

    // A report without a live path does not count.
    send(s, { type: 'health', stream: 'cam-wide', role: 'sender', stats: { path: 'none' } });
    expect(stateOf('cam-wide')).toBe('paired');

    send(r, { type: 'health', stream: 'cam-wide', role: 'receiver', stats: { path: 'direct' } });
    expect(stateOf('cam-wide')).toBe('connected');
    const v = room.view(adminClaims()).streams.find((x) => x.name === 'cam-wide')!;
    expect(v.receiver).toEqual({ present: true, endpoint: true, path: 'direct' });
    expect(v.sender).toEqual({ present: true, endpoint: true, path: 'none' });

    clock = T0 + HEALTH_LIVE_MS;
    expect(stateOf('cam-wide')).toBe('connected');
    clock = T0 + HEALTH_LIVE_MS + 1;
    expect(stateOf('cam-wide')).toBe('paired');

    // A relay path counts as connected too.
    send(s, { type: 'health', stream: 'cam-wide', role: 'sender', stats: { path: 'relay' } });
    expect(stateOf('cam-wide')).toBe('connected');

    room.leave(s);
    room.leave(r);
    expect(stateOf('cam-wide')).toBe('idle');
  });

  it('a peer view holds only its streams, with filtered tally', () => {
    room = makeRoom({ tally: { program: ['cam-close'], preview: ['cam-wide'] } });
    const v = room.view(peerClaims('cam-wide'));
    expect(v.streams.map((s) => s.name)).toEqual(['cam-wide']);
    expect(v.tally).toEqual({ program: [], preview: ['cam-wide'] });
    expect(v.streams[0]!.tally).toBe('preview');
    const all = room.view(adminClaims());
    expect(all.streams.map((s) => [s.name, s.tally])).toEqual([
      ['cam-wide', 'preview'],
      ['cam-close', 'program'],
    ]);
  });
});

describe('tally', () => {
  it('set by an admin: stored, and pushed to everyone filtered per token', () => {
    const admin = join(adminClaims());
    const wide = join(peerClaims('cam-wide'));
    const close = join(peerClaims('cam-close'));
    const all = join(peerClaims(null));
    send(admin, { type: 'tally', program: ['cam-wide'], preview: ['cam-close'] });

    expect(admin.of('tally')).toEqual([
      { type: 'tally', program: ['cam-wide'], preview: ['cam-close'] },
    ]);
    expect(all.of('tally')).toEqual([
      { type: 'tally', program: ['cam-wide'], preview: ['cam-close'] },
    ]);
    expect(wide.of('tally')).toEqual([{ type: 'tally', program: ['cam-wide'], preview: [] }]);
    expect(close.of('tally')).toEqual([{ type: 'tally', program: [], preview: ['cam-close'] }]);
    expect(room.record.tally).toEqual({ program: ['cam-wide'], preview: ['cam-close'] });
    expect(store.saved.at(-1)?.tally).toEqual({ program: ['cam-wide'], preview: ['cam-close'] });
  });

  it('set by a peer (even all-streams): ERR_FORBIDDEN, nothing changes', () => {
    const admin = join(adminClaims());
    for (const claims of [peerClaims('cam-wide'), peerClaims(null)]) {
      const p = join(claims);
      send(p, { type: 'tally', program: ['cam-wide'], preview: [] });
      expect(p.errors()).toEqual(['ERR_FORBIDDEN']);
      expect(p.of('tally')).toEqual([]);
    }
    expect(admin.of('tally')).toEqual([]);
    expect(room.record.tally).toEqual({ program: [], preview: [] });
    expect(store.saved).toEqual([]);
  });

  it('naming an unknown stream: ERR_STREAM_UNKNOWN, nothing changes', () => {
    const admin = join(adminClaims());
    send(admin, { type: 'tally', program: ['cam-nope'], preview: [] });
    expect(admin.errors()).toEqual(['ERR_STREAM_UNKNOWN']);
    expect(room.record.tally).toEqual({ program: [], preview: [] });
  });
});

describe('receive', () => {
  it('malformed frames get ERR_BAD_REQUEST and the socket stays open', () => {
    const a = join(adminClaims());
    room.receive(a, 'not json');
    room.receive(a, '{"type":"nope"}');
    expect(a.errors()).toEqual(['ERR_BAD_REQUEST', 'ERR_BAD_REQUEST']);
    expect(a.closedWith).toBeUndefined();
    send(a, { type: 'ping' });
    expect(a.last()).toEqual({ type: 'pong', at: T0 });
  });

  it('a message flood gets ERR_RATE_LIMITED, then close 4429', () => {
    const a = join(adminClaims());
    const other = join(adminClaims());
    register(a, 'cam-wide', 'sender');
    register(other, 'cam-wide', 'receiver');
    a.sent.length = 0;
    clock = T0 + 1000; // a fresh one-second window: the register above counted in the first
    const frame = JSON.stringify({ type: 'ping' });

    for (let i = 0; i < 100; i++) room.receive(a, frame);
    expect(a.of('pong')).toHaveLength(100);
    expect(a.errors()).toEqual([]);

    room.receive(a, frame); // 101st: dropped with a warning
    expect(a.errors()).toEqual(['ERR_RATE_LIMITED']);
    expect(a.closedWith).toBeUndefined();
    for (let i = 0; i < 99; i++) room.receive(a, frame); // dropped silently
    expect(a.errors()).toEqual(['ERR_RATE_LIMITED']);
    expect(a.of('pong')).toHaveLength(100);
    expect(a.closedWith).toBeUndefined();

    room.receive(a, frame); // 201st: over twice the limit
    expect(a.errors()).toEqual(['ERR_RATE_LIMITED', 'ERR_RATE_LIMITED']);
    expect(a.last()?.type).toBe('error');
    expect(a.closedWith?.code).toBe(4429);
    // It has left the room: its slot is free and the other side is told.
    expect(other.of('peer-left')).toEqual([
      { type: 'peer-left', stream: 'cam-wide', role: 'sender' },
    ]);
    expect(room.connectionCount).toBe(1);
  });

  it('the limit is per second: a steady 100/s is never limited', () => {
    const a = join(adminClaims());
    for (let sec = 0; sec < 3; sec++) {
      clock = T0 + sec * 1000;
      for (let i = 0; i < 100; i++) send(a, { type: 'ping' });
    }
    expect(a.errors()).toEqual([]);
    expect(a.of('pong')).toHaveLength(300);
  });

  it('a message on an expired token: ERR_TOKEN_EXPIRED and close 4401', () => {
    const p = join(peerClaims('cam-wide', { exp: T0S + 60 }));
    clock = T0 + 59_999;
    send(p, { type: 'ping' });
    expect(p.of('pong')).toHaveLength(1);
    clock = T0 + 60_000;
    send(p, { type: 'ping' });
    expect(p.errors()).toEqual(['ERR_TOKEN_EXPIRED']);
    expect(p.closedWith?.code).toBe(4401);
  });
});

describe('lifetime', () => {
  it('extend() sends fresh tokens to sockets whose token lived as long as the session', async () => {
    const admin = join(adminClaims());
    const longPeer = join(peerClaims('cam-wide'));
    const shortPeer = join(peerClaims('cam-close', { exp: T0S + 60 }));
    const newExp = T0S + 7200;
    clock = T0 + 10_000;

    await room.extend(newExp);

    expect(room.record.expiresAt).toBe(newExp);
    expect(store.saved.at(-1)?.expiresAt).toBe(newExp);
    expect(shortPeer.of('token')).toEqual([]);
    expect(shortPeer.claims.exp).toBe(T0S + 60);

    for (const [c, role, stream] of [
      [admin, 'admin', null],
      [longPeer, 'peer', 'cam-wide'],
    ] as const) {
      const msgs = c.of('token');
      expect(msgs).toHaveLength(1);
      expect(msgs[0]!.expiresAt).toBe(newExp);
      const v = await verifyToken(keys, msgs[0]!.token, { session: 'show', now: T0S + 7199 });
      expect(v.claims).toMatchObject({ session: 'show', role, stream, exp: newExp });
      expect(c.claims.exp).toBe(newExp);
    }

    // The refreshed socket now survives past the old expiry.
    clock = (T0S + TTL + 1) * 1000;
    expect(room.tick(clock)).toBe(false);
    send(longPeer, { type: 'ping' });
    expect(longPeer.errors()).toEqual([]);
    expect(longPeer.closedWith).toBeUndefined();
  });

  it('tick() closes sockets with expired tokens and reports session expiry', () => {
    const admin = join(adminClaims());
    const short = join(peerClaims('cam-wide', { exp: T0S + 60 }));
    register(short, 'cam-wide', 'sender');
    const receiver = join(peerClaims('cam-wide'));
    register(receiver, 'cam-wide', 'receiver');

    expect(room.tick(T0 + 59_000)).toBe(false);
    expect(short.closedWith).toBeUndefined();

    expect(room.tick(T0 + 60_000)).toBe(false);
    expect(short.errors()).toEqual(['ERR_TOKEN_EXPIRED']);
    expect(short.closedWith?.code).toBe(4401);
    expect(receiver.of('peer-left')).toHaveLength(1);
    expect(admin.closedWith).toBeUndefined();
    expect(receiver.closedWith).toBeUndefined();

    expect(room.tick((T0S + TTL - 1) * 1000)).toBe(false);
    expect(room.tick((T0S + TTL) * 1000)).toBe(true);
  });

  it('close() tells everyone, closes every socket with 4410 and deletes the session', () => {
    const conns = [join(adminClaims()), join(peerClaims('cam-wide')), join(peerClaims(null))];
    register(conns[1]!, 'cam-wide', 'sender');
    room.close('expired');

    for (const c of conns) {
      expect(c.of('closed')).toEqual([{ type: 'closed', reason: 'expired' }]);
      expect(c.closedWith?.code).toBe(4410);
    }
    expect(store.deleted).toEqual(['show']);
    expect(room.closed).toBe(true);
    expect(room.connectionCount).toBe(0);
    expect(bindings.size).toBe(0);

    // Idempotent.
    room.close('closed');
    expect(store.deleted).toEqual(['show']);
    expect(conns[0]!.of('closed')).toHaveLength(1);
  });
});

describe('stream state pushes', () => {
  const states = (c: FakeConn, name: string): string[] =>
    c
      .of('stream')
      .filter((m) => m.name === name)
      .map((m) => m.state)
      .filter((state, i, all) => i === 0 || all[i - 1] !== state);

  it('an admin follows a stream through idle → waiting → paired → connected → paired → waiting', () => {
    const a = join(adminClaims());
    const { s, r } = pairUp();
    send(s, {
      type: 'health',
      stream: 'cam-wide',
      role: 'sender',
      stats: { path: 'direct' },
    });
    clock += HEALTH_LIVE_MS + 1;
    room.tick(clock);
    room.leave(r);
    expect(states(a, 'cam-wide')).toEqual([
      'idle',
      'waiting',
      'paired',
      'connected',
      'paired',
      'waiting',
    ]);
    expect(
      a
        .of('stream')
        .filter((m) => m.name === 'cam-wide')
        .at(-1),
    ).toMatchObject({
      sender: { present: true, endpoint: true, path: null },
      receiver: { present: false, endpoint: false, path: null },
    });
    expect(states(a, 'cam-close')).toEqual(['idle']);
  });

  it('an unchanged state is not pushed again (health every second sends nothing new)', () => {
    const a = join(adminClaims());
    const { s } = pairUp();
    send(s, {
      type: 'health',
      stream: 'cam-wide',
      role: 'sender',
      stats: { path: 'direct' },
    });
    const pushed = a.of('stream').length;
    for (let i = 0; i < 5; i++) {
      clock += 1000;
      send(s, {
        type: 'health',
        stream: 'cam-wide',
        role: 'sender',
        stats: { path: 'direct' },
      });
      room.tick(clock);
    }
    expect(a.of('stream').slice(pushed)).toEqual([]);
    expect(states(a, 'cam-wide')).toEqual(['idle', 'waiting', 'paired', 'connected']);
  });

  it('a peer gets pushes only for the stream its token covers', () => {
    const p = join(peerClaims('cam-close'));
    const other = join(peerClaims('cam-wide'));
    register(other, 'cam-wide', 'sender');
    register(p, 'cam-close', 'receiver');
    expect(new Set(p.of('stream').map((m) => m.name))).toEqual(new Set(['cam-close']));
    expect(new Set(other.of('stream').map((m) => m.name))).toEqual(new Set(['cam-wide']));
    expect(p.of('stream').at(-1)).toMatchObject({ state: 'waiting', receiver: { present: true } });
  });

  it('tally changes are pushed with the stream', () => {
    const a = join(adminClaims());
    room.setTally({ program: ['cam-close'], preview: ['cam-wide'] });
    expect(
      a
        .of('stream')
        .slice(-2)
        .map((m) => [m.name, m.tally]),
    ).toEqual([
      ['cam-wide', 'preview'],
      ['cam-close', 'program'],
    ]);
  });
});

describe('stream state pushes are bounded', () => {
  it('a peer flipping its path faster than health is stored cannot make the room push `stream` faster', () => {
    const a = join(adminClaims());
    const { s } = pairUp();
    const before = a.of('stream').length;
    for (let i = 0; i < 50; i++) {
      clock += 10; // 100 reports a second, alternating direct and relay
      send(s, {
        type: 'health',
        stream: 'cam-wide',
        role: 'sender',
        stats: { path: i % 2 === 0 ? 'direct' : 'relay' },
      });
    }
    // 500 ms of reports: at most one stored report per HEALTH_STORE_INTERVAL_MS, one push each.
    expect(a.of('stream').length - before).toBeLessThanOrEqual(2);
  });

  it('an endpoint learned by one side alone is pushed at once', () => {
    const a = join(adminClaims());
    const s = join(peerClaims('cam-wide'));
    const su = register(s, 'cam-wide', 'sender');
    room.observe(su, 'cam-wide', 'sender', { ip: '198.51.100.1', port: 4000 });
    expect(a.of('stream').at(-1)).toMatchObject({
      name: 'cam-wide',
      state: 'waiting',
      sender: { endpoint: true },
    });
  });
});
