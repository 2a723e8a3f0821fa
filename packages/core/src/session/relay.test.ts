import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { SqlDriver, SqlValue } from '../sql/driver.js';
import { SqlIssuedRelays } from './relay.js';

// On real SQLite (better-sqlite3, as the Node host's driver); the Workers host runs the same
// class over its Durable Object's SQLite in tests/workerd/turn.test.ts.
const open: Database.Database[] = [];
afterEach(() => {
  for (const db of open.splice(0)) db.close();
});

function driver(): SqlDriver {
  const db = new Database(':memory:');
  open.push(db);
  return {
    run: (sql: string, ...params: SqlValue[]) => db.prepare(sql).run(...params).changes,
    all: (sql: string, ...params: SqlValue[]) => db.prepare(sql).all(...params),
    transaction: <T>(fn: () => T): T => db.transaction(fn)(),
  };
}

const NOW = 1_767_225_600_000;
const S = NOW / 1000;

describe('SqlIssuedRelays', () => {
  it('takes a scope’s unexpired usernames once, leaving other scopes', () => {
    const issued = new SqlIssuedRelays(driver(), 10);
    issued.remember('a1', 'kid-a', S + 60, NOW);
    issued.remember('a2', 'kid-a', S + 120, NOW);
    issued.remember('b1', 'kid-b', S + 60, NOW);
    expect(issued.take('kid-a', NOW).sort()).toEqual(['a1', 'a2']);
    expect(issued.take('kid-a', NOW)).toEqual([]);
    expect(issued.take(undefined, NOW)).toEqual(['b1']);
    expect(issued.count()).toBe(0);
  });

  it('forgets expired usernames: not returned, and pruned at the next write', () => {
    const issued = new SqlIssuedRelays(driver(), 10);
    issued.remember('old', 'session', S + 10, NOW);
    issued.remember('new', 'session', S + 100, NOW);
    const later = NOW + 50_000;
    issued.remember('newer', 'session', S + 200, later);
    expect(issued.count()).toBe(2);
    expect(issued.take('session', later).sort()).toEqual(['new', 'newer']);
  });

  it('holds at most `cap`, forgetting the soonest to expire', () => {
    const issued = new SqlIssuedRelays(driver(), 3);
    for (let i = 0; i < 5; i++) issued.remember(`u${i}`, 'session', S + 100 - i, NOW);
    expect(issued.count()).toBe(3);
    expect(issued.take('session', NOW).sort()).toEqual(['u0', 'u1', 'u2']);
  });
});
