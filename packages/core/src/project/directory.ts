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
      hit = this.#load(kid);
      this.#cache.set(kid, hit);
      // Unknown kids are not cached: a flood of random kids must not grow memory.
      void hit.then((found) => {
        if (found === undefined && this.#cache.get(kid) === hit) this.#cache.delete(kid);
      });
    }
    return hit;
  }

  forget(kid: string): void {
    this.#cache.delete(kid);
  }

  async #load(kid: string): Promise<{ record: KeyRecord; key: CryptoKey } | undefined> {
    const record = await this.#store.key(kid);
    if (record === undefined) return undefined;
    return { record, key: await importPublicKey(record) };
  }
}
