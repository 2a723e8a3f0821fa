import { beforeEach, describe, it, expect } from 'vitest';
import { verifyToken } from '../token/token.js';
import { HEALTH_LIVE_MS } from './room.js';
import {
  resetFixture,
  T0,
  T0S,
  TTL,
  fx,
  adminClaims,
  peerClaims,
  join,
  send,
  register,
} from './test/room-fixture.js';

beforeEach(resetFixture);

describe('lifetime', () => {
  it('extend() sends fresh tokens to sockets whose token lived as long as the session', async () => {
    const admin = join(adminClaims());
    const longPeer = join(peerClaims('cam-wide'));
    const shortPeer = join(peerClaims('cam-close', { exp: T0S + 60 }));
    const newExp = T0S + 7200;
    fx.clock = T0 + 10_000;

    await fx.room.extend(newExp);

    expect(fx.room.record.expiresAt).toBe(newExp);
    expect(fx.store.saved.at(-1)?.expiresAt).toBe(newExp);
    expect(shortPeer.of('token')).toEqual([]);
    expect(shortPeer.claims.exp).toBe(T0S + 60);

    for (const [c, role, stream] of [
      [admin, 'admin', null],
      [longPeer, 'peer', 'cam-wide'],
    ] as const) {
      const msgs = c.of('token');
      expect(msgs).toHaveLength(1);
      expect(msgs[0]!.expiresAt).toBe(newExp);
      const v = await verifyToken(fx.keys, msgs[0]!.token, { session: 'show', now: T0S + 7199 });
      expect(v.claims).toMatchObject({ session: 'show', role, stream, exp: newExp });
      expect(c.claims.exp).toBe(newExp);
    }

    // The refreshed socket now survives past the old expiry.
    fx.clock = (T0S + TTL + 1) * 1000;
    expect(fx.room.tick(fx.clock)).toBe(false);
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

    expect(fx.room.tick(T0 + 59_000)).toBe(false);
    expect(short.closedWith).toBeUndefined();

    expect(fx.room.tick(T0 + 60_000)).toBe(false);
    expect(short.errors()).toEqual(['ERR_TOKEN_EXPIRED']);
    expect(short.closedWith?.code).toBe(4401);
    expect(receiver.of('peer-left')).toHaveLength(1);
    expect(admin.closedWith).toBeUndefined();
    expect(receiver.closedWith).toBeUndefined();

    expect(fx.room.tick((T0S + TTL - 1) * 1000)).toBe(false);
    expect(fx.room.tick((T0S + TTL) * 1000)).toBe(true);
  });

  it('close() tells everyone, closes every socket with 4410 and deletes the session', () => {
    const conns = [join(adminClaims()), join(peerClaims('cam-wide')), join(peerClaims(null))];
    register(conns[1]!, 'cam-wide', 'sender');
    fx.room.close('expired');

    for (const c of conns) {
      expect(c.of('closed')).toEqual([{ type: 'closed', reason: 'expired' }]);
      expect(c.closedWith?.code).toBe(4410);
    }
    expect(fx.store.deleted).toEqual(['show']);
    expect(fx.room.closed).toBe(true);
    expect(fx.room.connectionCount).toBe(0);
    expect(fx.bindings.size).toBe(0);

    // Idempotent.
    fx.room.close('closed');
    expect(fx.store.deleted).toEqual(['show']);
    expect(conns[0]!.of('closed')).toHaveLength(1);
  });
});

describe('nextTickAt', () => {
  it('is the session expiry when nothing comes sooner', () => {
    expect(fx.room.nextTickAt()).toBe((T0S + TTL) * 1000);
    join(adminClaims());
    join(peerClaims('cam-wide', { exp: T0S + TTL + 60 })); // outlives the session: not a reason
    expect(fx.room.nextTickAt()).toBe((T0S + TTL) * 1000);
  });

  it('is the first token expiry before the session expiry', () => {
    join(peerClaims('cam-wide', { exp: T0S + 600 }));
    join(peerClaims('cam-close', { exp: T0S + 60 }));
    expect(fx.room.nextTickAt()).toBe((T0S + 60) * 1000);
  });

  it('is when a live path goes silent, while that is still to come; tick then pushes the change', () => {
    const a = join(adminClaims());
    const s = join(peerClaims('cam-wide'));
    register(s, 'cam-wide', 'sender');
    fx.clock = T0 + 1000;
    send(s, { type: 'health', stream: 'cam-wide', role: 'sender', stats: { path: 'direct' } });
    const silentAt = T0 + 1000 + HEALTH_LIVE_MS + 1;
    expect(fx.room.nextTickAt()).toBe(silentAt);
    fx.clock = silentAt - 1;
    expect(fx.room.nextTickAt()).toBe(silentAt);

    fx.clock = silentAt;
    expect(fx.room.nextTickAt()).toBe((T0S + TTL) * 1000);
    const before = a.of('stream').length;
    fx.room.tick(fx.clock);
    const pushed = a.of('stream').slice(before);
    expect(pushed.map((m) => [m.name, m.state, m.sender.path])).toEqual([
      ['cam-wide', 'waiting', null],
    ]);
  });
});
