import { beforeAll, describe, expect, it } from 'vitest';
import { KeyDirectory } from './directory.js';
import { generateProjectKey, type KeyRecord } from './keys.js';
import type { ProjectStore } from './store.js';

/** A store that knows some keys and records every lookup. */
class FakeStore implements Pick<ProjectStore, 'key'> {
  readonly calls: string[] = [];
  readonly records = new Map<string, KeyRecord>();
  /** When set, the next lookup fails with this error (once). */
  failNext: Error | undefined;

  key(kid: string): Promise<KeyRecord | undefined> {
    this.calls.push(kid);
    const fail = this.failNext;
    this.failNext = undefined;
    if (fail !== undefined) return Promise.reject(fail);
    return Promise.resolve(this.records.get(kid));
  }
}

let ed: KeyRecord;
let es: KeyRecord;

beforeAll(async () => {
  const [a, b] = await Promise.all([generateProjectKey('EdDSA'), generateProjectKey('ES256')]);
  ed = { kid: a.kid, project: 'p1', alg: a.alg, publicJwk: a.publicJwk, createdAt: 1 };
  es = { kid: b.kid, project: 'p1', alg: b.alg, publicJwk: b.publicJwk, createdAt: 2 };
});

function setup(): { store: FakeStore; dir: KeyDirectory } {
  const store = new FakeStore();
  store.records.set(ed.kid, ed);
  store.records.set(es.kid, es);
  return { store, dir: new KeyDirectory(store) };
}

describe('KeyDirectory.find', () => {
  it('returns the record with its imported public key', async () => {
    const { dir } = setup();
    for (const r of [ed, es]) {
      const found = await dir.find(r.kid);
      expect(found?.record).toBe(r);
      expect(found?.key.type).toBe('public');
      expect(found?.key.usages).toEqual(['verify']);
    }
  });

  it('caches the imported key: two finds ask the store once', async () => {
    const { store, dir } = setup();
    const a = await dir.find(ed.kid);
    const b = await dir.find(ed.kid);
    expect(store.calls).toEqual([ed.kid]);
    expect(b).toBe(a);
    expect(b?.key).toBe(a?.key);
  });

  it('shares one load between concurrent finds', async () => {
    const { store, dir } = setup();
    const [a, b] = await Promise.all([dir.find(es.kid), dir.find(es.kid)]);
    expect(store.calls).toEqual([es.kid]);
    expect(a).toBe(b);
  });

  it('caches each kid on its own', async () => {
    const { store, dir } = setup();
    await dir.find(ed.kid);
    await dir.find(es.kid);
    await dir.find(ed.kid);
    await dir.find(es.kid);
    expect(store.calls).toEqual([ed.kid, es.kid]);
  });

  it('does not cache an unknown kid: the next find asks the store again', async () => {
    const { store, dir } = setup();
    expect(await dir.find('nope')).toBeUndefined();
    expect(await dir.find('nope')).toBeUndefined();
    expect(store.calls).toEqual(['nope', 'nope']);
  });

  it('finds a key uploaded after an unknown-kid lookup', async () => {
    const { store, dir } = setup();
    store.records.delete(ed.kid);
    expect(await dir.find(ed.kid)).toBeUndefined();
    store.records.set(ed.kid, ed);
    expect((await dir.find(ed.kid))?.record).toBe(ed);
  });

  it('does not cache a failed lookup (and leaves no unhandled rejection)', async () => {
    const { store, dir } = setup();
    const boom = new Error('store unavailable');
    store.failNext = boom;
    await expect(dir.find(ed.kid)).rejects.toBe(boom);
    // Let the directory's own bookkeeping on the rejected load run.
    await new Promise((r) => setTimeout(r, 0));
    const found = await dir.find(ed.kid);
    expect(found?.record).toBe(ed);
    expect(store.calls).toEqual([ed.kid, ed.kid]);
  });
});

describe('KeyDirectory.forget', () => {
  it('makes the next find reload from the store', async () => {
    const { store, dir } = setup();
    const first = await dir.find(ed.kid);
    dir.forget(ed.kid);
    const second = await dir.find(ed.kid);
    expect(store.calls).toEqual([ed.kid, ed.kid]);
    expect(second).not.toBe(first);
    expect(second?.record).toBe(ed);
  });

  it('sees a deleted key as unknown at once', async () => {
    const { store, dir } = setup();
    expect(await dir.find(es.kid)).toBeDefined();
    store.records.delete(es.kid);
    // still cached until forgotten: the host forgets before the delete answers
    expect(await dir.find(es.kid)).toBeDefined();
    dir.forget(es.kid);
    expect(await dir.find(es.kid)).toBeUndefined();
  });

  it('only forgets the kid it is given', async () => {
    const { store, dir } = setup();
    await dir.find(ed.kid);
    await dir.find(es.kid);
    dir.forget(ed.kid);
    await dir.find(es.kid);
    expect(store.calls).toEqual([ed.kid, es.kid]);
  });

  it('is harmless for a kid never looked up', () => {
    const { dir } = setup();
    expect(() => {
      dir.forget('never');
    }).not.toThrow();
  });
});

describe('KeyDirectory revocation races', () => {
  it('a find already loading when the key is forgotten answers undefined', async () => {
    const { dir } = setup();
    const loading = dir.find(ed.kid);
    dir.forget(ed.kid);
    expect(await loading).toBeUndefined();
  });
});
