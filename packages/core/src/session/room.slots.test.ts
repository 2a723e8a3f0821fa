import { beforeEach, describe, it, expect } from 'vitest';
import {
  resetFixture,
  fx,
  T0,
  adminClaims,
  peerClaims,
  join,
  send,
  register,
  makeRoom,
} from './test/room-fixture.js';

beforeEach(resetFixture);

describe('register', () => {
  it('a peer scoped to cam-wide cannot register cam-close: ERR_STREAM_FORBIDDEN, socket open', () => {
    const p = join(peerClaims('cam-wide'));
    send(p, { type: 'register', stream: 'cam-close', role: 'sender' });
    expect(p.errors()).toEqual(['ERR_STREAM_FORBIDDEN']);
    expect(p.of('registered')).toEqual([]);
    expect(p.closedWith).toBeUndefined();
    expect(fx.bindings.size).toBe(0);
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
    expect(fx.bindings.get(username!)).toEqual({
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
      relay: null,
      mode: 'auto',
    });
  });

  it('usernames differ per registration', () => {
    const a = join(adminClaims());
    const u1 = register(a, 'cam-wide', 'sender');
    const u2 = register(a, 'cam-wide', 'receiver');
    const u3 = register(a, 'cam-close', 'sender');
    expect(new Set([u1, u2, u3]).size).toBe(3);
    expect(fx.bindings.size).toBe(3);
  });

  it('a live holder is not replaced silently: ERR_SLOT_TAKEN, and the holder keeps the slot', () => {
    const holder = join(peerClaims('cam-wide'));
    register(holder, 'cam-wide', 'sender');
    const second = join(peerClaims('cam-wide'));
    send(second, { type: 'register', stream: 'cam-wide', role: 'sender' });
    expect(second.errors()).toEqual(['ERR_SLOT_TAKEN']);
    expect(second.of('error')[0]?.message).toContain('--takeover');
    expect(holder.errors()).toEqual([]);
    expect(holder.closedWith).toBeUndefined();
    // Still live 4 s later (it spoke meanwhile): still refused.
    fx.clock += 4000;
    send(holder, { type: 'ping' });
    fx.clock += 4000;
    send(second, { type: 'register', stream: 'cam-wide', role: 'sender' });
    expect(second.errors()).toEqual(['ERR_SLOT_TAKEN', 'ERR_SLOT_TAKEN']);
  });

  it('a takeover, an admin token, or a holder silent 5 s replaces it, and the displaced side is told by whom', async () => {
    const cases: [string, () => void, RegExp][] = [
      [
        'takeover',
        () => {
          send(fresh(), { type: 'register', stream: 'cam-wide', role: 'sender', takeover: true });
        },
        /asked to take over \(punch peer --takeover\)/,
      ],
      [
        'admin',
        () => {
          send(join(adminClaims()), { type: 'register', stream: 'cam-wide', role: 'sender' });
        },
        /an admin token/,
      ],
      [
        'silent',
        () => {
          fx.clock += 5000;
          send(fresh(), { type: 'register', stream: 'cam-wide', role: 'sender' });
        },
        /had gone silent/,
      ],
    ];
    const fresh = () => join(peerClaims('cam-wide'));
    for (const [, act, why] of cases) {
      await resetFixture(); // each case in a room of its own
      const holder = join(peerClaims('cam-wide'));
      send(holder, { type: 'register', stream: 'cam-wide', role: 'sender', takeover: true });
      expect(holder.last()?.type).toBe('registered');
      act();
      expect(holder.errors()).toEqual(['ERR_REPLACED']);
      expect(holder.of('error')[0]?.message).toMatch(why);
      expect(holder.closedWith?.code).toBe(4409);
      // Who took over is said by role, never by address.
      expect(holder.of('error')[0]?.message).not.toMatch(/\d+\.\d+\.\d+\.\d+/);
    }
  });

  it("the stream's view records the last takeover of a live holder: which side, when, by whom", async () => {
    const takeover = (): unknown => fx.room.view(adminClaims()).streams[0]!.takeover;
    const holder = join(peerClaims('cam-wide'));
    register(holder, 'cam-wide', 'sender');
    expect(takeover()).toBeNull();
    fx.clock = T0 + 1000;
    send(join(peerClaims('cam-wide')), {
      type: 'register',
      stream: 'cam-wide',
      role: 'sender',
      takeover: true,
    });
    expect(takeover()).toEqual({ role: 'sender', at: T0 + 1000, by: 'peer' });
    const admin = join(adminClaims());
    expect(admin.of('stream')[0]).toMatchObject({
      name: 'cam-wide',
      takeover: { role: 'sender', at: T0 + 1000, by: 'peer' },
    });
    fx.clock = T0 + 2000;
    send(admin, { type: 'register', stream: 'cam-wide', role: 'sender' });
    expect(takeover()).toEqual({ role: 'sender', at: T0 + 2000, by: 'admin' });
    expect(admin.of('stream').at(-1)).toMatchObject({ takeover: { by: 'admin' } });
    // A host that forgot the room (hibernation) still shows it: the holders' snapshots carry it.
    const kept = [...fx.room.view(adminClaims()).streams];
    const holders = [admin].map((c) => [c, structuredClone(fx.room.snapshot(c)!)] as const);
    fx.room = makeRoom();
    for (const [c, snap] of holders) fx.room.resume(c, snap);
    fx.room.settle();
    expect(takeover()).toEqual(kept[0]!.takeover);
    // A silent holder replaced is a restart, not a takeover: the record stays as it was.
    await resetFixture();
    register(join(peerClaims('cam-wide')), 'cam-wide', 'receiver');
    fx.clock += 5000;
    register(join(peerClaims('cam-wide')), 'cam-wide', 'receiver');
    expect(takeover()).toBeNull();
  });

  it('a takeover replaces the older: ERR_REPLACED then close 4409', () => {
    const old = join(peerClaims('cam-wide'));
    const oldUser = register(old, 'cam-wide', 'sender');
    const receiver = join(peerClaims('cam-wide'));
    register(receiver, 'cam-wide', 'receiver');

    const fresh = join(peerClaims('cam-wide'));
    send(fresh, { type: 'register', stream: 'cam-wide', role: 'sender', takeover: true });
    const reg = fresh.last();
    if (reg?.type !== 'registered') throw new Error('not registered');
    const freshUser = reg.bind?.username ?? '';

    expect(old.errors()).toEqual(['ERR_REPLACED']);
    expect(old.closedWith?.code).toBe(4409);
    expect(fx.bindings.get(oldUser)).toBeUndefined();
    expect(fx.bindings.get(freshUser)?.connId).toBe(fresh.id);
    expect(receiver.of('peer-left')).toEqual([
      { type: 'peer-left', stream: 'cam-wide', role: 'sender' },
    ]);
    // The old socket is out of the room: its messages are ignored.
    const before = old.sent.length;
    send(old, { type: 'ping' });
    expect(old.sent.length).toBe(before);
    // The old username no longer records anything; the new one does.
    fx.room.observe(oldUser, 'cam-wide', 'sender', { ip: '192.0.2.1', port: 1 });
    expect(fx.room.endpoints('cam-wide').sender).toBeNull();
    fx.room.observe(freshUser, 'cam-wide', 'sender', { ip: '192.0.2.2', port: 2 });
    expect(fx.room.endpoints('cam-wide').sender).toEqual({ ip: '192.0.2.2', port: 2 });
  });

  it('an admin taking one stream from an agent receiving every stream takes that one alone', () => {
    const mcr = join(peerClaims(null));
    const wideUser = register(mcr, 'cam-wide', 'receiver');
    register(mcr, 'cam-close', 'receiver');
    const sender = join(peerClaims('cam-wide'));
    register(sender, 'cam-wide', 'sender');

    const producer = join(adminClaims());
    register(producer, 'cam-wide', 'receiver');
    // Told which one, and nothing else changes for it: socket open, cam-close still its own.
    expect(mcr.last()).toMatchObject({
      type: 'error',
      code: 'ERR_REPLACED',
      stream: 'cam-wide',
      role: 'receiver',
    });
    expect(mcr.closedWith).toBeUndefined();
    expect(fx.bindings.get(wideUser)).toBeUndefined();
    expect(sender.of('peer-left')).toEqual([
      { type: 'peer-left', stream: 'cam-wide', role: 'receiver' },
    ]);
    const close = fx.room.view(adminClaims()).streams.find((v) => v.name === 'cam-close');
    expect(close?.receiver.present).toBe(true);
    // Its socket still speaks for cam-close; cam-wide is no longer its to report on.
    send(mcr, { type: 'health', stream: 'cam-close', role: 'receiver', stats: {} });
    send(mcr, { type: 'health', stream: 'cam-wide', role: 'receiver', stats: {} });
    expect(mcr.errors()).toEqual(['ERR_REPLACED', 'ERR_NOT_REGISTERED']);

    // Taking its last slot closes it, as for any agent.
    register(join(adminClaims()), 'cam-close', 'receiver');
    expect(mcr.errors().at(-1)).toBe('ERR_REPLACED');
    expect(mcr.closedWith?.code).toBe(4409);
  });

  it('the same kind of token taking one slot takes the whole socket (a reconnect): one takeover', () => {
    const mcr = join(peerClaims(null));
    register(mcr, 'cam-wide', 'receiver');
    register(mcr, 'cam-close', 'receiver');
    const back = join(peerClaims(null));
    send(back, { type: 'register', stream: 'cam-wide', role: 'receiver', takeover: true });
    expect(mcr.closedWith?.code).toBe(4409);
    send(back, { type: 'register', stream: 'cam-close', role: 'receiver', takeover: true });
    const records = fx.room.view(adminClaims()).streams.map((v) => v.takeover);
    expect(records.filter((t) => t !== null)).toHaveLength(1);
  });

  it('a silent agent receiving every stream is replaced whole (a restart)', () => {
    const mcr = join(peerClaims(null));
    register(mcr, 'cam-wide', 'receiver');
    register(mcr, 'cam-close', 'receiver');
    fx.clock += 5000;
    register(join(peerClaims(null)), 'cam-wide', 'receiver');
    expect(mcr.closedWith?.code).toBe(4409);
    const close = fx.room.view(adminClaims()).streams.find((v) => v.name === 'cam-close');
    expect(close?.receiver.present).toBe(false);
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
