import { PunchError } from './errors.js';
import type { Role, TokenClaims } from './token/claims.js';

/**
 * The seed's role table, as data. `own` means: allowed for the stream(s) the token covers
 * (a peer token with `stream: null` covers every stream of its session).
 */
export type Grant = 'yes' | 'no' | 'own';

export const PERMISSIONS = {
  'session.create': { admin: 'yes', peer: 'no' },
  'session.close': { admin: 'yes', peer: 'no' },
  'token.create': { admin: 'yes', peer: 'no' },
  'peer.register': { admin: 'yes', peer: 'own' },
  'health.view.all': { admin: 'yes', peer: 'no' },
  'health.view.own': { admin: 'yes', peer: 'own' },
  'tally.set': { admin: 'yes', peer: 'no' },
  'tally.receive': { admin: 'yes', peer: 'yes' },
  // Not a row of the seed's table: the seed gives the passphrase over HTTP to admin tokens only.
  'session.connect': { admin: 'yes', peer: 'no' },
} as const satisfies Record<string, Record<Role, Grant>>;

export type Permission = keyof typeof PERMISSIONS;

/** True when the token's stream scope covers `stream`. */
export function coversStream(claims: TokenClaims, stream: string): boolean {
  return claims.stream === null || claims.stream === stream;
}

/**
 * Throws unless the token may do `permission` (on `stream`, for per-stream permissions).
 * Refusals are ERR_FORBIDDEN, or ERR_STREAM_FORBIDDEN when only the stream is wrong.
 *
 * @example
 * authorize(claims, 'peer.register', 'cam-wide');
 */
export function authorize(claims: TokenClaims, permission: Permission, stream?: string): void {
  const grant: Grant = PERMISSIONS[permission][claims.role];
  if (grant === 'yes') return;
  if (grant === 'no') {
    throw new PunchError('ERR_FORBIDDEN', `a ${claims.role} token cannot ${describe(permission)}`);
  }
  if (stream === undefined) {
    throw new PunchError('ERR_FORBIDDEN', `a ${claims.role} token must name its stream`);
  }
  if (!coversStream(claims, stream)) {
    throw new PunchError('ERR_STREAM_FORBIDDEN', `this token is not valid for stream "${stream}"`);
  }
}

/**
 * `register` (and the `endpoint`/`health` messages of a slot): the seed's "own stream only" for
 * peers, plus its "MCR receiver … scoped to all streams (read-only)": a peer token for every
 * stream may take receiver slots only, never send.
 *
 * @example
 * authorizeSlot(claims, 'cam-wide', 'sender');
 */
export function authorizeSlot(
  claims: TokenClaims,
  stream: string,
  role: 'sender' | 'receiver',
): void {
  authorize(claims, 'peer.register', stream);
  if (claims.role === 'peer' && claims.stream === null && role === 'sender') {
    throw new PunchError(
      'ERR_FORBIDDEN',
      'a peer token for every stream is read-only: it can register as receiver only',
    );
  }
}

/**
 * How broad a token is: a newer registration may replace a slot's holder only with a token at
 * least as broad (an agent reconnecting with its own token always can; a peer cannot evict an
 * admin's registration).
 */
export function scopeRank(claims: TokenClaims): number {
  if (claims.role === 'admin') return 3;
  return claims.stream === null ? 1 : 2;
}

/** True when `authorize` would pass. */
export function can(claims: TokenClaims, permission: Permission, stream?: string): boolean {
  try {
    authorize(claims, permission, stream);
    return true;
  } catch {
    // authorize's only failure is its PunchError refusal: that is the "false".
    return false;
  }
}

function describe(p: Permission): string {
  switch (p) {
    case 'session.create':
      return 'create sessions';
    case 'session.close':
      return 'change or close the session';
    case 'token.create':
      return 'create tokens';
    case 'peer.register':
      return 'register as a peer';
    case 'health.view.all':
      return 'view the health of every stream';
    case 'health.view.own':
      return 'view this stream health';
    case 'tally.set':
      return 'set tally';
    case 'tally.receive':
      return 'receive tally';
    case 'session.connect':
      return 'read the connection strings';
  }
}
