import { PunchError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { RateLimiter } from '../ratelimit.js';
import type { Room } from '../session/room.js';
import type { PeerIdentity } from '../token/peer-token.js';
import {
  bearer,
  tokenFromProtocols,
  verifyToken,
  type KeyRing,
  type Verified,
} from '../token/token.js';

export interface AuthDeps {
  readonly keys: KeyRing;
  readonly now: () => number;
  readonly log: Logger;
  readonly onAuthFailure?: (code: string) => void;
  /**
   * Bounds the auth-failure log lines (a client hammering with bad tokens must not flood the
   * logs); failures past it are still refused and counted, just not logged. An `AuthLogLimiter`
   * bounds them per IP and in total; a plain `RateLimiter` per IP only.
   */
  readonly authLogLimiter?: RateLimiter;
}

/**
 * Counts an auth failure and logs it with the IP and endpoint (never the token), within
 * `authLogLimiter`'s bounds.
 *
 * @example
 * logFailure({ now: Date.now, log, authLogLimiter }, { ip, endpoint: 'GET /api/projects' }, code);
 */
export function logFailure(
  deps: Pick<AuthDeps, 'now' | 'log' | 'onAuthFailure' | 'authLogLimiter'>,
  where: { ip: string; endpoint: string },
  code: string,
): void {
  deps.onAuthFailure?.(code);
  if (deps.authLogLimiter !== undefined && !deps.authLogLimiter.take(where.ip, deps.now()).ok)
    return;
  deps.log.warn({ ip: where.ip, endpoint: where.endpoint, code }, 'authentication failed');
}

/**
 * Authenticates a request for `session` from its `Authorization` header (or, for WebSocket
 * upgrades, the `punch.token.<token>` subprotocol). Failures are logged with the client IP and
 * endpoint — the one place the seed allows an IP in the logs — and never with the token.
 */
export async function authenticate(
  deps: AuthDeps,
  headers: Headers,
  session: string | undefined,
  where: { ip: string; endpoint: string },
  allowProtocol = false,
): Promise<Verified> {
  const token =
    bearer(headers.get('authorization')) ??
    (allowProtocol ? tokenFromProtocols(headers.get('sec-websocket-protocol')) : undefined);
  try {
    if (token === undefined) throw new PunchError('ERR_UNAUTHENTICATED');
    const opts =
      session === undefined ? { now: deps.now() / 1000 } : { session, now: deps.now() / 1000 };
    return await verifyToken(deps.keys, token, opts);
  } catch (err) {
    if (err instanceof PunchError) logFailure(deps, where, err.code);
    throw err;
  }
}

/**
 * Authenticates a request for session `id` and finds its room. A token must be for this very
 * instance of the session (`sid`), not merely its name: ERR_TOKEN_WRONG_SESSION otherwise.
 */
export async function authenticateSession(
  deps: AuthDeps & { readonly rooms: { get(id: string): Room | undefined } },
  headers: Headers,
  id: string,
  where: { ip: string; endpoint: string },
  allowProtocol = false,
): Promise<Verified & { room: Room }> {
  const verified = await authenticate(deps, headers, id, where, allowProtocol);
  const room = deps.rooms.get(id);
  if (room === undefined || room.closed) throw new PunchError('ERR_SESSION_NOT_FOUND');
  if (verified.claims.sid !== room.record.instance) {
    const err = new PunchError(
      'ERR_TOKEN_WRONG_SESSION',
      'the token is for an earlier session of this name',
    );
    logFailure(deps, where, err.code);
    throw err;
  }
  return { ...verified, room };
}

/**
 * Authenticates a signalling WebSocket upgrade from its `punch.token.<jwt>` subprotocol (or an
 * `Authorization: Bearer` header, for server-side clients): a project peer token, checked by
 * `deps.verify` (verifyPeerToken with the host's key directory). Failures are logged like every auth failure, never with the token.
 */
export async function authenticatePeer(
  deps: AuthDeps & { readonly verify: (token: string) => Promise<PeerIdentity> },
  headers: Headers,
  where: { ip: string; endpoint: string },
): Promise<PeerIdentity> {
  const token =
    bearer(headers.get('authorization')) ??
    tokenFromProtocols(headers.get('sec-websocket-protocol'));
  try {
    if (token === undefined) throw new PunchError('ERR_UNAUTHENTICATED');
    return await deps.verify(token);
  } catch (err) {
    if (err instanceof PunchError) logFailure(deps, where, err.code);
    throw err;
  }
}
