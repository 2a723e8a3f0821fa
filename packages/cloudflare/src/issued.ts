import { SqlIssuedRelays } from '@punch/core';
import type { CloudflareTurnApi } from './cf-turn.js';
import { sqlDriver } from './sql-driver.js';

/**
 * The Cloudflare TURN usernames an object handed out, in its own SQLite (core's
 * `SqlIssuedRelays`), so they can be revoked when what they were minted for ends: a session
 * (at its close) or a project key (at its deletion; the scope is the kid). At most `cap`.
 */
export function issuedStore(storage: DurableObjectStorage, cap: number): SqlIssuedRelays {
  return new SqlIssuedRelays(sqlDriver(storage), cap);
}

/** Workers allows six connections at once per invocation: revocations go six at a time. */
const PARALLEL = 6;

/**
 * Revokes `usernames` with Cloudflare; resolves to how many the API confirmed. A failure is
 * logged by the client and the rest go on: each credential still lapses at its expiry.
 */
export async function revokeAll(api: CloudflareTurnApi, usernames: string[]): Promise<number> {
  let revoked = 0;
  for (let i = 0; i < usernames.length; i += PARALLEL) {
    const batch = usernames.slice(i, i + PARALLEL);
    const done = await Promise.all(batch.map((u) => api.revoke(u)));
    revoked += done.filter(Boolean).length;
  }
  return revoked;
}
