import { beforeEach, describe, it, expect } from 'vitest';
import { resetFixture, fx, adminClaims, peerClaims, join, send } from './test/room-fixture.js';

beforeEach(resetFixture);

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
});
