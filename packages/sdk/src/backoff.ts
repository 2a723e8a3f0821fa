/**
 * Reconnect delays: exponential backoff with "full jitter" (AWS Architecture Blog, "Exponential
 * Backoff And Jitter"): a uniformly random delay in [0, min(cap, base · 2^attempt)). Spreading
 * reconnects over the whole window keeps a restarted server from being hit by every client at
 * the same instant.
 */

export interface BackoffOptions {
  /** First window, in ms (default 250). */
  readonly baseMs?: number;
  /** Largest window, in ms (default 10 000). */
  readonly capMs?: number;
  /** A number in [0, 1) (default Math.random). */
  readonly random?: () => number;
}

/**
 * The delay before reconnect attempt `attempt` (0 for the first), in ms.
 *
 * @example
 * backoffDelay(0); // somewhere in [0, 250)
 * backoffDelay(10); // somewhere in [0, 10 000)
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const base = options.baseMs ?? 250;
  const cap = options.capMs ?? 10_000;
  const random = options.random ?? Math.random;
  // 2^attempt overflows to Infinity long after the cap applies; min() keeps that harmless.
  const window = Math.min(cap, base * 2 ** Math.max(0, attempt));
  return Math.floor(random() * window);
}
