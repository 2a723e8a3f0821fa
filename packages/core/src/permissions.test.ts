import { describe, it, expect } from 'vitest';
import { PunchError, type ErrorCode } from './errors.js';
import { PERMISSIONS, authorize, can, coversStream, type Permission } from './permissions.js';
import type { TokenClaims } from './token/claims.js';

const EXP = 2_000_000_000;
const admin: TokenClaims = { session: 'show', role: 'admin', stream: null, exp: EXP };
const scopedPeer: TokenClaims = { session: 'show', role: 'peer', stream: 'cam-wide', exp: EXP };
const allStreamsPeer: TokenClaims = { session: 'show', role: 'peer', stream: null, exp: EXP };

/**
 * The seed's role table, copied by hand from the security spec (not derived from PERMISSIONS),
 * row by row: [row text, permission key, admin, peer].
 */
const SEED_TABLE: readonly [string, Permission, 'Yes' | 'No', 'Yes' | 'No' | 'Own stream only'][] =
  [
    ['Create session', 'session.create', 'Yes', 'No'],
    ['Close session', 'session.close', 'Yes', 'No'],
    ['Generate peer tokens', 'token.create', 'Yes', 'No'],
    ['Register as peer', 'peer.register', 'Yes', 'Own stream only'],
    ['View all stream health', 'health.view.all', 'Yes', 'No'],
    // "Yes" for a peer, but only its own stream: the row is about the stream it holds.
    ['View own stream health', 'health.view.own', 'Yes', 'Yes'],
    ['Set tally state', 'tally.set', 'Yes', 'No'],
    ['Receive tally state', 'tally.receive', 'Yes', 'Yes'],
  ];

function outcome(claims: TokenClaims, p: Permission, stream?: string): ErrorCode | 'allowed' {
  try {
    authorize(claims, p, stream);
    return 'allowed';
  } catch (err) {
    if (err instanceof PunchError) return err.code;
    throw err;
  }
}

describe('PERMISSIONS matches the seed role table', () => {
  it('has one entry per seed row, plus only the documented session.connect extra', () => {
    const keys = Object.keys(PERMISSIONS).sort();
    const expected = [...SEED_TABLE.map((r) => r[1]), 'session.connect'].sort();
    expect(keys).toEqual(expected);
  });

  it.each(SEED_TABLE)('%s: admin %s, peer %s', (_row, key, adminCell, peerCell) => {
    const entry = PERMISSIONS[key];
    expect(entry.admin).toBe(adminCell === 'Yes' ? 'yes' : 'no');
    const expectedPeer =
      peerCell === 'No'
        ? 'no'
        : peerCell === 'Own stream only' || key === 'health.view.own'
          ? 'own'
          : 'yes';
    expect(entry.peer).toBe(expectedPeer);
  });

  it('session.connect (passphrase over HTTP) is admin only, as the seed says', () => {
    expect(PERMISSIONS['session.connect']).toEqual({ admin: 'yes', peer: 'no' });
  });
});

describe('authorize', () => {
  // Expected outcomes written out from the seed, for each principal and stream argument.
  const streams = ['cam-wide', 'cam-close', undefined] as const;

  describe.each(SEED_TABLE)('%s', (_row, key, adminCell, peerCell) => {
    it('admin: allowed on every stream and without one', () => {
      expect(adminCell).toBe('Yes');
      for (const s of streams) expect(outcome(admin, key, s)).toBe('allowed');
    });

    if (peerCell === 'No') {
      it('peers (scoped or all-streams): ERR_FORBIDDEN, whatever the stream', () => {
        for (const s of streams) {
          expect(outcome(scopedPeer, key, s)).toBe('ERR_FORBIDDEN');
          expect(outcome(allStreamsPeer, key, s)).toBe('ERR_FORBIDDEN');
        }
      });
    } else if (key === 'tally.receive') {
      it('peers: allowed (tally is filtered elsewhere, not refused)', () => {
        for (const s of streams) {
          expect(outcome(scopedPeer, key, s)).toBe('allowed');
          expect(outcome(allStreamsPeer, key, s)).toBe('allowed');
        }
      });
    } else {
      it('scoped peer: own stream allowed, another stream ERR_STREAM_FORBIDDEN', () => {
        expect(outcome(scopedPeer, key, 'cam-wide')).toBe('allowed');
        expect(outcome(scopedPeer, key, 'cam-close')).toBe('ERR_STREAM_FORBIDDEN');
      });
      it('all-streams peer (stream null): allowed on every stream', () => {
        expect(outcome(allStreamsPeer, key, 'cam-wide')).toBe('allowed');
        expect(outcome(allStreamsPeer, key, 'cam-close')).toBe('allowed');
      });
      it('peers must name the stream: ERR_FORBIDDEN without one', () => {
        expect(outcome(scopedPeer, key)).toBe('ERR_FORBIDDEN');
        expect(outcome(allStreamsPeer, key)).toBe('ERR_FORBIDDEN');
      });
    }
  });

  it('refusals carry HTTP 403 and name neither a token nor a secret', () => {
    try {
      authorize(scopedPeer, 'peer.register', 'cam-close');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(PunchError);
      const e = err as PunchError;
      expect(e.code).toBe('ERR_STREAM_FORBIDDEN');
      expect(e.status).toBe(403);
      expect(e.message).toContain('cam-close');
    }
    try {
      authorize(allStreamsPeer, 'tally.set');
      expect.unreachable();
    } catch (err) {
      expect((err as PunchError).code).toBe('ERR_FORBIDDEN');
      expect((err as PunchError).status).toBe(403);
    }
  });

  it('a peer token for cam-wide cannot act on cam-close (only tally.receive is not per-stream)', () => {
    const keys = (Object.keys(PERMISSIONS) as Permission[]).filter((k) => k !== 'tally.receive');
    expect(keys).toHaveLength(8);
    for (const key of keys) {
      expect(can(scopedPeer, key, 'cam-close'), key).toBe(false);
    }
  });
});

describe('can / coversStream', () => {
  it('can() agrees with authorize()', () => {
    for (const key of Object.keys(PERMISSIONS) as Permission[]) {
      for (const c of [admin, scopedPeer, allStreamsPeer]) {
        for (const s of ['cam-wide', 'cam-close', undefined]) {
          expect(can(c, key, s), `${c.role}/${String(c.stream)} ${key} ${String(s)}`).toBe(
            outcome(c, key, s) === 'allowed',
          );
        }
      }
    }
  });

  it('coversStream: null covers all, a name covers only itself', () => {
    expect(coversStream(allStreamsPeer, 'anything')).toBe(true);
    expect(coversStream(scopedPeer, 'cam-wide')).toBe(true);
    expect(coversStream(scopedPeer, 'cam-close')).toBe(false);
    expect(coversStream(scopedPeer, 'cam-wid')).toBe(false);
  });
});
