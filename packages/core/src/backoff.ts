/**
 * Reconnect delays for every Punch client (the SDK, the dashboard, `punch peer`): exponential
 * backoff with jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"). Spreading
 * reconnects over a window keeps a restarted server from being hit by every client at the same
 * instant.
 */

export interface BackoffOptions {
  /** First window, in ms (default 250). */
  readonly baseMs?: number;
  /** Largest window, in ms (default 10 000). */
  readonly capMs?: number;
  /**
   * `full`: uniformly in [0, window) — the SDK, whose many browsers must not stampede.
   * `equal`: uniformly in [window/2, window) — one person's dashboard or agent, which should
   * never retry at once after a loss (default `full`).
   */
  readonly jitter?: 'full' | 'equal';
  /** A number in [0, 1) (default Math.random). */
  readonly random?: () => number;
}

/**
 * The delay before reconnect attempt `attempt` (0 for the first), in ms: the window is
 * min(cap, base · 2^attempt).
 *
 * @example
 * backoffDelay(0); // somewhere in [0, 250)
 * backoffDelay(10); // somewhere in [0, 10 000)
 * backoffDelay(2, { baseMs: 500, jitter: 'equal' }); // somewhere in [1000, 2000)
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const base = options.baseMs ?? 250;
  const cap = options.capMs ?? 10_000;
  const random = options.random ?? Math.random;
  // 2^attempt overflows to Infinity long after the cap applies; min() keeps that harmless.
  const window = Math.min(cap, base * 2 ** Math.max(0, attempt));
  if (options.jitter === 'equal') return Math.floor(window / 2 + (random() * window) / 2);
  return Math.floor(random() * window);
}
