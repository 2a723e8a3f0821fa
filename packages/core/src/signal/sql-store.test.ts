import { describe, expect, it } from 'vitest';
import type { SqlDriver } from '../sql/driver.js';
import { SqlSignalStore } from './sql-store.js';

// Driver-agnostic: how rows read back are judged. The same store on real SQLite
// (better-sqlite3) is tested in packages/node/src/signal-store.test.ts.

/** A driver whose every query answers `rows`, and whose writes do nothing. */
const answering = (rows: unknown[]): SqlDriver => ({
  run: () => 0,
  all: () => rows,
  transaction: (fn) => fn(),
});

const identity = {
  project: 'p1',
  kid: 'k1',
  group: 'studio',
  peer: 'cam-1',
  allow: [{ group: 'studio', peer: '*' }],
  expiresAt: 1_741_235_800,
};

describe('identities', () => {
  it('parses each row, leaving out those that do not fit', () => {
    const store = new SqlSignalStore(
      answering([
        { id: 'good', identity: JSON.stringify(identity) },
        { id: 'torn', identity: '{"project":' },
        { id: 'no-kid', identity: JSON.stringify({ ...identity, kid: undefined }) },
        { id: 'bad-peer', identity: JSON.stringify({ ...identity, peer: 'has space' }) },
      ]),
    );
    expect(store.identities()).toEqual(new Map([['good', identity]]));
  });

  it('a row that is not a peers row throws (the table is not what this store wrote)', () => {
    expect(() => new SqlSignalStore(answering([{ id: 1 }])).identities()).toThrow();
  });
});

describe('meta', () => {
  it('reads the project from its row', () => {
    expect(new SqlSignalStore(answering([{ v: 'p1' }])).project()).toBe('p1');
    expect(new SqlSignalStore(answering([])).project()).toBeUndefined();
    expect(() => new SqlSignalStore(answering([{ v: 7 }])).project()).toThrow();
  });
});
