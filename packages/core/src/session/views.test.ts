import { describe, expect, it } from 'vitest';
import type { TokenClaims } from '../token/claims.js';
import { HEALTH_LIVE_MS, MEDIA_MIN_BPS, NO_SIGNAL_MS } from './health.js';
import type { SessionRecord } from './record.js';
import { SlotTable } from './slots.js';
import { FakeConn } from './test/room-fixture.js';
import { presence, streamState, streamView, StreamViews } from './views.js';

const T = 1_741_234_000_000;
const claims = (stream: string | null): TokenClaims => ({
  session: 'show',
  role: stream === null ? 'admin' : 'peer',
  stream,
  exp: 2_000_000_000,
});
const sc = new FakeConn('s', claims(null));
const rc = new FakeConn('r', claims(null));
const wide = (role: 'sender' | 'receiver') => ({ stream: 'cam-wide', role }) as const;
const noTally = { program: [], preview: [] };

describe('presence', () => {
  it('an empty side', () => {
    expect(presence(undefined, T)).toEqual({ present: false, endpoint: false, path: null });
  });

  it('a held side: its endpoint, and its path while health reports keep coming', () => {
    const slot = new SlotTable(['cam-wide']).fill(wide('sender'), sc, 'su');
    expect(presence(slot, T)).toEqual({ present: true, endpoint: false, path: null });
    slot.public = { ip: '198.51.100.1', port: 4000 };
    slot.health.report({ path: 'relay' }, T);
    expect(presence(slot, T)).toEqual({ present: true, endpoint: true, path: 'relay' });
    expect(presence(slot, T + HEALTH_LIVE_MS + 1).path).toBeNull();
  });
});

describe('streamState', () => {
  it('idle, waiting, paired, connected (a live direct or relayed path), paired again when silent', () => {
    const t = new SlotTable(['cam-wide']);
    const s = t.of('cam-wide');
    expect(streamState(s, T)).toBe('idle');
    const sender = t.fill(wide('sender'), sc, 'su');
    expect(streamState(s, T)).toBe('waiting');
    t.fill(wide('receiver'), rc, 'ru');
    expect(streamState(s, T)).toBe('waiting');
    s.pairedKey = 'paired';
    expect(streamState(s, T)).toBe('paired');
    sender.health.report({ path: 'none' }, T);
    expect(streamState(s, T)).toBe('paired');
    sender.health.report({ path: 'direct' }, T);
    expect(streamState(s, T)).toBe('connected');
    expect(streamState(s, T + HEALTH_LIVE_MS + 1)).toBe('paired');
  });

  it('no-signal: a live path with less than 10 kbit/s of media from both sides for 3 s', () => {
    const t = new SlotTable(['cam-wide']);
    const s = t.of('cam-wide');
    const sender = t.fill(wide('sender'), sc, 'su');
    const receiver = t.fill(wide('receiver'), rc, 'ru');
    s.pairedKey = 'paired';
    const quiet = { path: 'direct', mediaBps: MEDIA_MIN_BPS - 1 } as const;
    // Up, no media yet: paired until 3 s have passed, then no-signal.
    for (let k = 0; k <= 3; k++) {
      sender.health.report(quiet, T + k * 1000);
      receiver.health.report(quiet, T + k * 1000);
    }
    expect(streamState(s, T + NO_SIGNAL_MS - 1)).toBe('paired');
    expect(streamState(s, T + NO_SIGNAL_MS)).toBe('no-signal');
    // Media from either side makes it connected at once, and for 3 s after its last report.
    sender.health.report({ path: 'direct', mediaBps: MEDIA_MIN_BPS }, T + 4000);
    expect(streamState(s, T + 4000)).toBe('connected');
    receiver.health.report(quiet, T + 5000);
    expect(streamState(s, T + 4000 + NO_SIGNAL_MS - 1)).toBe('connected');
    expect(streamState(s, T + 4000 + NO_SIGNAL_MS)).toBe('no-signal');
    // Reports that stop leave the path dead: paired, not no-signal.
    expect(streamState(s, T + 5000 + HEALTH_LIVE_MS + 1)).toBe('paired');
  });

  it('an agent that reports no media rate counts as media flowing (connected, as before)', () => {
    const t = new SlotTable(['cam-wide']);
    const s = t.of('cam-wide');
    const sender = t.fill(wide('sender'), sc, 'su');
    const receiver = t.fill(wide('receiver'), rc, 'ru');
    s.pairedKey = 'paired';
    for (let k = 0; k <= 5; k++) {
      sender.health.report({ path: 'relay' }, T + k * 1000);
      receiver.health.report({ path: 'relay', mediaBps: 0 }, T + k * 1000);
    }
    expect(streamState(s, T + 5000)).toBe('connected');
  });
});

describe('streamView', () => {
  it('holds the name, state, both sides and the tally mark', () => {
    const t = new SlotTable(['cam-wide']);
    t.fill(wide('receiver'), rc, 'ru');
    expect(
      streamView('cam-wide', t.of('cam-wide'), { program: [], preview: ['cam-wide'] }, T),
    ).toEqual({
      name: 'cam-wide',
      state: 'waiting',
      sender: { present: false, endpoint: false, path: null },
      receiver: { present: true, endpoint: false, path: null },
      tally: 'preview',
      takeover: null,
    });
  });
});

describe('StreamViews', () => {
  const record: SessionRecord = {
    id: 'show',
    instance: 'inst0001',
    streams: ['cam-wide', 'cam-close'],
    passphrase: 'AbCdEfGhIjKlMnOpQrStUvWxYz012345',
    pbkeylen: 24,
    latencyMs: 250,
    relay: 'auto',
    createdAt: T / 1000,
    expiresAt: T / 1000 + 1800,
    tally: noTally,
  };

  function setup(): { t: SlotTable; views: StreamViews; admin: FakeConn; closePeer: FakeConn } {
    const t = new SlotTable(record.streams);
    const admin = new FakeConn('admin', claims(null));
    const closePeer = new FakeConn('close', claims('cam-close'));
    const views = new StreamViews(
      { ...record },
      t,
      new Map([
        [admin, null],
        [closePeer, null],
      ]),
      () => T,
    );
    return { t, views, admin, closePeer };
  }

  it('publish pushes a changed view to the sockets covering the stream, and nothing when unchanged', () => {
    const { t, views, admin, closePeer } = setup();
    views.markAllPublished();
    views.publishAll();
    expect(admin.sent).toEqual([]);
    t.fill(wide('sender'), sc, 'su');
    views.publish('cam-wide');
    expect(admin.of('stream')).toEqual([{ type: 'stream', ...views.view('cam-wide', T) }]);
    expect(admin.of('stream')[0]!.state).toBe('waiting');
    expect(closePeer.sent).toEqual([]);
    views.publish('cam-wide');
    views.publishAll();
    expect(admin.sent).toHaveLength(1);
  });

  it('before markAllPublished nothing counts as sent: publishAll pushes every view once', () => {
    const { views, admin, closePeer } = setup();
    views.publishAll();
    expect(admin.of('stream').map((m) => m.name)).toEqual(['cam-wide', 'cam-close']);
    expect(closePeer.of('stream').map((m) => m.name)).toEqual(['cam-close']);
    views.publishAll();
    expect(admin.sent).toHaveLength(2);
  });
});
