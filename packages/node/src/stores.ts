import type { Logger } from '@punch/core';
import { SqliteProjectStore } from './project-store.js';
import { StorageHealth } from './storage-health.js';
import { SqliteStore } from './store.js';

export type { SqliteProjectStore, SqliteStore, StorageHealth };

/**
 * The server's stores over the one SQLite file, sharing one `StorageHealth`: a fault seen by
 * either fails `/healthz`, and its probe retries both stores' background writes.
 *
 * @example
 * const { store, projects, storage } = openStores(join(dataDir, 'punch.sqlite'), dataDir, log);
 */
export function openStores(
  file: string,
  dir: string,
  log: Logger,
): { store: SqliteStore; projects: SqliteProjectStore; storage: StorageHealth } {
  const storage = new StorageHealth({ log, dir });
  return {
    store: new SqliteStore(file, storage),
    projects: new SqliteProjectStore(file, storage),
    storage,
  };
}
