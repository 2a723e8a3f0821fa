import { beforeEach, describe, it, expect } from 'vitest';
import {
  resetFixture,
  T0,
  T0S,
  TTL,
  fx,
  makeRoom,
  adminClaims,
  peerClaims,
  join,
  send,
  register,
} from './test/room-fixture.js';

beforeEach(resetFixture);

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
        takeover: null,
      })),
    ]);
    const noStun = join(peerClaims('cam-wide'), '203.0.113.1', null);
    expect(noStun.of('welcome')[0]).toMatchObject({ role: 'peer', stream: 'cam-wide', stun: null });
  });

  it('filters the welcome tally to the streams a peer token covers', () => {
    fx.room = makeRoom({ tally: { program: ['cam-wide'], preview: ['cam-close'] } });
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
    fx.room.close('closed');
    const c = join(adminClaims());
    expect(c.sent).toEqual([]);
    expect(c.closedWith?.code).toBe(4410);
  });
});

describe('receive', () => {
  it('malformed frames get ERR_BAD_REQUEST and the socket stays open', () => {
    const a = join(adminClaims());
    fx.room.receive(a, 'not json');
    fx.room.receive(a, '{"type":"nope"}');
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
    fx.clock = T0 + 1000; // a fresh one-second window: the register above counted in the first
    const frame = JSON.stringify({ type: 'ping' });

    for (let i = 0; i < 100; i++) fx.room.receive(a, frame);
    expect(a.of('pong')).toHaveLength(100);
    expect(a.errors()).toEqual([]);

    fx.room.receive(a, frame); // 101st: dropped with a warning
    expect(a.errors()).toEqual(['ERR_RATE_LIMITED']);
    expect(a.closedWith).toBeUndefined();
    for (let i = 0; i < 99; i++) fx.room.receive(a, frame); // dropped silently
    expect(a.errors()).toEqual(['ERR_RATE_LIMITED']);
    expect(a.of('pong')).toHaveLength(100);
    expect(a.closedWith).toBeUndefined();

    fx.room.receive(a, frame); // 201st: over twice the limit
    expect(a.errors()).toEqual(['ERR_RATE_LIMITED', 'ERR_RATE_LIMITED']);
    expect(a.last()?.type).toBe('error');
    expect(a.closedWith?.code).toBe(4429);
    // It has left the room: its slot is free and the other side is told.
    expect(other.of('peer-left')).toEqual([
      { type: 'peer-left', stream: 'cam-wide', role: 'sender' },
    ]);
    expect(fx.room.connectionCount).toBe(1);
  });

  it('the limit is per second: a steady 100/s is never limited', () => {
    const a = join(adminClaims());
    for (let sec = 0; sec < 3; sec++) {
      fx.clock = T0 + sec * 1000;
      for (let i = 0; i < 100; i++) send(a, { type: 'ping' });
    }
    expect(a.errors()).toEqual([]);
    expect(a.of('pong')).toHaveLength(300);
  });

  it('a message on an expired token: ERR_TOKEN_EXPIRED and close 4401', () => {
    const p = join(peerClaims('cam-wide', { exp: T0S + 60 }));
    fx.clock = T0 + 59_999;
    send(p, { type: 'ping' });
    expect(p.of('pong')).toHaveLength(1);
    fx.clock = T0 + 60_000;
    send(p, { type: 'ping' });
    expect(p.errors()).toEqual(['ERR_TOKEN_EXPIRED']);
    expect(p.closedWith?.code).toBe(4401);
  });
});
