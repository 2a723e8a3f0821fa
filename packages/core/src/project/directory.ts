import { importPublicKey } from '../token/peer-token.js';
import type { KeyRecord } from './keys.js';
import type { ProjectStore } from './store.js';

/**
 * Finds project keys by `kid` for token verification, keeping imported CryptoKeys in memory
 * (importing a JWK per connection would cost more than the signature check). A deleted key is
 * forgotten at once: `forget(kid)` runs before the delete answers.
 */
export class KeyDirectory {
  readonly #store: Pick<ProjectStore, 'key'>;
  readonly #cache = new Map<string, Promise<{ record: KeyRecord; key: CryptoKey } | undefined>>();
  /** kid → the generation at which it was last forgotten. */
  readonly #forgotten = new Map<string, number>();
  #generation = 0;

  constructor(store: Pick<ProjectStore, 'key'>) {
    this.#store = store;
  }

  /**
   * The key named `kid`, or undefined when there is none.
   *
   * @example
   * const who = await verifyPeerToken(jwt, { key: (kid) => directory.find(kid), now: Date.now() });
   */
  find(kid: string): Promise<{ record: KeyRecord; key: CryptoKey } | undefined> {
    let hit = this.#cache.get(kid);
    if (hit === undefined) {
      const generation = this.#generation;
      hit = this.#load(kid).then((found) =>
        // Forgotten while loading (the key was deleted meanwhile): the answer is stale.
        this.#forgotten.get(kid) !== undefined && (this.#forgotten.get(kid) ?? 0) > generation
          ? undefined
          : found,
      );
      this.#cache.set(kid, hit);
      // Unknown kids are not cached: a flood of random kids must not grow memory. Nor are failed
      // loads (a store outage must not poison a kid). The caller gets the rejection; this
      // bookkeeping branch handles it, or it would be an unhandled rejection.
      const loading = hit;
      const drop = (): void => {
        if (this.#cache.get(kid) === loading) this.#cache.delete(kid);
      };
      loading.then((found) => {
        if (found === undefined) drop();
      }, drop);
    }
    return hit;
  }

  /**
   * Drops `kid` at once (the key was deleted): later finds go to the store, and a find already
   * loading it answers undefined.
   */
  forget(kid: string): void {
    this.#cache.delete(kid);
    this.#forgotten.set(kid, ++this.#generation);
    // Bounded: only deletions that might race a load matter; old entries can go.
    if (this.#forgotten.size > 1024) {
      const first = this.#forgotten.keys().next();
      if (first.done !== true) this.#forgotten.delete(first.value);
    }
  }

  async #load(kid: string): Promise<{ record: KeyRecord; key: CryptoKey } | undefined> {
    const record = await this.#store.key(kid);
    if (record === undefined) return undefined;
    return { record, key: await importPublicKey(record) };
  }
}
