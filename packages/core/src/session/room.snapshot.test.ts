import { beforeEach, describe, expect, it } from 'vitest';
import type { ConnSnapshot } from './room.js';
import {
  resetFixture,
  fx,
  FakeConn,
  makeRoom,
  adminClaims,
  peerClaims,
  join,
  send,
  register,
  pairUp,
} from './test/room-fixture.js';

beforeEach(resetFixture);

/** What a host that hibernated keeps: the sockets, and a copy of each one's snapshot. */
function hibernate(conns: FakeConn[]): Map<FakeConn, ConnSnapshot> {
  const kept = new Map<FakeConn, ConnSnapshot>();
  for (const c of conns) {
    const snap = fx.room.snapshot(c);
    if (snap !== undefined) kept.set(c, structuredClone(snap)); // as stored, not shared
    c.sent.length = 0;
  }
  return kept;
}

/** The host woke: a new room over the same record takes the sockets back. */
function wake(kept: Map<FakeConn, ConnSnapshot>): void {
  fx.room = makeRoom({ tally: fx.room.record.tally, expiresAt: fx.room.record.expiresAt });
  for (const [c, snap] of kept) fx.room.resume(c, snap);
  fx.room.settle();
}

describe('resume and STUN', () => {
  it("hands each resumed slot's username back to the STUN registry", () => {
    const a = join(adminClaims(), '198.51.100.1');
    const u = register(a, 'cam-wide', 'sender');
    const kept = hibernate([a]);
    // A host that forgot the room forgot its registry too.
    fx.bindings.delete(u);
    expect(fx.bindings.get(u)).toBeUndefined();
    wake(kept);
    expect(fx.bindings.get(u)).toEqual({
      session: 'show',
      stream: 'cam-wide',
      role: 'sender',
      connId: a.id,
    });
  });
});

describe('snapshot', () => {
  it('is undefined for a socket that is not in the room', () => {
    const c = new FakeConn('stranger', adminClaims());
    expect(fx.room.snapshot(c)).toBeUndefined();
    const gone = join(adminClaims());
    fx.room.leave(gone);
    expect(fx.room.snapshot(gone)).toBeUndefined();
  });

  it('holds the claims and every slot held, in the order taken, with its endpoints', () => {
    const a = join(adminClaims(), '198.51.100.1');
    expect(fx.room.snapshot(a)).toEqual({ claims: adminClaims(), slots: [] });
    const u1 = register(a, 'cam-close', 'receiver');
    const u2 = register(a, 'cam-wide', 'sender');
    const local = [{ ip: '192.168.1.5', port: 9000 }];
    send(a, {
      type: 'endpoint',
      stream: 'cam-wide',
      role: 'sender',
      public: { ip: '198.51.100.1', port: 4000 },
      local,
      relay: { ip: '203.0.113.9', port: 50000 },
    });
    expect(fx.room.snapshot(a)).toEqual({
      claims: adminClaims(),
      slots: [
        {
          stream: 'cam-close',
          role: 'receiver',
          username: u1,
          public: null,
          local: [],
          relay: null,
        },
        {
          stream: 'cam-wide',
          role: 'sender',
          username: u2,
          public: { ip: '198.51.100.1', port: 4000 },
          local,
          relay: { ip: '203.0.113.9', port: 50000 },
        },
      ],
    });
  });

  it('leaves out a slot the socket lost to a newer registration', () => {
    const old = join(peerClaims('cam-wide'));
    register(old, 'cam-wide', 'sender');
    send(join(peerClaims('cam-wide')), {
      type: 'register',
      stream: 'cam-wide',
      role: 'sender',
      takeover: true,
    });
    expect(fx.room.snapshot(old)).toBeUndefined(); // replaced: it left the room
  });
});

describe('resume and settle', () => {
  it('take the sockets back silently: no welcome, registered, peer or stream again', () => {
    const admin = join(adminClaims());
    const { s, r } = pairUp();
    wake(hibernate([admin, s, r]));
    for (const c of [admin, s, r]) expect(c.sent).toEqual([]);
    expect(fx.room.connectionCount).toBe(3);
    expect(fx.room.view(adminClaims()).streams[0]).toMatchObject({
      name: 'cam-wide',
      state: 'paired',
      sender: { present: true, endpoint: true },
      receiver: { present: true, endpoint: true },
    });
    // Time passing changes nothing either: the views count as published.
    fx.room.tick(fx.clock);
    for (const c of [admin, s, r]) expect(c.sent).toEqual([]);
  });

  it('the resumed pair counts as sent: the same endpoint is not paired again, a new one is', () => {
    const { s, r, su, se } = pairUp();
    wake(hibernate([s, r]));
    fx.room.observe(su, 'cam-wide', 'sender', { ...se });
    expect(s.of('peer')).toEqual([]);
    expect(r.of('peer')).toEqual([]);
    const moved = { ip: '198.51.100.1', port: 40999 };
    fx.room.observe(su, 'cam-wide', 'sender', moved);
    expect(r.of('peer').map((m) => m.remote)).toEqual([moved]);
    expect(s.of('peer')).toHaveLength(1);
    expect(fx.paired).toBe(2);
  });

  it('a resumed socket holds its slots: it may report health, and its leaving frees them', () => {
    const admin = join(adminClaims());
    const { s, r } = pairUp();
    wake(hibernate([admin, s, r]));
    send(s, { type: 'health', stream: 'cam-wide', role: 'sender', stats: { path: 'direct' } });
    expect(s.errors()).toEqual([]);
    expect(admin.of('health')).toHaveLength(1);
    fx.room.leave(s);
    expect(r.of('peer-left')).toEqual([{ type: 'peer-left', stream: 'cam-wide', role: 'sender' }]);
    expect(fx.room.endpoints('cam-wide').sender).toBeNull();
  });

  it('a half-known pair stays unpaired and pairs when the other side arrives', () => {
    const s = join(adminClaims(), '198.51.100.1');
    const su = register(s, 'cam-wide', 'sender');
    fx.room.observe(su, 'cam-wide', 'sender', { ip: '198.51.100.1', port: 40001 });
    wake(hibernate([s]));
    expect(fx.room.view(adminClaims()).streams[0]!.state).toBe('waiting');
    const r = join(adminClaims(), '198.51.100.2');
    const ru = register(r, 'cam-wide', 'receiver');
    fx.room.observe(ru, 'cam-wide', 'receiver', { ip: '198.51.100.2', port: 50002 });
    expect(s.of('peer')).toHaveLength(1);
    expect(r.of('peer')).toHaveLength(1);
  });

  it('restores the claims the snapshot holds (a token refreshed before hibernation)', () => {
    const p = join(peerClaims('cam-wide'));
    const snap = fx.room.snapshot(p)!;
    p.claims = peerClaims('cam-close');
    fx.room = makeRoom();
    fx.room.resume(p, { ...snap, claims: peerClaims('cam-wide', { exp: snap.claims.exp + 60 }) });
    expect(p.claims).toEqual(peerClaims('cam-wide', { exp: snap.claims.exp + 60 }));
  });

  it('skips a slot already taken or of a stream the session does not have', () => {
    const a = join(adminClaims());
    const b = join(adminClaims());
    const ua = register(a, 'cam-wide', 'sender');
    const kept = hibernate([a, b]);
    const snapA = kept.get(a)!;
    const snapB: ConnSnapshot = {
      claims: adminClaims(),
      slots: [
        {
          stream: 'cam-wide',
          role: 'sender',
          username: 'someone-else',
          public: null,
          local: [],
          relay: null,
        },
        {
          stream: 'cam-gone',
          role: 'sender',
          username: 'gone',
          public: null,
          local: [],
          relay: null,
        },
        {
          stream: 'cam-close',
          role: 'receiver',
          username: 'kept',
          public: null,
          local: [],
          relay: null,
        },
      ],
    };
    fx.room = makeRoom();
    fx.room.resume(a, snapA);
    fx.room.resume(b, snapB);
    fx.room.settle();
    expect(fx.room.snapshot(a)!.slots.map((x) => x.username)).toEqual([ua]);
    expect(fx.room.snapshot(b)!.slots).toEqual([
      {
        stream: 'cam-close',
        role: 'receiver',
        username: 'kept',
        public: null,
        local: [],
        relay: null,
      },
    ]);
  });

  it('does nothing for a socket already in the room, or when the room is closed', () => {
    const a = join(adminClaims());
    register(a, 'cam-wide', 'sender');
    const snap = fx.room.snapshot(a)!;
    fx.room.resume(a, { claims: peerClaims('cam-close'), slots: [] });
    expect(a.claims).toEqual(adminClaims());
    expect(fx.room.snapshot(a)).toEqual(snap);

    fx.room = makeRoom();
    fx.room.close('closed');
    fx.room.resume(a, snap);
    expect(fx.room.connectionCount).toBe(0);
  });
});
