/**
 * A token bucket (bytes): the per-allocation bandwidth cap (`--relay-max-bps`). Tokens refill at
 * `bytesPerSecond` up to one second's worth, so a short burst passes and a sustained excess is
 * dropped (UDP media rather loses a packet than queues it behind a second of delay).
 */
export class TokenBucket {
  readonly #rate: number;
  readonly #capacity: number;
  #tokens: number;
  #at: number;

  constructor(bitsPerSecond: number, now: number) {
    this.#rate = bitsPerSecond / 8 / 1000; // bytes per millisecond
    this.#capacity = bitsPerSecond / 8;
    this.#tokens = this.#capacity;
    this.#at = now;
  }

  /** Takes `bytes` if the bucket holds them (true), else takes nothing (false: drop). */
  take(bytes: number, now: number): boolean {
    if (now > this.#at) {
      this.#tokens = Math.min(this.#capacity, this.#tokens + (now - this.#at) * this.#rate);
      this.#at = now;
    }
    if (this.#tokens < bytes) return false;
    this.#tokens -= bytes;
    return true;
  }
}
