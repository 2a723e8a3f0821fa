import { beforeEach, describe, it, expect } from 'vitest';
import {
  resetFixture,
  fx,
  adminClaims,
  peerClaims,
  join,
  send,
  T0,
  makeRoom,
} from './test/room-fixture.js';

beforeEach(resetFixture);

describe('tally', () => {
  it('set by an admin: stored, and pushed to everyone filtered per token', () => {
    const admin = join(adminClaims());
    const wide = join(peerClaims('cam-wide'));
    const close = join(peerClaims('cam-close'));
    const all = join(peerClaims(null));
    send(admin, { type: 'tally', program: ['cam-wide'], preview: ['cam-close'] });

    expect(admin.of('tally')).toEqual([
      {
        type: 'tally',
        program: ['cam-wide'],
        preview: ['cam-close'],
        origin: { source: null, at: T0 },
      },
    ]);
    expect(all.of('tally')).toEqual([
      { type: 'tally', program: ['cam-wide'], preview: ['cam-close'] },
    ]);
    expect(wide.of('tally')).toEqual([{ type: 'tally', program: ['cam-wide'], preview: [] }]);
    expect(close.of('tally')).toEqual([{ type: 'tally', program: [], preview: ['cam-close'] }]);
    expect(fx.room.record.tally).toEqual({ program: ['cam-wide'], preview: ['cam-close'] });
    expect(fx.store.saved.at(-1)?.tally).toEqual({ program: ['cam-wide'], preview: ['cam-close'] });
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
    expect(fx.room.record.tally).toEqual({ program: [], preview: [] });
    expect(fx.store.saved).toEqual([]);
  });

  it('naming an unknown stream: ERR_STREAM_UNKNOWN, nothing changes', () => {
    const admin = join(adminClaims());
    send(admin, { type: 'tally', program: ['cam-nope'], preview: [] });
    expect(admin.errors()).toEqual(['ERR_STREAM_UNKNOWN']);
    expect(fx.room.record.tally).toEqual({ program: [], preview: [] });
  });

  it('records who set it and when; admins see it everywhere, peers nowhere', () => {
    const admin = join(adminClaims());
    const all = join(peerClaims(null));
    const source = 'vMix at 10.0.0.5:8099';
    send(admin, { type: 'tally', program: ['cam-wide'], preview: [], source });
    const origin = { source, at: T0 };

    expect(admin.of('tally').at(-1)).toMatchObject({ origin });
    expect(all.of('tally')).toEqual([{ type: 'tally', program: ['cam-wide'], preview: [] }]);
    expect(fx.room.record.tallyOrigin).toEqual(origin);
    expect(fx.store.saved.at(-1)?.tallyOrigin).toEqual(origin);
    expect(fx.room.view(adminClaims()).tallyOrigin).toEqual(origin);
    for (const claims of [peerClaims(null), peerClaims('cam-wide')]) {
      expect(JSON.stringify(fx.room.view(claims))).not.toContain('10.0.0.5');
      expect(join(claims).of('welcome')[0]).not.toHaveProperty('tallyOrigin');
    }
    expect(join(adminClaims()).of('welcome')[0]).toMatchObject({ tallyOrigin: origin });
  });

  it('a source in any script is taken, marks and all', () => {
    const admin = join(adminClaims());
    // Decomposed Vietnamese (two marks on one letter), Devanagari, Thai, Arabic, an emoji.
    const good = ['Cam\u00E9ra e\u0323\u0302', 'कैमरा 1', 'กล้อง 2', 'كاميرا', 'vMix 🎬'];
    for (const source of good) {
      send(admin, { type: 'tally', program: ['cam-wide'], preview: [], source });
      expect(fx.room.record.tallyOrigin?.source).toBe(source);
    }
    expect(admin.errors()).toEqual([]);
  });

  it('last writer wins: a set without a source is by hand', () => {
    const admin = join(adminClaims());
    send(admin, { type: 'tally', program: ['cam-wide'], preview: [], source: 'OBS at 10.0.0.7' });
    fx.clock += 2000;
    fx.room.setTally({ program: [], preview: ['cam-wide'] });
    expect(fx.room.record.tallyOrigin).toEqual({ source: null, at: T0 + 2000 });
    expect(admin.of('tally').at(-1)).toMatchObject({ origin: { source: null, at: T0 + 2000 } });
  });

  it('a bad source: ERR_BAD_REQUEST, nothing changes', () => {
    const admin = join(adminClaims());
    // Empty, edge spaces, a bidi override, a line break, too long, not a string; three that
    // render as nothing: a Hangul filler, a letter with a run of variation selectors, a braille
    // blank; and marks that belong to no letter or stack over the lines around.
    const bad = [
      '',
      ' lead',
      'a\u202Eb',
      'line\nbreak',
      'x'.repeat(81),
      7,
      '\u3164',
      'a\uFE0F\uFE0F',
      '\u2800',
      'cam \u2800',
      '\u0301',
      'cam \u0301x',
      `a${'\u0301'.repeat(5)}`,
    ];
    for (const source of bad) {
      send(admin, { type: 'tally', program: ['cam-wide'], preview: [], source });
    }
    expect(admin.errors()).toEqual(Array(bad.length).fill('ERR_BAD_REQUEST'));
    expect(fx.room.record.tallyOrigin).toBeUndefined();
  });

  it('a room built from a stored record shows the stored origin to admins', () => {
    const origin = { source: 'TSL 5.0 on udp *:8900', at: T0 - 5000 };
    fx.room = makeRoom({ tallyOrigin: origin });
    expect(join(adminClaims()).of('welcome')[0]).toMatchObject({ tallyOrigin: origin });
    expect(fx.room.view(peerClaims(null))).not.toHaveProperty('tallyOrigin');
  });
});
