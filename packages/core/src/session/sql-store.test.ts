import { describe, expect, it } from 'vitest';
import type { SqlDriver, SqlValue } from '../sql/driver.js';
import { SqlSessionStore } from './sql-store.js';

// Driver-agnostic: what the store asks of any driver. The same store on real SQLite
// (better-sqlite3, old Node and Workers schemas) is tested in packages/node/src/store.test.ts.

interface Ran {
  readonly sql: string;
  readonly inTransaction: boolean;
}

/** A driver that records statements and answers queries from `answer`. */
function recordingDriver(answer: (sql: string, params: SqlValue[]) => unknown[] = () => []): {
  driver: SqlDriver;
  ran: Ran[];
} {
  const ran: Ran[] = [];
  let depth = 0;
  const driver: SqlDriver = {
    run(sql) {
      ran.push({ sql, inTransaction: depth > 0 });
      return 0;
    },
    all(sql, ...params) {
      ran.push({ sql, inTransaction: depth > 0 });
      return answer(sql, params);
    },
    transaction<T>(fn: () => T): T {
      depth++;
      try {
        return fn();
      } finally {
        depth--;
      }
    },
  };
  return { driver, ran };
}

/** What `sqlite_master` says of each table: its CREATE statement, or nothing. */
const OLD_WORKERS = {
  session: 'CREATE TABLE session (id TEXT PRIMARY KEY, record TEXT NOT NULL)',
  health:
    'CREATE TABLE health (at INTEGER NOT NULL, stream TEXT NOT NULL, role TEXT NOT NULL, stats TEXT NOT NULL)',
  conns: 'CREATE TABLE conns (id TEXT PRIMARY KEY, snapshot TEXT NOT NULL)',
};
const tables =
  (shapes: Record<string, string>) =>
  (sql: string, params: SqlValue[]): unknown[] => {
    if (!sql.includes('sqlite_master')) return [];
    const create = shapes[String(params[0])];
    return create === undefined ? [] : [{ sql: create }];
  };

describe('opening', () => {
  it('indexes health only when asked (a one-session database pays per index entry written)', () => {
    const many = recordingDriver();
    new SqlSessionStore(many.driver, { indexHealth: true });
    const indexes = many.ran.filter((r) => r.sql.startsWith('CREATE INDEX')).map((r) => r.sql);
    expect(indexes).toHaveLength(2);
    for (const sql of indexes) expect(sql).toMatch(/ON health \(session,/);

    const one = recordingDriver();
    new SqlSessionStore(one.driver, { indexHealth: false });
    expect(one.ran.filter((r) => r.sql.includes('INDEX'))).toEqual([]);
  });

  it('creates or migrates its schema in one transaction', () => {
    for (const legacy of [false, true]) {
      const { driver, ran } = recordingDriver(tables(legacy ? OLD_WORKERS : {}));
      new SqlSessionStore(driver, { indexHealth: false });
      expect(ran.length).toBeGreaterThan(3);
      expect(ran.filter((r) => !r.inTransaction)).toEqual([]);
      expect(ran.some((r) => r.sql.startsWith('DROP TABLE session'))).toBe(legacy);
    }
  });

  it("moves an old Workers object's tables aside before creating the new ones", () => {
    const { driver, ran } = recordingDriver(tables(OLD_WORKERS));
    new SqlSessionStore(driver, { indexHealth: false });
    const at = (prefix: string): number => ran.findIndex((r) => r.sql.startsWith(prefix));
    expect(at('ALTER TABLE health RENAME')).toBeGreaterThanOrEqual(0);
    expect(at('ALTER TABLE health RENAME')).toBeLessThan(at('CREATE TABLE IF NOT EXISTS health'));
    expect(at('ALTER TABLE conns RENAME')).toBeGreaterThanOrEqual(0);
    expect(at('ALTER TABLE conns RENAME')).toBeLessThan(at('CREATE TABLE IF NOT EXISTS conns'));
    expect(at('CREATE TABLE IF NOT EXISTS sessions')).toBeLessThan(
      at('INSERT OR REPLACE INTO sessions'),
    );
  });

  it('an old `session` beside new tables (an older build ran again) moves only the session rows', () => {
    const { driver, ran } = recordingDriver(
      tables({
        session: OLD_WORKERS.session,
        health: 'CREATE TABLE health (\n    session TEXT NOT NULL,\n    stream TEXT NOT NULL)',
        conns: 'CREATE TABLE conns (\n    session TEXT NOT NULL,\n    id TEXT NOT NULL)',
      }),
    );
    new SqlSessionStore(driver, { indexHealth: false });
    expect(ran.filter((r) => r.sql.startsWith('ALTER TABLE'))).toEqual([]);
    expect(ran.filter((r) => r.sql.includes('legacy_'))).toEqual([]);
    expect(ran.some((r) => r.sql.startsWith('INSERT OR REPLACE INTO sessions'))).toBe(true);
    expect(ran.some((r) => r.sql.startsWith('DROP TABLE session'))).toBe(true);
  });
});

describe('reading rows back (parse, do not cast)', () => {
  const row = {
    id: 'nab-floor',
    instance: 'inst0001',
    streams: '["cam-wide"]',
    passphrase: 'AbCdEfGhIjKlMnOpQrStUvWxYz012345',
    pbkeylen: 24,
    latency_ms: 250,
    created_at: 1_741_234_000,
    expires_at: 1_741_235_800,
    tally: '{"program":[],"preview":[]}',
    relay: 'auto',
  };
  const storeWith = (rows: unknown[]): SqlSessionStore =>
    new SqlSessionStore(
      recordingDriver((sql) =>
        sql.startsWith('SELECT') && !sql.includes('sqlite_master') ? rows : [],
      ).driver,
      { indexHealth: false },
    );

  it('a session row becomes a record', () => {
    expect(storeWith([row]).loadSessions()).toEqual([
      {
        id: 'nab-floor',
        instance: 'inst0001',
        streams: ['cam-wide'],
        passphrase: 'AbCdEfGhIjKlMnOpQrStUvWxYz012345',
        pbkeylen: 24,
        latencyMs: 250,
        createdAt: 1_741_234_000,
        expiresAt: 1_741_235_800,
        tally: { program: [], preview: [] },
        relay: 'auto',
      },
    ]);
  });

  it('a session row that does not fit throws (a session is not silently dropped)', () => {
    expect(() => storeWith([{ ...row, pbkeylen: 20 }]).loadSessions()).toThrow();
    expect(() => storeWith([{ ...row, streams: '["Not A Name"]' }]).loadSessions()).toThrow();
    expect(() => storeWith([{ ...row, tally: '{' }]).loadSessions()).toThrow();
  });

  it('health: statistics it does not know (a newer version wrote them) are dropped; bad ones throw', () => {
    const sample = { stream: 'cam-wide', role: 'sender', at: 1, stats: '{"path":"direct"}' };
    expect(storeWith([sample]).healthHistory('nab-floor', null, 1)).toHaveLength(1);
    const newer = { ...sample, stats: '{"path":"relay","bogus":1}' };
    expect(storeWith([newer]).healthHistory('nab-floor', null, 1)[0]?.stats).toEqual({
      path: 'relay',
    });
    expect(() =>
      storeWith([{ ...sample, stats: '{"lossPct":150}' }]).healthHistory('nab-floor', null, 1),
    ).toThrow();
  });

  it('a socket snapshot that does not fit is left out', () => {
    const claims = { session: 'nab-floor', role: 'admin', stream: null, exp: 1 };
    const store = storeWith([
      { id: 'good', snapshot: JSON.stringify({ claims, slots: [] }) },
      { id: 'torn', snapshot: '{"claims"' },
      { id: 'odd', snapshot: JSON.stringify({ claims: { ...claims, role: 'root' }, slots: [] }) },
    ]);
    expect([...store.snapshots('nab-floor').keys()]).toEqual(['good']);
  });

  it("a socket snapshot keeps its stream's takeover record", () => {
    const claims = { session: 'nab-floor', role: 'admin', stream: null, exp: 1 };
    const takeover = { role: 'sender', at: 1_741_234_000_000, by: 'peer' };
    const slot = { stream: 'cam-wide', role: 'sender', username: 'u', public: null, local: [] };
    const store = storeWith([
      { id: 'c', snapshot: JSON.stringify({ claims, slots: [{ ...slot, takeover }] }) },
    ]);
    expect(store.snapshots('nab-floor').get('c')?.slots[0]?.takeover).toEqual(takeover);
  });
});
