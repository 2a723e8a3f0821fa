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
   * `equal`: uniformly in [window/2, window) — one person's dashboard, which should never
   * retry at once after a loss.
   * `narrow`: uniformly in [0.75·window, 1.25·window) — an agent beside a live encoder, which
   * should be back on the same schedule as its window says, give or take a quarter.
   * Default `full`.
   */
  readonly jitter?: 'full' | 'equal' | 'narrow';
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
 * backoffDelay(0, { baseMs: 500, jitter: 'narrow' }); // somewhere in [375, 625)
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const base = options.baseMs ?? 250;
  const cap = options.capMs ?? 10_000;
  const random = options.random ?? Math.random;
  // 2^attempt overflows to Infinity long after the cap applies; min() keeps that harmless.
  const window = Math.min(cap, base * 2 ** Math.max(0, attempt));
  switch (options.jitter) {
    case 'equal':
      return Math.floor(window / 2 + (random() * window) / 2);
    case 'narrow':
      return Math.floor(window * (0.75 + random() * 0.5));
    default:
      return Math.floor(random() * window);
  }
}
