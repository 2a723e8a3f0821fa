import { PunchError } from '../errors.js';
import type { Logger } from '../logger.js';
import { RateLimiter, type LimitConfig, type LimitName } from '../ratelimit.js';

/**
 * Which per-IP limit each route counts against: the seed's rate-limit table, in one place for
 * every host. The Node host applies it inside the API (and at its WebSocket upgrade); the
 * Workers host applies it at the edge, before a request wakes a Durable Object. Routes are
 * written as `METHOD /pattern`, as the logs name them.
 */
export const ROUTE_LIMITS: Readonly<Record<string, Exclude<LimitName, 'message'>>> = {
  'POST /api/session': 'create',
  'POST /api/accounts': 'create',
  'GET /api/session/:id': 'read',
  'GET /api/session/:id/connect': 'read',
  'GET /api/session/:id/health': 'read',
  // Writing and rendering routes: each signs, stores or renders something (DESIGN.md "Limits").
  'POST /api/session/:id/tokens': 'token',
  'PATCH /api/session/:id': 'write',
  'DELETE /api/session/:id': 'write',
  'PUT /api/session/:id/tally': 'write',
  'GET /api/session/:id/ws': 'connect',
  'GET /api/signal': 'connect',
};

/**
 * The limit `endpoint` counts against, if any. A HEAD counts as the GET it is answered by (Hono
 * runs the GET handler for it).
 *
 * @example
 * routeLimit('GET /api/session/:id/connect'); // 'read'
 * routeLimit('HEAD /api/session/:id/health'); // 'read'
 * routeLimit('DELETE /api/session/:id'); // 'write'
 * routeLimit('GET /healthz'); // undefined
 */
export function routeLimit(endpoint: string): Exclude<LimitName, 'message'> | undefined {
  const key = endpoint.startsWith('HEAD ') ? `GET ${endpoint.slice(5)}` : endpoint;
  return Object.hasOwn(ROUTE_LIMITS, key) ? ROUTE_LIMITS[key] : undefined;
}

export interface LimitReport {
  readonly log: Logger;
  /** Counts a refusal (the Node host's `punch_rate_limited_total`). */
  readonly onRateLimited?: ((limit: string) => void) | undefined;
}

/**
 * Counts one request from `ip` against `limiter`; past the limit, logs it (IP and endpoint, as
 * the seed asks), reports it, and throws ERR_RATE_LIMITED with the seconds to wait
 * (`Retry-After`).
 *
 * @example
 * enforceLimit(limits.read, ip, Date.now(), { endpoint: 'GET /api/session/:id', limit: 'read' }, { log });
 */
export function enforceLimit(
  limiter: RateLimiter,
  ip: string,
  now: number,
  where: { readonly endpoint: string; readonly limit: string },
  report: LimitReport,
): void {
  const d = limiter.take(ip, now);
  if (d.ok) return;
  report.onRateLimited?.(where.limit);
  report.log.warn({ ip, endpoint: where.endpoint, limit: where.limit }, 'rate limited');
  throw new PunchError('ERR_RATE_LIMITED', `too many requests; retry in ${d.retryAfter} s`, {
    retryAfter: d.retryAfter,
  });
}

/** One per-IP limiter for each limit a route counts against (every one but `message`). */
export type RouteLimiters = Readonly<Record<Exclude<LimitName, 'message'>, RateLimiter>>;

/**
 * The per-IP limiters of ROUTE_LIMITS, made from a host's limit configuration.
 *
 * @example
 * const limiters = routeLimiters({ ...RATE_LIMITS, token: { limit: 60, windowMs: 60_000 } });
 * enforceLimit(limiters.token, ip, Date.now(), where, { log });
 */
export function routeLimiters(config: LimitConfig): RouteLimiters {
  return {
    create: new RateLimiter(config.create),
    read: new RateLimiter(config.read),
    connect: new RateLimiter(config.connect),
    token: new RateLimiter(config.token),
    write: new RateLimiter(config.write),
  };
}
