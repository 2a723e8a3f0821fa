import { PunchError } from '../errors.js';
import type { PeerIdentity } from '../token/peer-token.js';

/** How long a deleted key's kid is refused at admission: covers an upgrade racing the deletion. */
export const REVOKED_MEMORY_MS = 120_000;

/**
 * The kids deleted lately, as the host that admits signalling sockets saw the deletions: a
 * socket whose token was verified just before its key was deleted is refused when it is about
 * to be admitted (after the upgrade's last await), on every host alike. Bounded: entries older
 * than `REVOKED_MEMORY_MS` go.
 *
 * @example
 * const revoked = new Revocations();
 * revoked.add(kid, Date.now()); // on key deletion
 * revoked.assertAdmissible(identity, Date.now()); // right before accepting the socket
 */
export class Revocations {
  readonly #at = new Map<string, number>();

  /** `kid` was deleted at `now` (ms). */
  add(kid: string, now: number): void {
    this.#at.delete(kid); // re-insert: the map stays in deletion order for pruning
    this.#at.set(kid, now);
    this.prune(now);
  }

  /** Throws ERR_KEY_REVOKED when the identity's key was deleted within the memory window. */
  assertAdmissible(identity: Pick<PeerIdentity, 'kid'>, now: number): void {
    const at = this.#at.get(identity.kid);
    if (at !== undefined && now - at < REVOKED_MEMORY_MS) throw new PunchError('ERR_KEY_REVOKED');
  }

  /** Forgets deletions older than the memory window. */
  prune(now: number): void {
    for (const [kid, at] of this.#at) {
      if (now - at < REVOKED_MEMORY_MS) break;
      this.#at.delete(kid);
    }
  }

  get size(): number {
    return this.#at.size;
  }
}
