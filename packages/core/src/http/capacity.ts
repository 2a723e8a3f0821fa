import { PunchError } from '../errors.js';

/**
 * What one process holds at most (DESIGN.md "Limits, storage faults and deletion"): live
 * sessions, open WebSockets (both realms together) and open WebSockets from one IP. Past any of
 * them a request or an upgrade gets `503 ERR_CAPACITY` with `Retry-After`.
 */
export interface CapacityLimits {
  readonly sessions: number;
  readonly sockets: number;
  readonly socketsPerIp: number;
}

/** The defaults of `punch serve --max-sessions`, `--max-sockets`, `--max-sockets-per-ip`. */
export const CAPACITY_DEFAULTS: CapacityLimits = {
  sessions: 10_000,
  sockets: 20_000,
  socketsPerIp: 200,
};

/**
 * Seconds a client is told to wait when the server is full. Capacity frees as sessions end and
 * sockets close, not at a window's edge: half a minute lets a few free up without a client
 * hammering a full server.
 */
export const CAPACITY_RETRY_AFTER_S = 30;

/** Which bound was reached (logged and counted; the client sees one and the same code). */
export type CapacityBound = 'sessions' | 'sockets' | 'sockets-per-ip';

/**
 * The error a request or upgrade gets past a capacity bound: ERR_CAPACITY (503) with
 * `Retry-After`.
 *
 * @example
 * if (rooms.size >= limits.sessions) throw capacityError('sessions');
 */
export function capacityError(bound: CapacityBound): PunchError {
  const what =
    bound === 'sessions'
      ? 'too many live sessions'
      : bound === 'sockets'
        ? 'too many open connections'
        : 'too many open connections from your address';
  return new PunchError('ERR_CAPACITY', `${what}; retry in ${CAPACITY_RETRY_AFTER_S} s`, {
    retryAfter: CAPACITY_RETRY_AFTER_S,
  });
}

/**
 * Refuses a new session's lifetime (`ttl` of `POST /api/session`) longer than the host's cap
 * (`--max-ttl`, `PUNCH_MAX_TTL`; default 24 h): a free session must not hold its place for
 * days. The answer names the cap, so a client can ask again within it. (An extension past the
 * cap is granted up to the cap instead: see the PATCH route.)
 *
 * @example
 * assertTtl(body.ttl, 86_400); // throws ERR_BAD_REQUEST for 90_000
 */
export function assertTtl(ttl: number | undefined, maxTtl: number): void {
  if (ttl === undefined || ttl <= maxTtl) return;
  throw new PunchError(
    'ERR_BAD_REQUEST',
    `ttl ${ttl} s is longer than this server allows (${maxTtl} s); extend the session later instead`,
  );
}
