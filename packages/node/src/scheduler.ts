/**
 * Deadlines for many keys on one timer: a binary min-heap of (at, key) and a single unref'd
 * `setTimeout` for the earliest. Idle keys cost nothing between their deadlines, where walking
 * every key each second costs a core at scale (issue 15: 9,000 idle sessions took 67% of one).
 */

/** setTimeout's longest delay (a signed 32-bit count of ms); longer ones fire at once. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;
/**
 * The longest the timer sleeps. Deadlines are wall-clock (Date.now) while timers run on a
 * monotonic clock: waking at least hourly bounds how late a deadline is after the clock jumps.
 */
export const MAX_SLEEP_MS = 3_600_000;

export interface SchedulerOptions<K> {
  /** The key's deadline has come; it is no longer scheduled (schedule it again if needed). */
  readonly onDue: (key: K, nowMs: number) => void;
  /** Milliseconds since the epoch. Default Date.now. */
  readonly now?: () => number;
}

/**
 * Calls `onDue(key)` once at (or soon after) the deadline each key was given.
 *
 * `schedule` only ever moves a key's deadline earlier, as the Workers host does with alarms:
 * hosts call it after every event with the room's `nextTickAt()`, and most events (a health
 * report each second) move that later. Moving later would cost a heap entry each time; keeping
 * the earlier one costs one early wake, whose `onDue` finds nothing to do and schedules the
 * next deadline. Entries left behind by an earlier move are skipped when popped (lazy
 * invalidation) and dropped when they outnumber the live keys.
 *
 * @example
 * const s = new DeadlineScheduler<Room>({ onDue: (room, t) => room.tick(t) });
 * s.schedule(room, room.nextTickAt());
 */
export class DeadlineScheduler<K> {
  readonly #onDue: (key: K, nowMs: number) => void;
  readonly #now: () => number;
  /** Each scheduled key's deadline: the heap entry that matches it is the live one. */
  readonly #due = new Map<K, number>();
  /** The heap, as two parallel arrays (fewer objects for 100,000 keys). */
  #at: number[] = [];
  #keys: K[] = [];
  #timer: NodeJS.Timeout | undefined;
  /** When the armed timer fires (ms since the epoch). */
  #timerAt = Infinity;
  #closed = false;
  /** Inside #fire: keys scheduled by onDue wait for its one #arm at the end. */
  #firing = false;

  constructor(options: SchedulerOptions<K>) {
    this.#onDue = options.onDue;
    this.#now = options.now ?? Date.now;
  }

  /** Keys with a deadline. */
  get size(): number {
    return this.#due.size;
  }

  /** Heap entries, live and stale (for tests: stale ones must not pile up). */
  get entries(): number {
    return this.#at.length;
  }

  /** The key's deadline, if it has one. */
  deadlineOf(key: K): number | undefined {
    return this.#due.get(key);
  }

  /** Gives `key` the deadline `at` (ms since the epoch), unless it already has an earlier one. */
  schedule(key: K, at: number): void {
    if (this.#closed || Number.isNaN(at)) return;
    const current = this.#due.get(key);
    if (current !== undefined && current <= at) return;
    this.#due.set(key, at);
    this.#push(at, key);
    if (this.#at.length > 2 * this.#due.size + 64) this.#compact();
    if (at < this.#timerAt && !this.#firing) this.#arm();
  }

  /** Forgets `key` (its room closed): its heap entry goes stale. */
  cancel(key: K): void {
    this.#due.delete(key);
  }

  /** Stops the timer for good; later `schedule` calls do nothing. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#due.clear();
    this.#at = [];
    this.#keys = [];
  }

  /** Calls `onDue` for every key whose deadline has come, then arms the timer for the next. */
  #fire(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = this.#now();
    // Bounded: each pass pops one entry. A key that onDue schedules again at or before `now`
    // is not met again in this pass: it waits for the next timer (armed at 0 ms).
    const due: K[] = [];
    while (this.#at.length > 0 && (this.#at[0] as number) <= now) {
      const [at, key] = this.#pop();
      if (this.#due.get(key) !== at) continue;
      this.#due.delete(key);
      due.push(key);
    }
    let i = 0;
    this.#firing = true;
    try {
      for (; i < due.length && !this.#closed; i++) this.#onDue(due[i] as K, now);
    } finally {
      // When onDue throws (the error still propagates), the keys not yet called stay due.
      for (i++; i < due.length; i++) this.schedule(due[i] as K, now);
      this.#firing = false;
      this.#arm();
    }
  }

  #arm(): void {
    if (this.#closed) return;
    // Stale entries at the top would wake the timer for nothing: drop them now.
    while (this.#at.length > 0 && this.#due.get(this.#keys[0] as K) !== this.#at[0]) this.#pop();
    const next = this.#at[0];
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
    if (next === undefined) return;
    const delay = Math.min(Math.max(next - this.#now(), 0), MAX_SLEEP_MS, MAX_TIMEOUT_MS);
    this.#timerAt = next;
    this.#timer = setTimeout(() => {
      this.#fire();
    }, delay);
    // Deadlines never keep the process alive: the server's sockets do.
    this.#timer.unref();
  }

  /** Rebuilds the heap from the live deadlines, dropping stale entries. */
  #compact(): void {
    const live = [...this.#due];
    this.#at = [];
    this.#keys = [];
    for (const [key, at] of live) this.#push(at, key);
  }

  #push(at: number, key: K): void {
    const ats = this.#at;
    const keys = this.#keys;
    let i = ats.length;
    ats.push(at);
    keys.push(key);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pAt = ats[parent] as number;
      if (pAt <= at) break;
      ats[i] = pAt;
      keys[i] = keys[parent] as K;
      i = parent;
    }
    ats[i] = at;
    keys[i] = key;
  }

  #pop(): [number, K] {
    const ats = this.#at;
    const keys = this.#keys;
    const top: [number, K] = [ats[0] as number, keys[0] as K];
    const lastAt = ats.pop() as number;
    const lastKey = keys.pop() as K;
    const n = ats.length;
    if (n === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && (ats[r] as number) < (ats[l] as number) ? r : l;
      if ((ats[c] as number) >= lastAt) break;
      ats[i] = ats[c] as number;
      keys[i] = keys[c] as K;
      i = c;
    }
    ats[i] = lastAt;
    keys[i] = lastKey;
    return top;
  }
}
