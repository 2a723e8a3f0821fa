import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import type { HealthSample, SessionRecord } from '@punch/core';
import { SqliteStore } from './store.js';

let dir: string;
let file: string;
let store: SqliteStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'punch-store-'));
  file = join(dir, 'punch.db');
  store = new SqliteStore(file);
});

afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const record = (over: Partial<SessionRecord> = {}): SessionRecord => ({
  id: 'nab-floor',
  instance: 'inst0001',
  streams: ['cam-wide', 'cam-close'],
  passphrase: 'AbCdEfGhIjKlMnOpQrStUvWxYz012345',
  pbkeylen: 24,
  latencyMs: 250,
  createdAt: 1_741_234_000,
  expiresAt: 1_741_235_800,
  tally: { program: ['cam-wide'], preview: ['cam-close'] },
  ...over,
});

const sample = (
  stream: string,
  at: number,
  role: 'sender' | 'receiver' = 'sender',
): HealthSample => ({
  stream,
  role,
  at,
  stats: { path: 'direct', rttMs: at % 100, srt: { msRTT: 1.5, version: '1.5.3', ok: true } },
});

describe('sessions', () => {
  it('save/load round trip, surviving a reopen', () => {
    const a = record();
    const b = record({
      id: 'other-show',
      streams: ['main'],
      pbkeylen: 16,
      tally: { program: [], preview: [] },
    });
    store.saveSession(a);
    store.saveSession(b);
    const byId = (rs: SessionRecord[]): SessionRecord[] =>
      [...rs].sort((x, y) => x.id.localeCompare(y.id));
    expect(byId(store.loadSessions())).toEqual(byId([a, b]));

    store.close();
    store = new SqliteStore(file);
    expect(byId(store.loadSessions())).toEqual(byId([a, b]));
  });

  it('saving again updates expiry and tally in place', () => {
    store.saveSession(record());
    store.saveSession(
      record({ expiresAt: 1_741_239_999, tally: { program: ['cam-close'], preview: [] } }),
    );
    const all = store.loadSessions();
    expect(all).toHaveLength(1);
    expect(all[0]).toEqual(
      record({ expiresAt: 1_741_239_999, tally: { program: ['cam-close'], preview: [] } }),
    );
  });
});

describe('health history', () => {
  it('returns samples oldest first, the most recent `limit` of them', () => {
    for (let i = 1; i <= 10; i++) store.appendHealth('nab-floor', sample('cam-wide', 1000 + i));
    const last3 = store.healthHistory('nab-floor', null, 3);
    expect(last3.map((s) => s.at)).toEqual([1008, 1009, 1010]);
    expect(last3[2]).toEqual(sample('cam-wide', 1010));
    expect(store.healthHistory('nab-floor', null, 100).map((s) => s.at)).toEqual(
      Array.from({ length: 10 }, (_, i) => 1001 + i),
    );
  });

  it('orders by time, not by insertion, and keeps insertion order for equal times', () => {
    store.appendHealth('nab-floor', sample('cam-wide', 3000));
    store.appendHealth('nab-floor', sample('cam-wide', 1000));
    store.appendHealth('nab-floor', sample('cam-wide', 2000, 'sender'));
    store.appendHealth('nab-floor', sample('cam-wide', 2000, 'receiver'));
    expect(store.healthHistory('nab-floor', null, 10).map((s) => [s.at, s.role])).toEqual([
      [1000, 'sender'],
      [2000, 'sender'],
      [2000, 'receiver'],
      [3000, 'sender'],
    ]);
  });

  it('filters by stream and by session', () => {
    for (let i = 0; i < 6; i++) {
      store.appendHealth('nab-floor', sample(i % 2 === 0 ? 'cam-wide' : 'cam-close', 1000 + i));
    }
    store.appendHealth('other-show', sample('cam-wide', 5000));

    const wide = store.healthHistory('nab-floor', ['cam-wide'], 10);
    expect(wide.map((s) => [s.stream, s.at])).toEqual([
      ['cam-wide', 1000],
      ['cam-wide', 1002],
      ['cam-wide', 1004],
    ]);
    expect(store.healthHistory('nab-floor', ['cam-close'], 2).map((s) => s.at)).toEqual([
      1003, 1005,
    ]);
    expect(store.healthHistory('nab-floor', ['cam-wide', 'cam-close'], 10)).toHaveLength(6);
    expect(store.healthHistory('nab-floor', [], 10)).toEqual([]);
    expect(store.healthHistory('other-show', null, 10).map((s) => s.at)).toEqual([5000]);
    expect(store.healthHistory('no-such', null, 10)).toEqual([]);
  });

  it("finds a quiet stream's samples however many newer samples other streams have", () => {
    store.appendHealth('nab-floor', sample('cam-close', 1));
    for (let i = 0; i < 40; i++) store.appendHealth('nab-floor', sample('cam-wide', 100 + i));
    const got = store.healthHistory('nab-floor', ['cam-close'], 1);
    expect(got.map((x) => [x.stream, x.at])).toEqual([['cam-close', 1]]);
  });

  it('pruneHealth deletes samples older than the cut-off and says how many', () => {
    for (let i = 0; i < 5; i++) store.appendHealth('nab-floor', sample('cam-wide', 1000 * i));
    expect(store.pruneHealth(2000)).toBe(2);
    expect(store.healthHistory('nab-floor', null, 10).map((s) => s.at)).toEqual([2000, 3000, 4000]);
    expect(store.pruneHealth(2000)).toBe(0);
  });
});

describe('deleteSession', () => {
  it('removes the session and all its health rows, and nothing else', () => {
    store.saveSession(record());
    store.saveSession(record({ id: 'other-show' }));
    for (let i = 0; i < 4; i++) {
      store.appendHealth('nab-floor', sample('cam-wide', i));
      store.appendHealth('other-show', sample('cam-wide', i));
    }
    expect(store.rowCounts('nab-floor')).toEqual({ sessions: 1, health: 4 });

    store.deleteSession('nab-floor');

    expect(store.rowCounts('nab-floor')).toEqual({ sessions: 0, health: 0 });
    expect(store.rowCounts('other-show')).toEqual({ sessions: 1, health: 4 });
    expect(store.loadSessions().map((r) => r.id)).toEqual(['other-show']);
    expect(store.healthHistory('nab-floor', null, 10)).toEqual([]);

    // Gone after a reopen too.
    store.close();
    store = new SqliteStore(file);
    expect(store.rowCounts('nab-floor')).toEqual({ sessions: 0, health: 0 });
  });
});
