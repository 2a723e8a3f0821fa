/**
 * The seed's four rate limits, as pure logic over an injected clock. Fixed windows per key
 * (an IP, or a connection): simple, O(1), and what a `Retry-After` can be computed from.
 */

export interface LimitSpec {
  readonly limit: number;
  readonly windowMs: number;
}

export const RATE_LIMITS = {
  /** POST /api/session: 10 per minute per IP. */
  create: { limit: 10, windowMs: 60_000 },
  /** GET /api/session/:id (and the other reads): 60 per minute per IP. */
  read: { limit: 60, windowMs: 60_000 },
  /** WebSocket connects: 20 per minute per IP. */
  connect: { limit: 20, windowMs: 60_000 },
  /**
   * POST /api/session/:id/tokens: 60 per minute per IP. Each one signs a token and renders a QR
   * code, the costliest answer the API gives (an unlimited flood saturated a core); a dashboard
   * asks for one per stream panel it opens, so this leaves room for a producer's 32 streams.
   */
  token: { limit: 60, windowMs: 60_000 },
  /** PATCH and DELETE /api/session/:id, PUT /api/session/:id/tally: 120 per minute per IP. */
  write: { limit: 120, windowMs: 60_000 },
  /** WebSocket messages: 100 per second per connection. */
  message: { limit: 100, windowMs: 1_000 },
} as const satisfies Record<string, LimitSpec>;

export type LimitName = keyof typeof RATE_LIMITS;
export type LimitConfig = Record<LimitName, LimitSpec>;

export type Decision = { readonly ok: true } | { readonly ok: false; readonly retryAfter: number };

interface Window {
  start: number;
  count: number;
}

/**
 * A fixed-window counter keyed by string. Memory stays bounded: expired windows are swept
 * when the table grows.
 *
 * @example
 * const limiter = new RateLimiter({ limit: 10, windowMs: 60_000 });
 * const d = limiter.take('203.0.113.9', Date.now());
 * if (!d.ok) respond429(d.retryAfter);
 */
export class RateLimiter {
  readonly spec: LimitSpec;
  readonly #windows = new Map<string, Window>();
  #sweepAt = 1024;

  constructor(spec: LimitSpec) {
    this.spec = spec;
  }

  /** Counts one event for `key` at time `now` (ms) and says whether it is allowed. */
  take(key: string, now: number): Decision {
    let w = this.#windows.get(key);
    if (w === undefined || now - w.start >= this.spec.windowMs) {
      if (this.#windows.size >= this.#sweepAt) this.#sweep(now);
      w = { start: now, count: 0 };
      this.#windows.set(key, w);
    }
    w.count++;
    if (w.count <= this.spec.limit) return { ok: true };
    return {
      ok: false,
      retryAfter: Math.max(1, Math.ceil((w.start + this.spec.windowMs - now) / 1000)),
    };
  }

  /** Number of keys currently tracked (for tests and metrics). */
  get size(): number {
    return this.#windows.size;
  }

  #sweep(now: number): void {
    for (const [k, w] of this.#windows) {
      if (now - w.start >= this.spec.windowMs) this.#windows.delete(k);
    }
    this.#sweepAt = Math.max(1024, this.#windows.size * 2);
  }
}

/**
 * The message limiter for one WebSocket connection: over the limit, messages are dropped with
 * one `error` per window; a client that keeps flooding at twice the limit is disconnected.
 */
export class MessageLimiter {
  readonly #spec: LimitSpec;
  #start = Number.NEGATIVE_INFINITY;
  #count = 0;
  #warned = false;

  constructor(spec: LimitSpec) {
    this.#spec = spec;
  }

  /** `ok`: process it; `drop`: drop silently; `warn`: drop and tell the client; `close`: disconnect. */
  take(now: number): 'ok' | 'warn' | 'drop' | 'close' {
    if (now - this.#start >= this.#spec.windowMs) {
      this.#start = now;
      this.#count = 0;
      this.#warned = false;
    }
    this.#count++;
    if (this.#count <= this.#spec.limit) return 'ok';
    if (this.#count > this.#spec.limit * 2) return 'close';
    if (!this.#warned) {
      this.#warned = true;
      return 'warn';
    }
    return 'drop';
  }
}

const LIMIT_NAMES = Object.keys(RATE_LIMITS) as readonly LimitName[];

function isLimitName(name: string): name is LimitName {
  return Object.hasOwn(RATE_LIMITS, name);
}

/**
 * Parses `name=limit` or `name=limit/windowSeconds` overrides (CLI `--rate-limit`,
 * `PUNCH_RATE_LIMITS` on Workers).
 *
 * @example
 * parseLimitOverride('token=60/60'); // ['token', { limit: 60, windowMs: 60_000 }]
 */
export function parseLimitOverride(text: string): [LimitName, LimitSpec] {
  const m = /^([a-z]+)=(\d+)(?:\/(\d+(?:\.\d+)?))?$/.exec(text);
  const name = m?.[1] ?? '';
  if (m === null || !isLimitName(name)) {
    throw new RangeError(
      `bad rate limit "${text}": use NAME=N or NAME=N/SECONDS, NAME one of ${LIMIT_NAMES.join(', ')}`,
    );
  }
  const windowMs = m[3] === undefined ? RATE_LIMITS[name].windowMs : Number(m[3]) * 1000;
  return [name, { limit: Number(m[2]), windowMs }];
}
