/**
 * The pool of UDP ports relayed addresses are bound from (`--relay-ports LOW-HIGH`, default the
 * IANA dynamic range 49152-65535, RFC 6335). It hands out ports it believes free, starting from a
 * random point so consecutive allocations do not get guessable neighbours (RFC 8656 §7.2 asks for
 * unpredictable relayed ports); the caller binds, and releases the port when the allocation ends
 * or when the bind failed because something else holds it.
 */
export class RelayPortPool {
  readonly #low: number;
  readonly #size: number;
  readonly #taken = new Set<number>();
  #next: number;

  constructor(low: number, high: number) {
    if (!Number.isInteger(low) || !Number.isInteger(high) || low < 1 || high > 65535 || low > high)
      throw new RangeError(`relay ports: bad range ${low}-${high}`);
    this.#low = low;
    this.#size = high - low + 1;
    this.#next = Math.floor(Math.random() * this.#size);
  }

  /** Ports currently handed out. */
  get used(): number {
    return this.#taken.size;
  }

  /**
   * A port not handed out yet, marked taken; undefined when none fits. `even` asks for an even
   * port, `pair` for an even one whose next-higher port is free too, both taken (EVEN-PORT,
   * RFC 8656 §7.2: RTP on the even port, RTCP reserved on the next).
   */
  acquire(options: { even?: boolean; pair?: boolean } = {}): number | undefined {
    const even = options.even === true || options.pair === true;
    if (this.#taken.size >= this.#size) return undefined;
    for (let i = 0; i < this.#size; i++) {
      const port = this.#low + ((this.#next + i) % this.#size);
      if (this.#taken.has(port) || (even && port % 2 !== 0)) continue;
      if (options.pair === true) {
        if (port + 1 >= this.#low + this.#size || this.#taken.has(port + 1)) continue;
        this.#taken.add(port + 1);
      }
      this.#taken.add(port);
      this.#next = (this.#next + i + 1) % this.#size;
      return port;
    }
    return undefined;
  }

  /** Gives `port` back (a no-op for a port not handed out). */
  release(port: number): void {
    this.#taken.delete(port);
  }
}

/**
 * Parses `LOW-HIGH` (`--relay-ports`); undefined when it is not a valid range of ports.
 *
 * @example
 * parsePortRange('49152-65535'); // [49152, 65535]
 */
export function parsePortRange(text: string): readonly [number, number] | undefined {
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(text.trim());
  if (m === null) return undefined;
  const low = Number(m[1]);
  const high = Number(m[2]);
  return low >= 1 && high <= 65535 && low <= high ? [low, high] : undefined;
}
