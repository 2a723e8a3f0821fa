import { beforeEach, describe, expect, it } from 'vitest';
import { PunchError, type ErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';
import type { LimitSpec } from '../ratelimit.js';
import type { PeerIdentity } from '../token/peer-token.js';
import type { SignalServerMessage } from '../wire/signal-to-client.js';
import type { AuditEvent } from './audit.js';
import type { SignalConn } from './conn.js';
import type { IceServer } from './ice.js';
import type { AllowRule } from './policy.js';
import { Revocations } from './revocations.js';
import { AUDIT_WINDOW_MS, SignalRoom } from './room.js';

// ---- fakes ------------------------------------------------------------------------------------

type Msg<T extends SignalServerMessage['type']> = Extract<SignalServerMessage, { type: T }>;

class FakeConn implements SignalConn {
  readonly sent: SignalServerMessage[] = [];
  readonly closes: { code: number; reason: string }[] = [];
  /** Something the host knows but the room must never write to the audit log. */
  readonly ip = '203.0.113.77';
  constructor(
    readonly id: string,
    public identity: PeerIdentity,
    readonly stun: { host: string; port: number } | null = { host: 'stun.punch.test', port: 3478 },
  ) {}
  send(message: SignalServerMessage): void {
    this.sent.push(message);
  }
  close(err: PunchError): void {
    this.closes.push({ code: err.closeCode, reason: err.code });
  }
  of<T extends SignalServerMessage['type']>(type: T): Msg<T>[] {
    return this.sent.filter((m): m is Msg<T> => m.type === type);
  }
  types(): SignalServerMessage['type'][] {
    return this.sent.map((m) => m.type);
  }
  errors(): ErrorCode[] {
    return this.of('error').map((e) => e.code);
  }
  get closed(): boolean {
    return this.closes.length > 0;
  }
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (reason: unknown) => void;
}
function deferred<T>(): Deferred<T> {
  let resolve: (value: T) => void = () => undefined;
  let reject: (reason: unknown) => void = () => undefined;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Runs every pending promise continuation (the fakes only ever use microtasks). */
const flush = (): Promise<void> =>
  new Promise((resolve) => {
    setImmediate(resolve);
  });

// ---- fixture ----------------------------------------------------------------------------------

const PROJECT = 'prj_demo';
const T0 = 1_741_234_000_000; // ms
const T0S = T0 / 1000;
const ALL: AllowRule[] = [{ group: '*', peer: '*' }];

const ident = (group: string, peer: string, over: Partial<PeerIdentity> = {}): PeerIdentity => ({
  project: PROJECT,
  kid: 'kid-a',
  group,
  peer,
  allow: ALL,
  expiresAt: T0S + 3600,
  ...over,
});

const iceFor = (i: PeerIdentity): IceServer[] => [
  { urls: ['stun:stun.punch.test:3478'] },
  { urls: ['turn:turn.punch.test:3478'], username: `${i.expiresAt}:${i.peer}`, credential: 'c' },
];

let clock: number;
let audit: AuditEvent[];
let logged: { fields: Record<string, unknown>; message: string }[];
let verifyCalls: string[];
let verifyImpl: (token: string) => Promise<PeerIdentity>;
let iceCalls: { conn: string; identity: PeerIdentity }[];
let iceImpl: (identity: PeerIdentity) => Promise<IceServer[]>;
let empties: SignalRoom[];
let counted: string[];
let changed: string[];
let room: SignalRoom;
let revocations: Revocations;
let nextId: number;

const log: Logger = {
  info() {},
  warn() {},
  error(fields, message) {
    logged.push({ fields, message });
  },
};

function makeRoom(messageLimit?: LimitSpec): SignalRoom {
  return new SignalRoom({
    project: PROJECT,
    log,
    now: () => clock,
    verify: (token) => {
      verifyCalls.push(token);
      return verifyImpl(token);
    },
    iceServers: (conn, identity) => {
      iceCalls.push({ conn: conn.id, identity });
      return iceImpl(identity);
    },
    audit: (event) => {
      audit.push(event);
    },
    onEmpty: (r) => {
      empties.push(r);
    },
    onSignal: (outcome) => {
      counted.push(outcome);
    },
    onIdentityChanged: (conn) => {
      changed.push(`${conn.id} ${conn.identity.expiresAt}`);
    },
    revocations,
    ...(messageLimit === undefined ? {} : { messageLimit }),
  });
}

function join(group: string, peer: string, over: Partial<PeerIdentity> = {}): FakeConn {
  const c = new FakeConn(`c${++nextId}`, ident(group, peer, over));
  room.join(c, iceFor(c.identity));
  return c;
}

const send = (c: FakeConn, m: unknown): void => {
  room.receive(c, JSON.stringify(m));
};

const signal = (c: FakeConn, group: string, peer: string, payload: unknown, ref?: string): void => {
  send(c, { type: 'signal', to: { group, peer }, payload, ...(ref === undefined ? {} : { ref }) });
};

const outcomes = (): string[] => audit.map((e) => e.outcome);

beforeEach(() => {
  clock = T0;
  audit = [];
  logged = [];
  verifyCalls = [];
  verifyImpl = () => Promise.reject(new PunchError('ERR_TOKEN_SIGNATURE'));
  iceCalls = [];
  iceImpl = (identity) => Promise.resolve(iceFor(identity));
  empties = [];
  counted = [];
  changed = [];
  nextId = 0;
  revocations = new Revocations();
  room = makeRoom();
});

// ---- tests ------------------------------------------------------------------------------------

describe('join', () => {
  it('sends welcome with the identity and the given iceServers, and audits the connect', () => {
    const ice: IceServer[] = [
      { urls: ['stun:[2001:db8::1]:3478'] },
      { urls: ['turn:t.example:3478'], username: 'u', credential: 'p' },
    ];
    const c = new FakeConn('c1', ident('room-1', 'alice', { expiresAt: T0S + 900 }));
    room.join(c, ice);
    expect(c.sent).toEqual([
      {
        type: 'welcome',
        project: PROJECT,
        group: 'room-1',
        peer: 'alice',
        expiresAt: T0S + 900,
        iceServers: ice,
      },
    ]);
    expect(c.closed).toBe(false);
    expect(room.size).toBe(1);
    expect(audit).toEqual([
      {
        project: PROJECT,
        at: T0,
        kind: 'connect',
        from: { group: 'room-1', peer: 'alice' },
        to: null,
        outcome: 'connected',
      },
    ]);
  });

  it('keeps peers with the same peer id in different groups apart', () => {
    const a = join('g1', 'same');
    const b = join('g2', 'same');
    expect(room.size).toBe(2);
    expect(a.closed || b.closed).toBe(false);
  });
});

describe('ping', () => {
  it('answers pong with the room clock', () => {
    const a = join('g', 'a');
    clock = T0 + 1234;
    send(a, { type: 'ping' });
    expect(a.sent.at(-1)).toEqual({ type: 'pong', at: T0 + 1234 });
  });
});

describe('relay', () => {
  it('delivers signal {from, payload} when both policies allow', () => {
    const a = join('room-1', 'alice', { allow: [{ group: 'room-1', peer: 'b*' }] });
    const b = join('room-1', 'bob', { allow: [{ group: 'room-1', peer: 'alice' }] });
    const payload = { type: 'offer', sdp: 'v=0\r\n', nested: [1, { x: null }] };
    signal(a, 'room-1', 'bob', payload, 'r1');
    expect(b.sent.at(-1)).toEqual({
      type: 'signal',
      from: { group: 'room-1', peer: 'alice' },
      payload,
    });
    // the sender gets no acknowledgement and no error
    expect(a.types()).toEqual(['welcome']);
    expect(audit.at(-1)).toEqual({
      project: PROJECT,
      at: T0,
      kind: 'signal',
      from: { group: 'room-1', peer: 'alice' },
      to: { group: 'room-1', peer: 'bob' },
      outcome: 'delivered',
    });
  });

  it('delivers across groups when the policies say so', () => {
    const a = join('studio', 'cam-1', { allow: [{ group: 'control', peer: '*' }] });
    const b = join('control', 'desk', { allow: [{ group: 'studio', peer: 'cam-*' }] });
    signal(a, 'control', 'desk', 'hello');
    signal(b, 'studio', 'cam-1', 'hi');
    expect(b.of('signal')).toEqual([
      { type: 'signal', from: { group: 'studio', peer: 'cam-1' }, payload: 'hello' },
    ]);
    expect(a.of('signal')).toEqual([
      { type: 'signal', from: { group: 'control', peer: 'desk' }, payload: 'hi' },
    ]);
  });

  it("refuses what the sender's own policy does not allow: ERR_POLICY_DENIED with ref", () => {
    const a = join('room-1', 'alice', { allow: [{ group: 'room-1', peer: 'bob' }] });
    const carol = join('room-1', 'carol');
    audit.length = 0;
    signal(a, 'room-1', 'carol', { sdp: 'x' }, 'ref-9');
    expect(a.sent.at(-1)).toEqual({
      type: 'error',
      code: 'ERR_POLICY_DENIED',
      message: 'your token does not allow room-1/carol',
      ref: 'ref-9',
    });
    expect(carol.of('signal')).toEqual([]);
    expect(a.closed).toBe(false);
    expect(outcomes()).toEqual(['refused-by-sender-policy']);
  });

  it('answers "offline" and "refused by target" with the very same error', () => {
    const a = join('room-1', 'alice');
    audit.length = 0;

    signal(a, 'room-1', 'bob', { sdp: 'x' }, 'r');
    const offline = a.sent.at(-1);

    const bob = join('room-1', 'bob', { allow: [{ group: 'room-1', peer: 'carol' }] });
    signal(a, 'room-1', 'bob', { sdp: 'x' }, 'r');
    const refused = a.sent.at(-1);

    expect(offline).toEqual({
      type: 'error',
      code: 'ERR_PEER_UNAVAILABLE',
      message: 'room-1/bob is not available to you',
      ref: 'r',
    });
    // byte for byte the same: nothing tells alice that bob is there
    expect(JSON.stringify(refused)).toBe(JSON.stringify(offline));
    expect(bob.of('signal')).toEqual([]);
    expect(outcomes()).toEqual(['offline', 'connected', 'refused-by-target-policy']);
    expect(audit.filter((e) => e.kind === 'signal').map((e) => e.to)).toEqual([
      { group: 'room-1', peer: 'bob' },
      { group: 'room-1', peer: 'bob' },
    ]);
  });

  it('checks the sender policy before presence (a denied peer is not probed)', () => {
    const a = join('g', 'alice', { allow: [] });
    signal(a, 'g', 'nobody', 1);
    expect(a.errors()).toEqual(['ERR_POLICY_DENIED']);
    expect(outcomes().at(-1)).toBe('refused-by-sender-policy');
  });

  it('stops delivering to a peer that left', () => {
    const a = join('g', 'alice');
    const b = join('g', 'bob');
    room.leave(b);
    signal(a, 'g', 'bob', 1);
    expect(a.errors()).toEqual(['ERR_PEER_UNAVAILABLE']);
    expect(b.of('signal')).toEqual([]);
  });
});

describe('replacement', () => {
  it('a second join with the same (group, peer) replaces the first', () => {
    const old = join('room-1', 'bob');
    const alice = join('room-1', 'alice');
    audit.length = 0;
    const fresh = join('room-1', 'bob');

    expect(old.sent.at(-1)).toEqual({ type: 'closed', reason: 'replaced' });
    expect(old.closes).toEqual([{ code: 4409, reason: 'ERR_REPLACED' }]);
    expect(fresh.types()).toEqual(['welcome']);
    expect(fresh.closed).toBe(false);
    expect(room.size).toBe(2);
    expect(outcomes()).toEqual(['replaced', 'connected']);

    signal(alice, 'room-1', 'bob', 'to-the-new-one');
    expect(fresh.of('signal').map((m) => m.payload)).toEqual(['to-the-new-one']);
    expect(old.of('signal')).toEqual([]);

    // the old socket's close event arrives late: it must not evict the new connection
    room.leave(old);
    expect(room.size).toBe(2);
    signal(alice, 'room-1', 'bob', 'still-there');
    expect(fresh.of('signal').map((m) => m.payload)).toEqual(['to-the-new-one', 'still-there']);
    expect(alice.errors()).toEqual([]);
  });

  it('ignores frames from the replaced connection', () => {
    const old = join('g', 'bob');
    const alice = join('g', 'alice');
    join('g', 'bob');
    const before = old.sent.length;
    signal(old, 'g', 'alice', 'ghost');
    send(old, { type: 'ping' });
    expect(old.sent.length).toBe(before);
    expect(alice.of('signal')).toEqual([]);
  });

  it('does not report the room empty while replacing its only peer', () => {
    const old = join('g', 'solo');
    const fresh = join('g', 'solo');
    expect(empties).toEqual([]);
    expect(room.size).toBe(1);
    room.leave(old);
    expect(empties).toEqual([]);
    room.leave(fresh);
    expect(empties).toEqual([room]);
  });
});

describe('closeKey', () => {
  it('closes only the connections whose token that kid signed', () => {
    const a = join('g', 'a', { kid: 'kid-a' });
    const b = join('g', 'b', { kid: 'kid-b' });
    const c = join('g', 'c', { kid: 'kid-a' });

    expect(room.closeKey('kid-a')).toBe(2);
    for (const conn of [a, c]) {
      expect(conn.sent.at(-1)).toEqual({ type: 'closed', reason: 'key-deleted' });
      expect(conn.closes).toEqual([{ code: 4401, reason: 'ERR_KEY_REVOKED' }]);
    }
    expect(b.types()).toEqual(['welcome']);
    expect(b.closed).toBe(false);
    expect(room.size).toBe(1);

    signal(b, 'g', 'a', 1);
    expect(b.errors()).toEqual(['ERR_PEER_UNAVAILABLE']);
    expect(room.closeKey('kid-a')).toBe(0);
    expect(room.closeKey('kid-unknown')).toBe(0);
  });
});

describe('closeAll', () => {
  it('closes every connection with project-deleted and reports the room empty once', () => {
    const conns = [join('g', 'a'), join('g', 'b'), join('h', 'a')];
    room.closeAll('project-deleted');
    for (const c of conns) {
      expect(c.sent.at(-1)).toEqual({ type: 'closed', reason: 'project-deleted' });
      expect(c.closes).toEqual([{ code: 4410, reason: 'ERR_PROJECT_CLOSED' }]);
    }
    expect(room.size).toBe(0);
    expect(empties).toEqual([room]);
  });
});

/** Expiry is enforced with the 60 s of clock skew tokens are verified with. */
const SKEW_MS = 60_000;

describe('tick', () => {
  it('closes connections 60 s (the skew) after their token expired, and keeps live ones', () => {
    const soon = join('g', 'soon', { expiresAt: T0S + 100 });
    const later = join('g', 'later', { expiresAt: T0S + 3600 });

    room.tick(T0 + 99_999 + SKEW_MS);
    expect(soon.closed).toBe(false);

    room.tick(T0 + 100_000 + SKEW_MS);
    expect(soon.sent.at(-1)).toEqual({ type: 'closed', reason: 'expired' });
    expect(soon.closes).toEqual([{ code: 4401, reason: 'ERR_TOKEN_EXPIRED' }]);
    expect(later.closed).toBe(false);
    expect(later.types()).toEqual(['welcome']);
    expect(room.size).toBe(1);

    // closed once, not again on the next tick
    room.tick(T0 + 200_000);
    expect(soon.closes).toHaveLength(1);
  });
});

describe('token refresh', () => {
  it('a key deleted while the refresh was being verified is refused, and the old identity stays', async () => {
    const a = join('room-1', 'alice');
    const next = ident('room-1', 'alice', { kid: 'kid-b' });
    verifyImpl = () => Promise.resolve(next);
    let release: (servers: IceServer[]) => void = () => undefined;
    iceImpl = () =>
      new Promise((resolve) => {
        release = resolve;
      });
    send(a, { type: 'token', token: 'tok-b', ref: 't1' });
    await flush();
    // kid-b is deleted now: closeKey finds nobody on it yet (the socket is still on kid-a).
    revocations.add('kid-b', clock);
    expect(room.closeKey('kid-b')).toBe(0);
    release([]);
    await flush();
    expect(a.sent.at(-1)).toMatchObject({ type: 'error', code: 'ERR_KEY_REVOKED', ref: 't1' });
    expect(a.identity.kid).toBe('kid-a');
    expect(changed).toEqual([]);
  });

  it('same peer: answers refreshed with fresh ICE and applies the new identity', async () => {
    const a = join('room-1', 'alice', { allow: [{ group: 'room-1', peer: 'bob' }] });
    const bob = join('room-1', 'bob');
    const carol = join('room-1', 'carol');
    const next = ident('room-1', 'alice', {
      kid: 'kid-b',
      allow: [{ group: 'room-1', peer: 'carol' }],
      expiresAt: T0S + 7200,
    });
    verifyImpl = (token) =>
      token === 'tok-new' ? Promise.resolve(next) : Promise.reject(new Error('unexpected'));

    send(a, { type: 'token', token: 'tok-new', ref: 't1' });
    await flush();

    expect(verifyCalls).toEqual(['tok-new']);
    expect(iceCalls).toEqual([{ conn: a.id, identity: next }]);
    expect(a.sent.at(-1)).toEqual({
      type: 'refreshed',
      expiresAt: T0S + 7200,
      iceServers: iceFor(next),
    });
    expect(a.identity).toEqual(next);
    expect(a.closed).toBe(false);
    // the host hears of the new identity once it is in place (to store it)
    expect(changed).toEqual([`${a.id} ${T0S + 7200}`]);

    // the new policy governs the next relay
    signal(a, 'room-1', 'bob', 'x', 'to-bob');
    signal(a, 'room-1', 'carol', 'y');
    expect(a.of('error')).toEqual([
      {
        type: 'error',
        code: 'ERR_POLICY_DENIED',
        message: 'your token does not allow room-1/bob',
        ref: 'to-bob',
      },
    ]);
    expect(bob.of('signal')).toEqual([]);
    expect(carol.of('signal').map((m) => m.payload)).toEqual(['y']);

    // the new kid governs closeKey, and the new expiry governs tick
    expect(room.closeKey('kid-a')).toBe(2); // bob and carol
    expect(a.closed).toBe(false);
    room.tick(T0 + 3600_000);
    expect(a.closed).toBe(false);
    room.tick(T0 + 7200_000 + SKEW_MS);
    expect(a.closes).toEqual([{ code: 4401, reason: 'ERR_TOKEN_EXPIRED' }]);
  });

  it('another peer: ERR_TOKEN_WRONG_PEER, identity kept, socket open', async () => {
    const a = join('room-1', 'alice');
    const before = a.identity;
    for (const other of [
      ident('room-1', 'mallory'),
      ident('room-2', 'alice'),
      ident('room-1', 'alice', { project: 'prj_other' }),
    ]) {
      verifyImpl = () => Promise.resolve(other);
      send(a, { type: 'token', token: 'tok-other', ref: 'swap' });
      await flush();
      const err = a.sent.at(-1);
      expect(err).toMatchObject({ type: 'error', code: 'ERR_TOKEN_WRONG_PEER', ref: 'swap' });
    }
    expect(a.identity).toBe(before);
    expect(a.of('refreshed')).toEqual([]);
    expect(a.closed).toBe(false);
    expect(iceCalls).toEqual([]);
    send(a, { type: 'ping' });
    expect(a.sent.at(-1)?.type).toBe('pong');
  });

  it('an invalid token: the verify error code, socket open', async () => {
    const a = join('g', 'alice');
    for (const code of ['ERR_TOKEN_EXPIRED', 'ERR_KEY_UNKNOWN', 'ERR_TOKEN_SIGNATURE'] as const) {
      verifyImpl = () => Promise.reject(new PunchError(code, `detail for ${code}`));
      send(a, { type: 'token', token: 'bad', ref: code });
      await flush();
      expect(a.sent.at(-1)).toEqual({
        type: 'error',
        code,
        message: `detail for ${code}`,
        ref: code,
      });
    }
    expect(a.closed).toBe(false);
    expect(a.identity.peer).toBe('alice');
  });

  it('an unexpected failure: ERR_INTERNAL without its text, logged', async () => {
    const a = join('g', 'alice');
    verifyImpl = () => Promise.resolve(ident('g', 'alice'));
    iceImpl = () => Promise.reject(new TypeError('secret internals at /srv/punch'));
    send(a, { type: 'token', token: 'tok' });
    await flush();
    expect(a.sent.at(-1)).toEqual({
      type: 'error',
      code: 'ERR_INTERNAL',
      message: 'Internal error',
    });
    expect(JSON.stringify(a.sent)).not.toContain('secret internals');
    // The server's own log keeps the cause: name, message and stack.
    expect(logged).toEqual([
      {
        fields: {
          project: PROJECT,
          err: expect.objectContaining({
            name: 'TypeError',
            message: 'secret internals at /srv/punch',
            stack: expect.stringContaining('room.test.ts') as unknown,
          }) as unknown,
        },
        message: 'signal handler failed',
      },
    ]);
  });

  it('handles frames sent while verify is pending after it, in order', async () => {
    const a = join('room-1', 'alice', { allow: [] });
    const bob = join('room-1', 'bob');
    const pending = deferred<PeerIdentity>();
    verifyImpl = () => pending.promise;

    send(a, { type: 'token', token: 'tok-new' });
    signal(a, 'room-1', 'bob', 'first'); // allowed only by the new token
    send(a, { type: 'ping' });
    signal(a, 'room-1', 'bob', 'second');
    await flush();
    // nothing handled yet: all three wait behind the token
    expect(a.types()).toEqual(['welcome']);
    expect(bob.of('signal')).toEqual([]);

    pending.resolve(ident('room-1', 'alice', { allow: ALL, expiresAt: T0S + 7200 }));
    await flush();
    expect(a.types()).toEqual(['welcome', 'refreshed', 'pong']);
    expect(a.errors()).toEqual([]);
    expect(bob.of('signal').map((m) => m.payload)).toEqual(['first', 'second']);

    // and the queue is gone: the next frame is handled at once
    send(a, { type: 'ping' });
    expect(a.types()).toEqual(['welcome', 'refreshed', 'pong', 'pong']);
  });

  it('runs a second queued token after the first, with what follows waiting for both', async () => {
    const a = join('g', 'alice', { allow: [] });
    const bob = join('g', 'bob');
    const first = deferred<PeerIdentity>();
    const second = deferred<PeerIdentity>();
    const queue = [first, second];
    verifyImpl = () => queue.shift()?.promise ?? Promise.reject(new Error('no more'));

    send(a, { type: 'token', token: 't1' });
    send(a, { type: 'token', token: 't2' });
    signal(a, 'g', 'bob', 'after-both');

    first.resolve(ident('g', 'alice', { allow: [], expiresAt: T0S + 100 }));
    await flush();
    expect(verifyCalls).toEqual(['t1', 't2']);
    expect(a.types()).toEqual(['welcome', 'refreshed']);
    expect(bob.of('signal')).toEqual([]);

    second.resolve(ident('g', 'alice', { allow: ALL, expiresAt: T0S + 200 }));
    await flush();
    expect(a.of('refreshed').map((m) => m.expiresAt)).toEqual([T0S + 100, T0S + 200]);
    expect(bob.of('signal').map((m) => m.payload)).toEqual(['after-both']);
  });

  it('keeps the queue behind a refresh that fails', async () => {
    const a = join('g', 'alice');
    const pending = deferred<PeerIdentity>();
    verifyImpl = () => pending.promise;
    send(a, { type: 'token', token: 'bad', ref: 'tk' });
    send(a, { type: 'ping' });
    pending.reject(new PunchError('ERR_TOKEN_SIGNATURE'));
    await flush();
    expect(a.types()).toEqual(['welcome', 'error', 'pong']);
    expect(a.of('error')[0]).toMatchObject({ code: 'ERR_TOKEN_SIGNATURE', ref: 'tk' });
  });

  it('sends nothing for a refresh that completes after the socket was closed', async () => {
    const a = join('g', 'alice', { expiresAt: T0S + 10 });
    const pending = deferred<PeerIdentity>();
    verifyImpl = () => pending.promise;
    send(a, { type: 'token', token: 'late' });
    send(a, { type: 'ping' });
    room.tick(T0 + 10_000 + SKEW_MS);
    pending.resolve(ident('g', 'alice', { expiresAt: T0S + 3600 }));
    await flush();
    expect(a.types()).toEqual(['welcome', 'closed']);
    expect(a.identity.expiresAt).toBe(T0S + 10);
    expect(iceCalls).toEqual([]);
  });
});

describe('malformed frames', () => {
  it('a binary frame: ERR_BAD_REQUEST, socket open', () => {
    const a = join('g', 'alice');
    room.receive(a, null);
    expect(a.sent.at(-1)).toEqual({
      type: 'error',
      code: 'ERR_BAD_REQUEST',
      message: 'send JSON text frames',
    });
    expect(a.closed).toBe(false);
  });

  it('malformed JSON: ERR_BAD_REQUEST, socket open, next frame served', () => {
    const a = join('g', 'alice');
    room.receive(a, '{"type":"ping"');
    expect(a.errors()).toEqual(['ERR_BAD_REQUEST']);
    expect(a.closed).toBe(false);
    send(a, { type: 'ping' });
    expect(a.sent.at(-1)?.type).toBe('pong');
  });

  it('echoes the ref of a frame the schema refuses', () => {
    const a = join('g', 'alice');
    send(a, { type: 'signal', to: { group: 'g', peer: '*' }, payload: 1, ref: 'bad-to' });
    send(a, { type: 'nope', ref: 'bad-type' });
    expect(a.of('error').map((e) => [e.code, e.ref])).toEqual([
      ['ERR_BAD_REQUEST', 'bad-to'],
      ['ERR_BAD_REQUEST', 'bad-type'],
    ]);
  });

  it('an oversized payload: ERR_PAYLOAD_TOO_LARGE, nothing delivered', () => {
    const a = join('g', 'alice');
    const b = join('g', 'bob');
    signal(a, 'g', 'bob', 'x'.repeat(11_000), 'big');
    expect(a.sent.at(-1)).toMatchObject({ code: 'ERR_PAYLOAD_TOO_LARGE', ref: 'big' });
    expect(b.of('signal')).toEqual([]);
    expect(a.closed).toBe(false);
  });

  it('ignores frames from a connection that never joined', () => {
    const stranger = new FakeConn('x', ident('g', 'x'));
    send(stranger, { type: 'ping' });
    room.receive(stranger, null);
    expect(stranger.sent).toEqual([]);
  });
});

describe('rate limit', () => {
  it('one error past the limit, then silent drops, then a close past twice the limit', () => {
    room = makeRoom({ limit: 5, windowMs: 1000 });
    const a = join('g', 'alice');
    const b = join('g', 'bob');
    for (let i = 0; i < 5; i++) send(a, { type: 'ping' });
    expect(a.of('pong')).toHaveLength(5);

    send(a, { type: 'ping' }); // 6th
    expect(a.sent.at(-1)).toEqual({
      type: 'error',
      code: 'ERR_RATE_LIMITED',
      message: 'too many messages; slow down',
    });
    for (let i = 7; i <= 10; i++) send(a, { type: 'ping' });
    expect(a.of('pong')).toHaveLength(5);
    expect(a.errors()).toEqual(['ERR_RATE_LIMITED']);
    expect(a.closed).toBe(false);

    // the limit is per connection
    send(b, { type: 'ping' });
    expect(b.of('pong')).toHaveLength(1);

    send(a, { type: 'ping' }); // 11th
    expect(a.errors()).toEqual(['ERR_RATE_LIMITED', 'ERR_RATE_LIMITED']);
    expect(a.closes).toEqual([{ code: 4429, reason: 'ERR_RATE_LIMITED' }]);
    expect(room.size).toBe(1);

    // gone: further frames are ignored, and a signal to it finds nobody
    const count = a.sent.length;
    send(a, { type: 'ping' });
    expect(a.sent.length).toBe(count);
    signal(b, 'g', 'alice', 1);
    expect(b.errors()).toEqual(['ERR_PEER_UNAVAILABLE']);
  });

  it('counts dropped frames but not their content: they are never handled', () => {
    room = makeRoom({ limit: 1, windowMs: 1000 });
    const a = join('g', 'alice');
    const b = join('g', 'bob');
    signal(a, 'g', 'bob', 'ok');
    signal(a, 'g', 'bob', 'over'); // warned
    expect(b.of('signal').map((m) => m.payload)).toEqual(['ok']);
  });

  it('starts afresh in the next window', () => {
    room = makeRoom({ limit: 5, windowMs: 1000 });
    const a = join('g', 'alice');
    for (let i = 0; i < 8; i++) send(a, { type: 'ping' });
    expect(a.of('pong')).toHaveLength(5);
    clock += 1000;
    for (let i = 0; i < 5; i++) send(a, { type: 'ping' });
    expect(a.of('pong')).toHaveLength(10);
    expect(a.errors()).toEqual(['ERR_RATE_LIMITED']);
    expect(a.closed).toBe(false);
  });

  it('defaults to 100 messages a second', () => {
    const a = join('g', 'alice');
    for (let i = 0; i < 100; i++) send(a, { type: 'ping' });
    expect(a.errors()).toEqual([]);
    send(a, { type: 'ping' });
    expect(a.errors()).toEqual(['ERR_RATE_LIMITED']);
  });
});

describe('onEmpty', () => {
  it('is called once when the last peer leaves', () => {
    const a = join('g', 'a');
    const b = join('g', 'b');
    room.leave(a);
    expect(empties).toEqual([]);
    room.leave(b);
    expect(empties).toEqual([room]);
    expect(room.size).toBe(0);
    // a duplicate close event changes nothing
    room.leave(b);
    expect(empties).toHaveLength(1);
  });

  it('is called when the last peer is closed by tick or closeKey', () => {
    join('g', 'a', { expiresAt: T0S + 1 });
    room.tick(T0 + 1000 + SKEW_MS);
    expect(empties).toEqual([room]);
    join('g', 'b', { kid: 'k' });
    room.closeKey('k');
    expect(empties).toEqual([room, room]);
  });
});

describe('audit', () => {
  it('records who and outcome, never payloads, tokens, IPs or ICE credentials', async () => {
    const SECRET = 'SECRET-SDP-a=ice-pwd:9f8e7d';
    const a = join('room-1', 'alice', { allow: [{ group: 'room-1', peer: 'b*' }] });
    join('room-1', 'bob', { allow: [{ group: 'room-1', peer: 'nobody' }] });
    join('room-1', 'bert');
    signal(a, 'room-1', 'bert', { sdp: SECRET }); // delivered
    signal(a, 'room-1', 'bob', { sdp: SECRET }); // refused by target
    signal(a, 'room-1', 'bill', { sdp: SECRET }); // offline
    signal(a, 'room-1', 'carol', { sdp: SECRET }); // refused by sender
    verifyImpl = () => Promise.resolve(ident('room-1', 'alice'));
    send(a, { type: 'token', token: 'eyJ-TOKEN-SECRET' });
    await flush();
    join('room-1', 'alice'); // replaces

    expect(outcomes()).toEqual([
      'connected',
      'connected',
      'connected',
      'delivered',
      'refused-by-target-policy',
      'offline',
      'refused-by-sender-policy',
      'replaced',
      'connected',
    ]);
    const text = JSON.stringify(audit);
    for (const leak of [
      SECRET,
      'sdp',
      'eyJ-TOKEN-SECRET',
      a.ip,
      'stun.punch.test',
      'turn:',
      'kid-a',
    ]) {
      expect(text).not.toContain(leak);
    }
    for (const e of audit) {
      expect(Object.keys(e).sort()).toEqual(['at', 'from', 'kind', 'outcome', 'project', 'to']);
      expect(Object.keys(e.from).sort()).toEqual(['group', 'peer']);
      if (e.to !== null) expect(Object.keys(e.to).sort()).toEqual(['group', 'peer']);
    }
  });

  it('records a repeated signal once per minute per (sender, target, outcome)', () => {
    const a = join('g', 'alice');
    join('g', 'bob');
    join('g', 'bert');
    audit.length = 0;
    for (let i = 0; i < 5; i++) signal(a, 'g', 'bob', { candidate: i });
    for (let i = 0; i < 3; i++) signal(a, 'g', 'bill', { candidate: i }); // offline
    signal(a, 'g', 'bert', 1);
    expect(audit.map((e) => `${e.to?.peer} ${e.outcome}`)).toEqual([
      'bob delivered',
      'bill offline',
      'bert delivered',
    ]);

    clock = T0 + AUDIT_WINDOW_MS - 1;
    room.tick(clock);
    signal(a, 'g', 'bob', 'still within the window');
    expect(audit).toHaveLength(3);

    clock = T0 + AUDIT_WINDOW_MS;
    room.tick(clock);
    signal(a, 'g', 'bob', 'a minute later');
    signal(a, 'g', 'bill', 'a minute later');
    expect(audit.slice(3).map((e) => `${e.to?.peer} ${e.outcome} ${e.at}`)).toEqual([
      `bob delivered ${T0 + AUDIT_WINDOW_MS}`,
      `bill offline ${T0 + AUDIT_WINDOW_MS}`,
    ]);
    expect(audit[3]?.from).toEqual({ group: 'g', peer: 'alice' });
  });

  it('asks to be ticked when an audit window ends, and that tick forgets it', () => {
    const a = join('g', 'alice');
    join('g', 'bob');
    // Nothing audited yet: the next work is the earliest token expiry.
    expect(room.nextTickAt()).toBe((T0S + 3600 + 60) * 1000);
    signal(a, 'g', 'bob', 1);
    clock = T0 + 10_000;
    signal(a, 'g', 'bill', 1); // offline
    expect(room.nextTickAt()).toBe(T0 + AUDIT_WINDOW_MS);
    // A window renewed after it ended moves to the back: the other one now ends first.
    clock = T0 + AUDIT_WINDOW_MS;
    signal(a, 'g', 'bob', 2);
    expect(room.nextTickAt()).toBe(T0 + 10_000 + AUDIT_WINDOW_MS);
    room.tick(T0 + 10_000 + AUDIT_WINDOW_MS);
    expect(room.nextTickAt()).toBe(T0 + 2 * AUDIT_WINDOW_MS);
    room.tick(T0 + 2 * AUDIT_WINDOW_MS);
    expect(room.nextTickAt()).toBe((T0S + 3600 + 60) * 1000);
  });

  it('counts every signal for metrics, where the audit log coalesces', () => {
    const a = join('g', 'alice', { allow: [{ group: 'g', peer: 'b*' }] });
    join('g', 'bob');
    join('g', 'bert', { allow: [] });
    for (let i = 0; i < 3; i++) signal(a, 'g', 'bob', i);
    signal(a, 'g', 'bert', 1);
    signal(a, 'g', 'bill', 1);
    signal(a, 'g', 'carol', 1);
    signal(a, 'g', 'bill', 2);
    send(a, { type: 'signal', to: { group: 'g' }, payload: 1 }); // malformed: not a signal
    expect(counted).toEqual([
      'delivered',
      'delivered',
      'delivered',
      'refused-by-target-policy',
      'offline',
      'refused-by-sender-policy',
      'offline',
    ]);
    expect(audit.filter((e) => e.kind === 'signal')).toHaveLength(4);
  });

  it('stamps events with the room clock', () => {
    clock = T0 + 42;
    join('g', 'a');
    expect(audit[0]?.at).toBe(T0 + 42);
  });
});
