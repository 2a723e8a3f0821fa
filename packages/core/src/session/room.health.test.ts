import { beforeEach, describe, it, expect } from 'vitest';
import {
  resetFixture,
  T0,
  fx,
  adminClaims,
  peerClaims,
  join,
  send,
  register,
  pairUp,
  makeRoom,
  stateOf,
} from './test/room-fixture.js';
import { NO_SIGNAL_MS } from './health.js';

beforeEach(resetFixture);

describe('health', () => {
  it('is stored and fanned out to admin sockets only', () => {
    const s = join(peerClaims('cam-wide'));
    register(s, 'cam-wide', 'sender');
    const admin1 = join(adminClaims());
    const admin2 = join(adminClaims());
    const otherPeer = join(peerClaims(null));
    const stats = { path: 'direct' as const, rttMs: 12, lossPct: 0.5 };
    fx.clock = T0 + 1234;
    send(s, { type: 'health', stream: 'cam-wide', role: 'sender', stats });

    const expected = { type: 'health', stream: 'cam-wide', role: 'sender', stats, at: T0 + 1234 };
    expect(admin1.of('health')).toEqual([expected]);
    expect(admin2.of('health')).toEqual([expected]);
    expect(otherPeer.of('health')).toEqual([]);
    expect(s.of('health')).toEqual([]);
    expect(fx.store.health).toEqual([
      { session: 'show', sample: { stream: 'cam-wide', role: 'sender', at: T0 + 1234, stats } },
    ]);
    expect(fx.room.healthHistory(['cam-wide'], 10)).toHaveLength(1);
  });

  it('stores and fans out at most one report per slot per 500 ms; faster ones only refresh the path', () => {
    const s = join(peerClaims('cam-wide'));
    register(s, 'cam-wide', 'sender');
    const admin = join(adminClaims());
    for (let i = 0; i < 20; i++) {
      fx.clock = T0 + i * 10;
      send(s, { type: 'health', stream: 'cam-wide', role: 'sender', stats: { rttMs: i } });
    }
    fx.clock = T0 + 600;
    send(s, {
      type: 'health',
      stream: 'cam-wide',
      role: 'sender',
      stats: { rttMs: 99, path: 'direct' },
    });
    expect(fx.store.health.map((h) => h.sample.stats.rttMs)).toEqual([0, 99]);
    expect(admin.of('health').map((h) => h.stats.rttMs)).toEqual([0, 99]);
    // A throttled report still says the path is live.
    fx.clock = T0 + 700;
    send(s, { type: 'health', stream: 'cam-wide', role: 'sender', stats: { path: 'relay' } });
    expect(fx.room.view(adminClaims()).streams[0]!.sender.path).toBe('relay');
  });

  it('refused without the slot (ERR_NOT_REGISTERED) or for another stream', () => {
    const p = join(peerClaims('cam-wide'));
    send(p, { type: 'health', stream: 'cam-wide', role: 'sender', stats: {} });
    send(p, { type: 'health', stream: 'cam-close', role: 'sender', stats: {} });
    expect(p.errors()).toEqual(['ERR_NOT_REGISTERED', 'ERR_STREAM_FORBIDDEN']);
    expect(fx.store.health).toEqual([]);
  });

  it('a room built again after hibernation knows a live path and its media from the stored reports', () => {
    const { s, r } = pairUp();
    const report = (mediaBps: number): void => {
      for (const [c, role] of [
        [s, 'sender'],
        [r, 'receiver'],
      ] as const)
        send(c, { type: 'health', stream: 'cam-wide', role, stats: { path: 'relay', mediaBps } });
    };
    report(5e6);
    for (let k = 1; k <= 4; k++) {
      fx.clock += 1000;
      report(0);
    }
    expect(stateOf('cam-wide')).toBe('no-signal');
    // The host forgets the room; the sockets survive with their snapshots.
    const kept = [s, r].map((c) => [c, structuredClone(fx.room.snapshot(c)!)] as const);
    fx.room = makeRoom();
    for (const [c, snap] of kept) fx.room.resume(c, snap);
    fx.room.settle();
    expect(stateOf('cam-wide')).toBe('no-signal');
    // And media that flowed until just before is known as such.
    fx.clock += 1000;
    report(5e6);
    fx.room = makeRoom();
    for (const [c, snap] of kept) fx.room.resume(c, snap);
    fx.room.settle();
    fx.clock += NO_SIGNAL_MS - 1;
    expect(stateOf('cam-wide')).toBe('connected');
  });
});
