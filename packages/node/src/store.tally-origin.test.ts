import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqlSessionStore, type SessionRecord } from '@punch/core';
import { sqliteDriver } from './store.js';

// Where tally came from (DESIGN.md "Tally from the switcher") is kept with the session, on real
// SQLite, so a restart (or a Durable Object's wake) still shows it.

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
  tally: { program: ['cam-wide'], preview: [] },
  ...over,
});

let db: Database.Database;
beforeEach(() => {
  db = new Database(':memory:');
});
afterEach(() => {
  db.close();
});
const open = (): SqlSessionStore => new SqlSessionStore(sqliteDriver(db), { indexHealth: false });

describe('tally origin in the sessions table', () => {
  it('is stored with the tally, updated in place, and read back after a reopen', () => {
    open().saveSession(record());
    expect(open().loadSessions()).toEqual([record()]);
    const origin = { source: 'vMix at 10.0.0.5:8099', at: 1_741_234_100_000 };
    open().saveSession(record({ tallyOrigin: origin }));
    expect(open().loadSessions()).toEqual([record({ tallyOrigin: origin })]);
    const byHand = { source: null, at: 1_741_234_200_000 };
    open().saveSession(record({ tally: { program: [], preview: [] }, tallyOrigin: byHand }));
    expect(open().loadSessions()[0]?.tallyOrigin).toEqual(byHand);
  });

  it('a table from before the column gets it, and its sessions load with no origin', () => {
    db.exec(`CREATE TABLE sessions (
      id TEXT PRIMARY KEY, instance TEXT NOT NULL, streams TEXT NOT NULL, passphrase TEXT NOT NULL,
      pbkeylen INTEGER NOT NULL, latency_ms INTEGER NOT NULL, created_at INTEGER NOT NULL,
      expires_at INTEGER NOT NULL, tally TEXT NOT NULL, relay TEXT NOT NULL DEFAULT 'auto',
      passphrases TEXT)`);
    db.prepare(
      `INSERT INTO sessions (id, instance, streams, passphrase, pbkeylen, latency_ms, created_at, expires_at, tally)
       VALUES ('nab-floor', 'inst0001', '["cam-wide","cam-close"]', 'AbCdEfGhIjKlMnOpQrStUvWxYz012345',
               24, 250, 1741234000, 1741235800, '{"program":["cam-wide"],"preview":[]}')`,
    ).run();
    const store = open();
    expect(store.loadSessions()).toEqual([record()]);
    const origin = { source: 'OBS at 10.0.0.7:4455', at: 1 };
    store.saveSession(record({ tallyOrigin: origin }));
    expect(open().loadSessions()[0]?.tallyOrigin).toEqual(origin);
  });

  it('an origin that does not read back is forgotten, and the session still loads', () => {
    open().saveSession(record({ tallyOrigin: { source: 'vMix at 10.0.0.5:8099', at: 1 } }));
    for (const bad of ['{"source":', '{"source":7,"at":1}']) {
      db.prepare('UPDATE sessions SET tally_origin = ?').run(bad);
      expect(open().loadSessions()).toEqual([record()]);
    }
  });
});
