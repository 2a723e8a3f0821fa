import type { PeerRole } from '../wire/common.js';

/** Names one slot: the `role` side of `stream`. */
export interface SlotRef {
  readonly stream: string;
  readonly role: PeerRole;
}

/**
 * The other side of a stream.
 *
 * @example
 * otherRole('sender'); // 'receiver'
 */
export function otherRole(role: PeerRole): PeerRole {
  return role === 'sender' ? 'receiver' : 'sender';
}

/**
 * A set of slots compared by value (two refs naming the same stream and role are one member),
 * iterated in the order they were first added.
 *
 * @example
 * const held = new SlotRefs();
 * held.add({ stream: 'cam-wide', role: 'sender' });
 * held.add({ stream: 'cam-wide', role: 'sender' });
 * held.size; // 1
 * for (const { stream, role } of held) console.log(stream, role);
 */
export class SlotRefs implements Iterable<SlotRef> {
  // Keyed by text only to compare by value: the key is never parsed back, the ref is kept.
  readonly #refs = new Map<string, SlotRef>();

  add(ref: SlotRef): void {
    // A ref added again keeps its place: Map.set on a present key does not move it.
    this.#refs.set(keyOf(ref), { stream: ref.stream, role: ref.role });
  }

  has(ref: SlotRef): boolean {
    return this.#refs.has(keyOf(ref));
  }

  delete(ref: SlotRef): boolean {
    return this.#refs.delete(keyOf(ref));
  }

  get size(): number {
    return this.#refs.size;
  }

  [Symbol.iterator](): Iterator<SlotRef> {
    return this.#refs.values();
  }
}

const keyOf = (ref: SlotRef): string => JSON.stringify([ref.stream, ref.role]);
