import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PunchError, SqlProjectStore, type AuditEvent, type Logger } from '@punch/core';
import { isStorageError, StorageHealth, storageFault } from './storage-health.js';
import { openSqlite, sqliteDriver } from './store.js';

// Storage faults on the Node host's real SQLite: a database held at its size
// (`max_page_count`) fails every growing write with SQLITE_FULL, as a full disk does, and one
// set `query_only` fails writes with SQLITE_READONLY.

/** A logger that keeps what it was told, to count lines per episode. */
function recording(): Logger & { lines: { level: string; message: string }[] } {
  const lines: { level: string; message: string }[] = [];
  const at =
    (level: string) =>
    (_fields: Record<string, unknown>, message: string): void => {
      lines.push({ level, message });
    };
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

let dir: string;
let db: Database.Database;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'punch-storage-health-'));
  db = openSqlite(join(dir, 'punch.sqlite'));
});
afterEach(() => {
  vi.useRealTimers();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Holds the database at its current size: any write that needs a new page fails. */
function full(on: boolean): void {
  const pages = Number(db.pragma('page_count', { simple: true }));
  db.pragma(`max_page_count = ${on ? pages : 1_000_000}`);
}

function event(n: number): AuditEvent {
  return {
    project: 'p1',
    at: n,
    kind: 'connect',
    // Long enough that three of them need a page of their own.
    from: { group: 'g', peer: `peer-${n}-${'x'.repeat(2000)}` },
    to: null,
    outcome: 'connected',
  };
}

describe('storageFault: which SQLite errors are storage faults', () => {
  it.each([
    ['SQLITE_FULL', 'the disk is full'],
    ['SQLITE_IOERR', 'an I/O error'],
    ['SQLITE_IOERR_WRITE', 'an I/O error'],
    ['SQLITE_IOERR_FSYNC', 'an I/O error'],
    ['SQLITE_READONLY', 'the database is read-only'],
    ['SQLITE_READONLY_DBMOVED', 'the database is read-only'],
    ['SQLITE_CANTOPEN', 'a database file cannot be opened'],
    ['SQLITE_BUSY', 'the database is locked by another process'],
    ['SQLITE_CORRUPT', 'the database file is corrupt'],
    ['SQLITE_NOTADB', 'the database file is corrupt'],
  ])('%s is one (%s)', (code, reason) => {
    expect(storageFault(new Database.SqliteError('x', code))).toEqual({ code, reason });
  });

  it.each(['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_ERROR', 'SQLITE_NOMEM', 'SQLITE_MISMATCH'])(
    '%s is not (a statement or the process, not the disk)',
    (code) => {
      expect(storageFault(new Database.SqliteError('x', code))).toBeUndefined();
    },
  );

  it('nor is an error that is not SQLite’s', () => {
    expect(storageFault(new Error('SQLITE_FULL'))).toBeUndefined();
    expect(storageFault({ code: 'SQLITE_FULL' })).toBeUndefined();
  });
});

describe('the driver maps storage faults to ERR_STORAGE, in one place', () => {
  it('a full database: ERR_STORAGE with the SqliteError as cause, one episode logged once', () => {
    const log = recording();
    const health = new StorageHealth({ log, probe: () => {} });
    const sql = sqliteDriver(db, health);
    sql.run('CREATE TABLE t (v TEXT)');
    full(true);
    const big = 'x'.repeat(8192);
    for (let i = 0; i < 3; i++) {
      let thrown: unknown;
      try {
        sql.run('INSERT INTO t (v) VALUES (?)', big);
      } catch (err) {
        thrown = err;
      }
      expect(isStorageError(thrown)).toBe(true);
      const e = thrown as PunchError;
      expect(e.status).toBe(503);
      expect(e.retryAfter).toBeGreaterThan(0);
      expect(e.cause).toBeInstanceOf(Database.SqliteError);
      expect((e.cause as { code: string }).code).toBe('SQLITE_FULL');
    }
    // A transaction's failure is mapped too, and not wrapped twice.
    let inTransaction: unknown;
    try {
      sql.transaction(() => sql.run('INSERT INTO t (v) VALUES (?)', big));
    } catch (err) {
      inTransaction = err;
    }
    expect(isStorageError(inTransaction)).toBe(true);
    expect((inTransaction as PunchError).cause).toBeInstanceOf(Database.SqliteError);
    expect(health.status()).toMatchObject({
      ok: false,
      reason: 'storage: the disk is full (SQLITE_FULL)',
    });
    expect(health.stats().failures.get('SQLITE_FULL')).toBe(4);
    expect(log.lines.filter((l) => l.message.startsWith('storage failing'))).toHaveLength(1);
    health.close();
  });

  it('a read-only database is a storage fault; a constraint is not (it stays what it was)', () => {
    const health = new StorageHealth({ log: recording(), probe: () => {} });
    const sql = sqliteDriver(db, health);
    sql.run('CREATE TABLE u (k TEXT PRIMARY KEY)');
    sql.run("INSERT INTO u (k) VALUES ('a')");
    expect(() => sql.run("INSERT INTO u (k) VALUES ('a')")).toThrow(
      expect.objectContaining({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' }),
    );
    expect(health.failing).toBe(false);
    db.pragma('query_only = ON');
    expect(() => sql.run("INSERT INTO u (k) VALUES ('b')")).toThrow(
      expect.objectContaining({ code: 'ERR_STORAGE' }),
    );
    expect(health.stats().failures.get('SQLITE_READONLY')).toBe(1);
    health.close();
  });
});

describe('StorageHealth: the probe backs off, and recovery ends the episode', () => {
  it('probes with growing delays (capped) until the probe and every retry pass', () => {
    vi.useFakeTimers();
    const log = recording();
    let disk = 'full';
    const probes: number[] = [];
    const health = new StorageHealth({
      log,
      baseMs: 100,
      capMs: 800,
      random: () => 0,
      probe: () => {
        probes.push(Date.now());
        if (disk === 'full') throw Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' });
      },
    });
    let retried = 0;
    health.retry(() => {
      retried++;
    });
    const start = Date.now();
    health.fault(new Database.SqliteError('database or disk is full', 'SQLITE_FULL'));
    // `equal` jitter with random 0: half of each window, 100·2^n capped at 800.
    vi.advanceTimersByTime(50 + 100 + 200 + 400 + 400 + 400);
    expect(probes.map((t) => t - start)).toEqual([50, 150, 350, 750, 1150, 1550]);
    expect(retried).toBe(0);
    expect(health.status().ok).toBe(false);
    disk = 'free';
    vi.advanceTimersByTime(400);
    expect(retried).toBe(1);
    expect(health.status()).toEqual({ ok: true });
    expect(log.lines.map((l) => l.message)).toEqual([
      'storage failing: writes answer 503 ERR_STORAGE until it recovers',
      'storage recovered: writes work again',
    ]);
    // Nothing more is scheduled once healthy; a new fault starts over from the first delay.
    vi.advanceTimersByTime(10_000);
    expect(probes).toHaveLength(7);
    health.fault(new Database.SqliteError('disk I/O error', 'SQLITE_IOERR_WRITE'));
    vi.advanceTimersByTime(50);
    expect(probes).toHaveLength(8);
    health.close();
  });

  it('a retry that still cannot write keeps the episode open', () => {
    vi.useFakeTimers();
    const health = new StorageHealth({ log: recording(), baseMs: 100, random: () => 0 });
    let ok = false;
    health.retry(() => {
      if (!ok) throw new PunchError('ERR_STORAGE');
    });
    health.fault(new Database.SqliteError('x', 'SQLITE_FULL'));
    vi.advanceTimersByTime(1000);
    expect(health.failing).toBe(true);
    ok = true;
    vi.advanceTimersByTime(2000);
    expect(health.failing).toBe(false);
    health.close();
  });
});

describe('buffered audit events on a full database', () => {
  it('stay buffered while writes fail, bounded (the oldest dropped and counted), then written', () => {
    const health = new StorageHealth({ log: recording(), probe: () => {} });
    const store = new SqlProjectStore(sqliteDriver(db, health), {
      maxPendingAudit: 3,
      onAuditDropped: (n) => {
        health.dropped('audit', n);
      },
    });
    full(true);
    const events = Array.from({ length: 5 }, (_, i) => event(i));
    for (const e of events.slice(0, 3)) store.appendAudit(e);
    expect(() => {
      store.flush();
    }).toThrow(expect.objectContaining({ code: 'ERR_STORAGE' }));
    expect(store.pendingAudit).toBe(3);
    store.appendAudit(events[3]!);
    store.appendAudit(events[4]!);
    expect(store.pendingAudit).toBe(3);
    expect(health.stats().dropped.get('audit')).toBe(2);
    full(false);
    store.flush();
    expect(store.pendingAudit).toBe(0);
    const peers = db
      .prepare('SELECT from_peer FROM audit ORDER BY at')
      .all()
      .map((r) => (r as { from_peer: string }).from_peer.slice(0, 6));
    expect(peers).toEqual(['peer-2', 'peer-3', 'peer-4']);
    health.close();
  });
});
