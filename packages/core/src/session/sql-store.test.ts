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

const legacyMarker = (sql: string): boolean => sql.includes("name = 'session'");

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
      const { driver, ran } = recordingDriver((sql) =>
        legacy && legacyMarker(sql) ? [{ yes: 1 }] : [],
      );
      new SqlSessionStore(driver, { indexHealth: false });
      expect(ran.length).toBeGreaterThan(3);
      expect(ran.filter((r) => !r.inTransaction)).toEqual([]);
      expect(ran.some((r) => r.sql.startsWith('DROP TABLE session'))).toBe(legacy);
    }
  });

  it("moves an old Workers object's tables aside before creating the new ones", () => {
    const { driver, ran } = recordingDriver((sql) => (legacyMarker(sql) ? [{ yes: 1 }] : []));
    new SqlSessionStore(driver, { indexHealth: false });
    const at = (prefix: string): number => ran.findIndex((r) => r.sql.startsWith(prefix));
    expect(at('ALTER TABLE health RENAME')).toBeLessThan(at('CREATE TABLE IF NOT EXISTS health'));
    expect(at('ALTER TABLE conns RENAME')).toBeLessThan(at('CREATE TABLE IF NOT EXISTS conns'));
    expect(at('CREATE TABLE IF NOT EXISTS sessions')).toBeLessThan(at('INSERT INTO sessions'));
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
  };
  const storeWith = (rows: unknown[]): SqlSessionStore =>
    new SqlSessionStore(
      recordingDriver((sql) => (sql.startsWith('SELECT') && !legacyMarker(sql) ? rows : [])).driver,
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
      },
    ]);
  });

  it('a session row that does not fit throws (a session is not silently dropped)', () => {
    expect(() => storeWith([{ ...row, pbkeylen: 20 }]).loadSessions()).toThrow();
    expect(() => storeWith([{ ...row, streams: '["Not A Name"]' }]).loadSessions()).toThrow();
    expect(() => storeWith([{ ...row, tally: '{' }]).loadSessions()).toThrow();
  });

  it('health with unknown statistics throws', () => {
    const sample = { stream: 'cam-wide', role: 'sender', at: 1, stats: '{"path":"direct"}' };
    expect(storeWith([sample]).healthHistory('nab-floor', null, 1)).toHaveLength(1);
    expect(() =>
      storeWith([{ ...sample, stats: '{"bogus":1}' }]).healthHistory('nab-floor', null, 1),
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
});
