import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqlSignalStore, type PeerIdentity } from '@punch/core';
import { sqliteDriver } from './store.js';

// Core's signalling-room store, run on better-sqlite3 (the Workers host runs it on a Durable
// Object's SQLite through the same driver contract).

let db: Database.Database;
let store: SqlSignalStore;

beforeEach(() => {
  db = new Database(':memory:');
  store = new SqlSignalStore(sqliteDriver(db));
});

afterEach(() => {
  db.close();
});

const identity = (over: Partial<PeerIdentity> = {}): PeerIdentity => ({
  project: 'p1',
  kid: 'k1',
  group: 'studio',
  peer: 'cam-1',
  allow: [{ group: 'studio', peer: '*' }],
  expiresAt: 1_741_235_800,
  ...over,
});

describe('SqlSignalStore', () => {
  it('remembers the project it serves', () => {
    expect(store.project()).toBeUndefined();
    store.setProject('p1');
    expect(store.project()).toBe('p1');
    expect(new SqlSignalStore(sqliteDriver(db)).project()).toBe('p1');
  });

  it('stores, replaces and deletes identities by socket id', () => {
    store.saveIdentity('sock-a', identity());
    store.saveIdentity('sock-b', identity({ peer: 'cam-2' }));
    store.saveIdentity('sock-a', identity({ expiresAt: 1_741_239_999 }));
    expect(store.identities()).toEqual(
      new Map([
        ['sock-a', identity({ expiresAt: 1_741_239_999 })],
        ['sock-b', identity({ peer: 'cam-2' })],
      ]),
    );
    store.deleteIdentity('sock-b');
    expect([...store.identities().keys()]).toEqual(['sock-a']);
  });

  it('a row that does not parse is left out, so the host closes that socket', () => {
    store.saveIdentity('good', identity());
    db.prepare("INSERT INTO peers (id, identity) VALUES ('torn', '{\"proj')").run();
    db.prepare("INSERT INTO peers (id, identity) VALUES ('bad-policy', ?)").run(
      JSON.stringify(identity({ allow: [{ group: 'a**', peer: '*' }] })),
    );
    expect([...store.identities().keys()]).toEqual(['good']);
  });

  it('a deleted room forgets every identity and stays deleted', () => {
    store.setProject('p1');
    store.saveIdentity('sock-a', identity());
    expect(store.deleted()).toBe(false);
    store.markDeleted();
    expect(store.deleted()).toBe(true);
    expect(store.identities().size).toBe(0);
    expect(new SqlSignalStore(sqliteDriver(db)).deleted()).toBe(true);
  });

  it('opens the tables an earlier Workers signalling room wrote', () => {
    const old = new Database(':memory:');
    old.exec(`
      CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS peers (id TEXT PRIMARY KEY, identity TEXT NOT NULL);
    `);
    old.prepare("INSERT INTO meta (k, v) VALUES ('project', 'p1')").run();
    old
      .prepare('INSERT INTO peers (id, identity) VALUES (?, ?)')
      .run('sock-a', JSON.stringify(identity()));
    const s = new SqlSignalStore(sqliteDriver(old));
    expect(s.project()).toBe('p1');
    expect(s.identities()).toEqual(new Map([['sock-a', identity()]]));
    old.close();
  });
});
