import { beforeEach, describe, it, expect } from 'vitest';
import { HEALTH_LIVE_MS } from './room.js';
import { MEDIA_MIN_BPS, NO_SIGNAL_MS } from './health.js';
import {
  resetFixture,
  FakeConn,
  T0,
  fx,
  makeRoom,
  adminClaims,
  peerClaims,
  join,
  send,
  register,
  pairUp,
  stateOf,
} from './test/room-fixture.js';

beforeEach(resetFixture);

/** A health report on cam-wide: a live direct path carrying `mediaBps` of SRT media. */
function mediaReport(c: FakeConn, role: 'sender' | 'receiver', mediaBps: number): void {
  send(c, { type: 'health', stream: 'cam-wide', role, stats: { path: 'direct', mediaBps } });
}

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
    fx.room.observe(su, 'cam-wide', 'sender', { ip: '198.51.100.1', port: 1111 });
    expect(stateOf('cam-wide')).toBe('waiting');
    fx.room.observe(ru, 'cam-wide', 'receiver', { ip: '198.51.100.2', port: 2222 });
    expect(stateOf('cam-wide')).toBe('paired');

    // A report without a live path does not count.
    send(s, { type: 'health', stream: 'cam-wide', role: 'sender', stats: { path: 'none' } });
    expect(stateOf('cam-wide')).toBe('paired');

    send(r, { type: 'health', stream: 'cam-wide', role: 'receiver', stats: { path: 'direct' } });
    expect(stateOf('cam-wide')).toBe('connected');
    const v = fx.room.view(adminClaims()).streams.find((x) => x.name === 'cam-wide')!;
    expect(v.receiver).toEqual({ present: true, endpoint: true, path: 'direct' });
    expect(v.sender).toEqual({ present: true, endpoint: true, path: 'none' });

    fx.clock = T0 + HEALTH_LIVE_MS;
    expect(stateOf('cam-wide')).toBe('connected');
    fx.clock = T0 + HEALTH_LIVE_MS + 1;
    expect(stateOf('cam-wide')).toBe('paired');

    // A relay path counts as connected too.
    send(s, { type: 'health', stream: 'cam-wide', role: 'sender', stats: { path: 'relay' } });
    expect(stateOf('cam-wide')).toBe('connected');

    fx.room.leave(s);
    fx.room.leave(r);
    expect(stateOf('cam-wide')).toBe('idle');
  });

  it('a peer view holds only its streams, with filtered tally', () => {
    fx.room = makeRoom({ tally: { program: ['cam-close'], preview: ['cam-wide'] } });
    const v = fx.room.view(peerClaims('cam-wide'));
    expect(v.streams.map((s) => s.name)).toEqual(['cam-wide']);
    expect(v.tally).toEqual({ program: [], preview: ['cam-wide'] });
    expect(v.streams[0]!.tally).toBe('preview');
    const all = fx.room.view(adminClaims());
    expect(all.streams.map((s) => [s.name, s.tally])).toEqual([
      ['cam-wide', 'preview'],
      ['cam-close', 'program'],
    ]);
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
    fx.clock += HEALTH_LIVE_MS + 1;
    fx.room.tick(fx.clock);
    fx.room.leave(r);
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
      fx.clock += 1000;
      send(s, {
        type: 'health',
        stream: 'cam-wide',
        role: 'sender',
        stats: { path: 'direct' },
      });
      fx.room.tick(fx.clock);
    }
    expect(a.of('stream').slice(pushed)).toEqual([]);
    expect(states(a, 'cam-wide')).toEqual(['idle', 'waiting', 'paired', 'connected']);
  });

  it('media that stops turns a connected stream no-signal at the tick due then, and back when it flows', () => {
    const a = join(adminClaims());
    const { s, r } = pairUp();
    mediaReport(s, 'sender', 4e6);
    mediaReport(r, 'receiver', 4e6);
    expect(stateOf('cam-wide')).toBe('connected');
    const stoppedAt = fx.clock;
    // The encoder stops: the agents keep reporting a live path with SRT keepalives only.
    for (let k = 1; k <= 2; k++) {
      fx.clock = stoppedAt + k * 1000;
      mediaReport(s, 'sender', 800);
      mediaReport(r, 'receiver', 0);
    }
    expect(stateOf('cam-wide')).toBe('connected');
    // No report arrives at the deadline: a host that wakes on a timer is told when it is.
    expect(fx.room.nextTickAt()).toBe(stoppedAt + NO_SIGNAL_MS);
    fx.clock = stoppedAt + NO_SIGNAL_MS;
    fx.room.tick(fx.clock);
    expect(stateOf('cam-wide')).toBe('no-signal');
    expect(a.of('stream').at(-1)).toMatchObject({ name: 'cam-wide', state: 'no-signal' });
    // Media again, from one side: connected at once.
    fx.clock += 500;
    mediaReport(r, 'receiver', MEDIA_MIN_BPS);
    expect(states(a, 'cam-wide').slice(-3)).toEqual(['connected', 'no-signal', 'connected']);
  });

  it('a sender taken over: the new pairing is connected only once media crosses it, never on what the old one carried', () => {
    const a = join(adminClaims());
    const { s, r } = pairUp();
    mediaReport(s, 'sender', 4e6);
    mediaReport(r, 'receiver', 4e6);
    expect(stateOf('cam-wide')).toBe('connected');
    // A spare laptop takes the slot over, with no encoder behind it yet.
    fx.clock += 200;
    const spare = join(adminClaims(), '198.51.100.3');
    send(spare, { type: 'register', stream: 'cam-wide', role: 'sender', takeover: true });
    const su = spare.of('registered').at(-1)?.bind?.username ?? '';
    fx.room.observe(su, 'cam-wide', 'sender', { ip: '198.51.100.3', port: 40003 });
    expect(stateOf('cam-wide')).toBe('paired');
    // The receiver's next report still counts the second before it: the old sender's media.
    fx.clock += 800;
    mediaReport(r, 'receiver', 4e6);
    mediaReport(spare, 'sender', 0);
    expect(stateOf('cam-wide')).toBe('paired');
    // Nothing crosses the new pairing: no signal after 3 s, not "connected".
    for (let k = 1; k <= 3; k++) {
      fx.clock += 1000;
      mediaReport(r, 'receiver', 0);
      mediaReport(spare, 'sender', 800);
    }
    expect(stateOf('cam-wide')).toBe('no-signal');
    // The spare's encoder starts: connected.
    fx.clock += 1000;
    mediaReport(spare, 'sender', 4e6);
    expect(stateOf('cam-wide')).toBe('connected');
    expect(states(a, 'cam-wide').slice(-2)).toEqual(['no-signal', 'connected']);
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
    fx.room.setTally({ program: ['cam-close'], preview: ['cam-wide'] });
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
      fx.clock += 10; // 100 reports a second, alternating direct and relay
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
    fx.room.observe(su, 'cam-wide', 'sender', { ip: '198.51.100.1', port: 4000 });
    expect(a.of('stream').at(-1)).toMatchObject({
      name: 'cam-wide',
      state: 'waiting',
      sender: { endpoint: true },
    });
  });
});
