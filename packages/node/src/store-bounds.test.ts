import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  HEALTH_MAX_BYTES,
  HEALTH_THIN_AFTER_MS,
  HEALTH_THIN_INTERVAL_MS,
  type HealthSample,
  type SessionRecord,
} from '@punch/core';
import { SqliteStore } from './store.js';

// The bounds on stored health and what a deleted session leaves on disk, on real SQLite files
// (DESIGN.md "Limits, storage faults and deletion").

let dir: string;
let file: string;
let store: SqliteStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'punch-bounds-'));
  file = join(dir, 'punch.sqlite');
  store = new SqliteStore(file);
});

afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const T = 1_741_234_000_000;
const PASSPHRASE = 'Pq7RsT9uVwXyZ0aBcDeFgHiJkLmNoP12';

const record = (id: string): SessionRecord => ({
  id,
  instance: 'inst0001',
  streams: ['cam-wide'],
  passphrase: PASSPHRASE,
  passphrases: { 'cam-wide': PASSPHRASE },
  pbkeylen: 24,
  latencyMs: 250,
  relay: 'auto',
  createdAt: 1_741_234_000,
  expiresAt: 1_741_235_800,
  tally: { program: [], preview: [] },
});

/** A sample the size of the largest `srt` stats a report may carry (32 keys, 64 characters each). */
const bigSample = (stream: string, role: 'sender' | 'receiver', at: number): HealthSample => ({
  stream,
  role,
  at,
  stats: {
    path: 'direct',
    rttMs: 12,
    srt: Object.fromEntries(
      Array.from({ length: 32 }, (_, i) => [`k${String(i).padStart(63, '0')}`, 'v'.repeat(64)]),
    ),
  },
});

const rows = (session: string): { stream: string; role: string; at: number }[] =>
  new Database(file, { readonly: true })
    .prepare('SELECT stream, role, at FROM health WHERE session = ? ORDER BY at')
    .all(session) as { stream: string; role: string; at: number }[];

describe('stored health', () => {
  it('thins samples older than five minutes to one per 10 s per side', () => {
    store.saveSession(record('show'));
    const end = T + 2 * HEALTH_THIN_AFTER_MS;
    for (let at = T; at < end; at += 1_000) {
      store.appendHealth('show', { stream: 'cam-wide', role: 'sender', at, stats: {} });
      store.appendHealth('show', { stream: 'cam-wide', role: 'receiver', at, stats: {} });
    }
    const last = end - 1_000;
    const all = rows('show');
    const old = all.filter((r) => r.at < last - HEALTH_THIN_AFTER_MS - HEALTH_THIN_INTERVAL_MS);
    const recent = all.filter((r) => r.at >= last - HEALTH_THIN_AFTER_MS);
    // Recent: every sample (one a second each side); old: one per bucket per side.
    expect(recent.length).toBe(2 * (HEALTH_THIN_AFTER_MS / 1_000 + 1));
    for (const role of ['sender', 'receiver']) {
      const buckets = old
        .filter((r) => r.role === role)
        .map((r) => Math.floor(r.at / HEALTH_THIN_INTERVAL_MS));
      expect(new Set(buckets).size).toBe(buckets.length);
      expect(buckets.length).toBeGreaterThanOrEqual(
        (HEALTH_THIN_AFTER_MS / HEALTH_THIN_INTERVAL_MS) * 0.9,
      );
    }
  });

  it('keeps at most HEALTH_MAX_BYTES per session, the newest, and other sessions untouched', () => {
    store.saveSession(record('big'));
    store.saveSession(record('small'));
    store.appendHealth('small', bigSample('cam-wide', 'sender', T));
    let at = T;
    for (let i = 0; i < 1_000; i++) {
      at = T + i * 10;
      store.appendHealth(
        'big',
        bigSample(`cam-${i % 32}`, i % 2 === 0 ? 'sender' : 'receiver', at),
      );
    }
    expect(store.healthBytes('big')).toBeLessThanOrEqual(HEALTH_MAX_BYTES);
    expect(store.healthBytes('big')).toBeGreaterThan(HEALTH_MAX_BYTES / 2);
    const kept = rows('big');
    expect(kept.at(-1)?.at).toBe(at);
    expect(kept.length).toBeLessThan(1_000);
    expect(rows('small')).toHaveLength(1);

    // What is counted is what is stored: a reopened store sums the same from the rows.
    const counted = store.healthBytes('big');
    store.close();
    store = new SqliteStore(file);
    expect(store.healthBytes('big')).toBe(counted);
  });

  it('pruning and deletion keep the count right', () => {
    store.saveSession(record('show'));
    for (let i = 0; i < 10; i++) store.appendHealth('show', bigSample('cam-wide', 'sender', T + i));
    const before = store.healthBytes('show');
    store.pruneHealth(T + 5);
    expect(store.healthBytes('show')).toBeCloseTo(before / 2, -2);
    store.deleteSession('show');
    expect(store.healthBytes('show')).toBe(0);
  });
});

describe('deletion', () => {
  it("leaves no trace of a deleted session's passphrase in any file of the data directory", () => {
    store.saveSession(record('gone'));
    store.saveSession({ ...record('kept'), passphrase: 'x'.repeat(32), passphrases: {} });
    for (let i = 0; i < 50; i++) store.appendHealth('gone', bigSample('cam-wide', 'sender', T + i));
    // Another connection reads, as the projects store does on the same file.
    const reader = new Database(file, { readonly: true });
    expect(reader.prepare('SELECT COUNT(*) AS n FROM sessions').get()).toEqual({ n: 2 });
    store.deleteSession('gone');
    const needle = Buffer.from(PASSPHRASE);
    for (const f of readdirSync(dir)) {
      expect(readFileSync(join(dir, f)).includes(needle), f).toBe(false);
    }
    reader.close();
    expect(store.loadSessions().map((r) => r.id)).toEqual(['kept']);
  });

  it('sessions ending in the same turn share one checkpoint after the first, and leave nothing', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `gone-${i}`);
    for (const id of ids) store.saveSession(record(id));
    const pragma = vi.spyOn(Database.prototype, 'pragma');
    try {
      for (const id of ids) store.deleteSession(id);
      await new Promise((resolve) => setImmediate(resolve));
      const checkpoints = pragma.mock.calls.filter(([p]) => p === 'wal_checkpoint(TRUNCATE)');
      // The first at once (a DELETE answered leaves nothing), the other 19 together after it.
      expect(checkpoints).toHaveLength(2);
    } finally {
      pragma.mockRestore();
    }
    const needle = Buffer.from(PASSPHRASE);
    for (const f of readdirSync(dir)) {
      expect(readFileSync(join(dir, f)).includes(needle), f).toBe(false);
    }
  });
});
