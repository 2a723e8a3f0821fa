/**
 * A tiny typed event emitter: `E` maps each event name to the one value its listeners get.
 * Runs everywhere (no Node `events`, no DOM `EventTarget`, whose `CustomEvent` typing is loose).
 */

export type Listener<T> = (value: T) => void;

type ListenerMap<E> = { [K in keyof E]?: Set<Listener<E[K]>> };
type PendingMap<E> = { [K in keyof E]?: E[K][] | undefined };

/** Buffered events kept per name while nobody listens. */
const MAX_PENDING = 64;

export interface EmitterOptions<E> {
  /**
   * Events kept while they have no listener and delivered (in order, in a microtask) to the
   * first one added: for events that can fire before the application could have subscribed.
   */
  readonly buffer?: readonly (keyof E)[];
}

/**
 * The event half of `Peer` and `Session`.
 *
 * @example
 * const events = new Emitter<{ tick: number }>();
 * const off = events.on('tick', (n) => console.log(n));
 * events.emit('tick', 1);
 * off();
 */
export class Emitter<E extends object> {
  #listeners: ListenerMap<E> = {};
  readonly #buffered: ReadonlySet<keyof E>;
  #pending: PendingMap<E> = {};

  constructor(options: EmitterOptions<E> = {}) {
    this.#buffered = new Set(options.buffer ?? []);
  }

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof E>(event: K, listener: Listener<E[K]>): () => void {
    let set = this.#listeners[event];
    if (set === undefined) {
      set = new Set();
      this.#listeners[event] = set;
    }
    set.add(listener);
    const pending = this.#pending[event];
    if (pending !== undefined && pending.length > 0 && set.size === 1) {
      queueMicrotask(() => {
        this.#pending[event] = undefined;
        this.#flush(event, pending);
      });
    }
    return () => {
      this.off(event, listener);
    };
  }

  /** Adds a listener called at most once; returns a function that removes it. */
  once<K extends keyof E>(event: K, listener: Listener<E[K]>): () => void {
    const off = this.on(event, (value) => {
      off();
      listener(value);
    });
    return off;
  }

  /** Removes a listener added with `on` (a listener added with `once`: use what `once` returned). */
  off<K extends keyof E>(event: K, listener: Listener<E[K]>): void {
    this.#listeners[event]?.delete(listener);
  }

  /** Number of listeners of `event`. */
  listenerCount(event: keyof E): number {
    return this.#listeners[event]?.size ?? 0;
  }

  /**
   * Calls every listener of `event` with `value`. A listener that throws does not stop the
   * others: its error is rethrown in a microtask, where the host reports it as uncaught (as a
   * DOM event listener's error is reported).
   */
  emit<K extends keyof E>(event: K, value: E[K]): void {
    const set = this.#listeners[event];
    const pending = this.#pending[event];
    if (this.#buffered.has(event) && (set === undefined || set.size === 0 || pending?.length)) {
      // Nobody listens yet, or older buffered values are still waiting: keep the order.
      const list = pending ?? [];
      if (list.length < MAX_PENDING) list.push(value);
      this.#pending[event] = list;
      return;
    }
    if (set === undefined) return;
    for (const listener of [...set]) this.#call(listener, value);
  }

  /** Drops every listener and buffered value. */
  clear(): void {
    this.#listeners = {};
    this.#pending = {};
  }

  #flush<K extends keyof E>(event: K, pending: E[K][]): void {
    for (const [i, value] of pending.entries()) {
      const set = this.#listeners[event];
      if (set === undefined || set.size === 0) {
        // Everyone unsubscribed in the meantime: keep the rest for the next listener.
        this.#pending[event] = pending.slice(i);
        return;
      }
      for (const listener of [...set]) this.#call(listener, value);
    }
  }

  #call<T>(listener: Listener<T>, value: T): void {
    try {
      listener(value);
    } catch (err) {
      queueMicrotask(() => {
        throw err;
      });
    }
  }
}
