import { RateLimiter, type Decision, type LimitSpec } from '../ratelimit.js';

/** Auth-failure log lines: at most 20 a minute from one IP… */
export const AUTH_LOG_PER_IP: LimitSpec = { limit: 20, windowMs: 60_000 };
/** …and at most 200 a minute in all, however many IPs the failures come from. */
export const AUTH_LOG_TOTAL: LimitSpec = { limit: 200, windowMs: 60_000 };

/**
 * Bounds the auth-failure log lines (DESIGN.md "Lifetime and storage": failures are logged with
 * the IP): per IP, so one client hammering with bad tokens cannot flood the log, and in total,
 * so neither can a botnet of many IPs each staying under the per-IP bound. Failures past either
 * bound are still refused and counted (`onAuthFailure`), just not logged. A line one IP may not
 * log takes nothing from the total, so a single flooding IP never silences the others.
 *
 * @example
 * const limiter = new AuthLogLimiter();
 * if (limiter.take(ip, Date.now()).ok) log.warn({ ip, endpoint, code }, 'authentication failed');
 */
export class AuthLogLimiter extends RateLimiter {
  readonly #total: RateLimiter;

  constructor(perIp: LimitSpec = AUTH_LOG_PER_IP, total: LimitSpec = AUTH_LOG_TOTAL) {
    super(perIp);
    this.#total = new RateLimiter(total);
  }

  /** Counts one failure line from `ip` at `now` (ms): allowed only within both bounds. */
  override take(ip: string, now: number): Decision {
    const own = super.take(ip, now);
    if (!own.ok) return own;
    return this.#total.take('', now);
  }
}
