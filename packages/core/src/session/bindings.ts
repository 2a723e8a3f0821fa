import type { PeerRole } from '../wire/common.js';

/** What a STUN USERNAME handed out in `registered.bind` stands for. */
export interface BindTarget {
  readonly session: string;
  readonly stream: string;
  readonly role: PeerRole;
  readonly connId: string;
}

/**
 * STUN usernames → registrations, shared by every room of a host. A Binding request whose
 * USERNAME is here records its observed source address for that registration.
 */
export class BindRegistry {
  readonly #map = new Map<string, BindTarget>();

  add(username: string, target: BindTarget): void {
    this.#map.set(username, target);
  }

  get(username: string): BindTarget | undefined {
    return this.#map.get(username);
  }

  delete(username: string): void {
    this.#map.delete(username);
  }

  get size(): number {
    return this.#map.size;
  }
}
