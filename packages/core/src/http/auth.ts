import { PunchError } from '../errors.js';
import type { Logger } from '../logger.js';
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
    if (err instanceof PunchError) {
      deps.log.warn(
        { ip: where.ip, endpoint: where.endpoint, code: err.code },
        'authentication failed',
      );
      deps.onAuthFailure?.(err.code);
    }
    throw err;
  }
}
