import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import {
  SqlSessionStore,
  type ConnSnapshot,
  type HealthSample,
  type SessionRecord,
} from '@punch/core';
import { SqliteStore, sqliteDriver } from './store.js';

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
  relay: 'auto',
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
      relay: 'always',
      passphrases: { main: 'ZyXwVuTsRqPoNmLkJiHgFeDcBa987654' },
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

const snapshot = (over: Partial<ConnSnapshot> = {}): ConnSnapshot => ({
  claims: { session: 'nab-floor', role: 'peer', stream: 'cam-wide', exp: 1_741_235_800 },
  slots: [
    {
      stream: 'cam-wide',
      role: 'sender',
      username: 'u-1',
      public: { ip: '203.0.113.7', port: 40000 },
      local: [{ ip: '192.168.1.20', port: 40000 }],
    },
  ],
  ...over,
});

describe('socket snapshots (hibernation)', () => {
  it('save, replace, read back per session, delete', () => {
    store.saveSession(record());
    store.saveSnapshot('nab-floor', 'sock-a', snapshot());
    store.saveSnapshot('nab-floor', 'sock-b', snapshot({ slots: [] }));
    store.saveSnapshot('other-show', 'sock-a', snapshot({ slots: [] }));
    store.saveSnapshot('nab-floor', 'sock-a', snapshot({ slots: [] }));
    expect(store.snapshots('nab-floor')).toEqual(
      new Map([
        ['sock-a', snapshot({ slots: [] })],
        ['sock-b', snapshot({ slots: [] })],
      ]),
    );
    store.deleteSnapshot('nab-floor', 'sock-b');
    expect([...store.snapshots('nab-floor').keys()]).toEqual(['sock-a']);
    expect([...store.snapshots('other-show').keys()]).toEqual(['sock-a']);

    store.close();
    store = new SqliteStore(file);
    expect(store.snapshots('nab-floor').get('sock-a')).toEqual(snapshot({ slots: [] }));
  });

  it('a row that does not parse is left out, so the host closes that socket', () => {
    store.saveSnapshot('nab-floor', 'good', snapshot());
    store.close();
    const db = new Database(file);
    db.prepare(
      "INSERT INTO conns (session, id, snapshot) VALUES ('nab-floor', 'torn', '{\"cl')",
    ).run();
    db.prepare(
      `INSERT INTO conns (session, id, snapshot) VALUES ('nab-floor', 'odd', '{"claims":{}}')`,
    ).run();
    db.close();
    store = new SqliteStore(file);
    expect([...store.snapshots('nab-floor').keys()]).toEqual(['good']);
  });

  it("deleting a session deletes its sockets' rows and no other session's", () => {
    store.saveSnapshot('nab-floor', 'sock-a', snapshot());
    store.saveSnapshot('other-show', 'sock-a', snapshot());
    store.deleteSession('nab-floor');
    expect(store.snapshots('nab-floor').size).toBe(0);
    expect(store.snapshots('other-show').size).toBe(1);
  });
});

describe('schema', () => {
  it('a Node file holds many sessions, so health is indexed by session and by stream', () => {
    const db = new Database(file, { readonly: true });
    const plan = (sql: string): string =>
      db
        .prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .all('nab-floor')
        .map((r) => (r as { detail: string }).detail)
        .join('; ');
    expect(plan('SELECT * FROM health WHERE session = ? ORDER BY at')).toContain(
      'USING INDEX health_by_session',
    );
    expect(plan("SELECT * FROM health WHERE session = ? AND stream = 'x' ORDER BY at")).toContain(
      'USING INDEX health_by_stream',
    );
    db.close();
  });
});

describe('rowCounts', () => {
  it("without a session counts the whole database's rows", () => {
    store.saveSession(record());
    store.saveSession(record({ id: 'other-show' }));
    store.appendHealth('nab-floor', sample('cam-wide', 1));
    store.appendHealth('other-show', sample('cam-wide', 1));
    store.appendHealth('other-show', sample('cam-wide', 2));
    expect(store.rowCounts()).toEqual({ sessions: 2, health: 3 });
  });
});

describe('a data directory written by an earlier Node host', () => {
  // The schema punch serve wrote before the session store moved to core, verbatim.
  const OLD_NODE_SCHEMA = `
    CREATE TABLE IF NOT EXISTS sessions (
      id TEXT PRIMARY KEY,
      instance TEXT NOT NULL,
      streams TEXT NOT NULL,
      passphrase TEXT NOT NULL,
      pbkeylen INTEGER NOT NULL,
      latency_ms INTEGER NOT NULL,
      created_at INTEGER NOT NULL,
      expires_at INTEGER NOT NULL,
      tally TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS health (
      session TEXT NOT NULL,
      stream TEXT NOT NULL,
      role TEXT NOT NULL,
      at INTEGER NOT NULL,
      stats TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS health_by_session ON health (session, at);
    CREATE INDEX IF NOT EXISTS health_by_stream ON health (session, stream, at);
  `;

  it('opens with its live sessions and their health', () => {
    store.close();
    rmSync(file, { force: true });
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.exec(OLD_NODE_SCHEMA);
    db.prepare(
      `INSERT INTO sessions (id, instance, streams, passphrase, pbkeylen, latency_ms, created_at, expires_at, tally)
       VALUES ('nab-floor', 'inst0001', '["cam-wide","cam-close"]', 'AbCdEfGhIjKlMnOpQrStUvWxYz012345',
               24, 250, 1741234000, 1741235800, '{"program":["cam-wide"],"preview":["cam-close"]}')`,
    ).run();
    db.prepare('INSERT INTO health (session, stream, role, at, stats) VALUES (?, ?, ?, ?, ?)').run(
      'nab-floor',
      'cam-wide',
      'sender',
      1010,
      JSON.stringify(sample('cam-wide', 1010).stats),
    );
    db.close();

    store = new SqliteStore(file);
    expect(store.loadSessions()).toEqual([record()]);
    expect(store.healthHistory('nab-floor', ['cam-wide'], 10)).toEqual([sample('cam-wide', 1010)]);
    store.saveSession(record({ expiresAt: 1_741_239_999 }));
    expect(store.loadSessions()[0]?.expiresAt).toBe(1_741_239_999);
  });
});

describe('a Durable Object written by an earlier Workers host', () => {
  // The tables the Workers session store created in each object before it moved to core.
  const OLD_WORKERS_SCHEMA = `
    CREATE TABLE IF NOT EXISTS session (id TEXT PRIMARY KEY, record TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS health (at INTEGER NOT NULL, stream TEXT NOT NULL, role TEXT NOT NULL, stats TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS conns (id TEXT PRIMARY KEY, snapshot TEXT NOT NULL);
  `;
  let db: Database.Database;

  beforeEach(() => {
    db = new Database(':memory:');
    db.exec(OLD_WORKERS_SCHEMA);
  });

  afterEach(() => {
    db.close();
  });

  const open = (): SqlSessionStore => new SqlSessionStore(sqliteDriver(db), { indexHealth: false });
  const oldHealth = (s: HealthSample): void => {
    db.prepare('INSERT INTO health (at, stream, role, stats) VALUES (?, ?, ?, ?)').run(
      s.at,
      s.stream,
      s.role,
      JSON.stringify(s.stats),
    );
  };
  const tables = (): string[] =>
    db
      .prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'index') ORDER BY name")
      .all()
      .map((r) => (r as { name: string }).name);

  it('wakes with its session, its health in order, and its sockets; the old tables go', () => {
    db.prepare('INSERT INTO session (id, record) VALUES (?, ?)').run(
      'nab-floor',
      JSON.stringify(record()),
    );
    oldHealth(sample('cam-wide', 3000));
    oldHealth(sample('cam-close', 2000, 'sender'));
    oldHealth(sample('cam-close', 2000, 'receiver'));
    db.prepare('INSERT INTO conns (id, snapshot) VALUES (?, ?)').run(
      'sock-a',
      JSON.stringify(snapshot()),
    );

    let s = open();
    expect(s.loadSessions()).toEqual([record()]);
    expect(s.healthHistory('nab-floor', null, 10)).toEqual([
      sample('cam-close', 2000, 'sender'),
      sample('cam-close', 2000, 'receiver'),
      sample('cam-wide', 3000),
    ]);
    expect(s.snapshots('nab-floor')).toEqual(new Map([['sock-a', snapshot()]]));
    expect(s.rowCounts()).toEqual({ sessions: 1, health: 3 });
    // One session per object: no health index (each index entry is a billed row written).
    expect(tables()).toEqual([
      'conns',
      'health',
      'sessions',
      'sqlite_autoindex_conns_1',
      'sqlite_autoindex_sessions_1',
    ]);

    // Opening again finds the new schema and moves nothing twice.
    s = open();
    expect(s.rowCounts()).toEqual({ sessions: 1, health: 3 });
    s.deleteSession('nab-floor');
    expect(s.rowCounts()).toEqual({ sessions: 0, health: 0 });
    expect(s.snapshots('nab-floor').size).toBe(0);
  });

  it('an object whose session was deleted wakes empty', () => {
    const s = open();
    expect(s.loadSessions()).toEqual([]);
    expect(s.rowCounts()).toEqual({ sessions: 0, health: 0 });
    expect(tables()).not.toContain('session');
  });

  describe('an older build that runs again after the move (a rollback), then this one', () => {
    /** The move, then what the older build does at its start: `CREATE TABLE IF NOT EXISTS`. */
    const movedThenRolledBack = (): void => {
      db.prepare('INSERT INTO session (id, record) VALUES (?, ?)').run(
        'nab-floor',
        JSON.stringify(record()),
      );
      oldHealth(sample('cam-wide', 3000));
      db.prepare('INSERT INTO conns (id, snapshot) VALUES (?, ?)').run(
        'sock-a',
        JSON.stringify(snapshot()),
      );
      open();
      db.exec(OLD_WORKERS_SCHEMA);
    };

    it('keeps the live session, its health and its sockets', () => {
      movedThenRolledBack();
      const s = open();
      expect(s.loadSessions()).toEqual([record()]);
      expect(s.healthHistory('nab-floor', null, 10)).toEqual([sample('cam-wide', 3000)]);
      expect(s.snapshots('nab-floor')).toEqual(new Map([['sock-a', snapshot()]]));
      expect(tables()).not.toContain('session');
    });

    it('takes the session the older build wrote last, and opens every time', () => {
      movedThenRolledBack();
      // Meanwhile the older build extended the session: its row is the newer one.
      db.prepare('INSERT INTO session (id, record) VALUES (?, ?)').run(
        'nab-floor',
        JSON.stringify(record({ expiresAt: 1_741_239_999 })),
      );
      expect(open().loadSessions()).toEqual([record({ expiresAt: 1_741_239_999 })]);
      expect(open().loadSessions()).toEqual([record({ expiresAt: 1_741_239_999 })]);
    });
  });

  it('a migration that fails leaves the old tables as they were', () => {
    db.prepare('INSERT INTO session (id, record) VALUES (?, ?)').run(
      'nab-floor',
      JSON.stringify({ id: 'nab-floor' }),
    );
    oldHealth(sample('cam-wide', 1));
    expect(open).toThrow(/NOT NULL/);
    expect(tables()).toEqual([
      'conns',
      'health',
      'session',
      'sqlite_autoindex_conns_1',
      'sqlite_autoindex_session_1',
    ]);
    expect(db.prepare('SELECT COUNT(*) AS n FROM health').get()).toEqual({ n: 1 });
  });
});
