/**
 * One error type for the whole protocol: a closed union of string codes, and one table that maps
 * each code to its HTTP status and WebSocket close code. Clients branch on `code`, never on text.
 */

interface ErrorSpec {
  readonly status: number;
  /** WebSocket close code used when this error ends a connection (4000 + HTTP status by rule). */
  readonly close: number;
  readonly title: string;
}

export const ERRORS = {
  ERR_BAD_REQUEST: { status: 400, close: 4400, title: 'The request is malformed' },
  ERR_UNAUTHENTICATED: { status: 401, close: 4401, title: 'A bearer token is required' },
  ERR_TOKEN_MALFORMED: { status: 401, close: 4401, title: 'The token is malformed' },
  ERR_TOKEN_SIGNATURE: { status: 401, close: 4401, title: 'The token signature is not valid' },
  ERR_TOKEN_EXPIRED: { status: 401, close: 4401, title: 'The token has expired' },
  ERR_TOKEN_WRONG_SESSION: {
    status: 401,
    close: 4401,
    title: 'The token is for another session',
  },
  ERR_TOKEN_ALGORITHM: {
    status: 401,
    close: 4401,
    title: 'The token is signed with an algorithm that is not allowed',
  },
  ERR_TOKEN_LIFETIME: {
    status: 401,
    close: 4401,
    title: 'The token lives longer than allowed or was issued in the future',
  },
  ERR_ACCOUNT_KEY_INVALID: { status: 401, close: 4401, title: 'The account key is not valid' },
  ERR_KEY_UNKNOWN: { status: 401, close: 4401, title: 'The token names no known key' },
  ERR_KEY_REVOKED: {
    status: 401,
    close: 4401,
    title: 'The key that signed this token was deleted',
  },
  ERR_FORBIDDEN: { status: 403, close: 4403, title: 'The token does not allow this' },
  ERR_STREAM_FORBIDDEN: { status: 403, close: 4403, title: 'The token is for another stream' },
  ERR_ENDPOINT_MISMATCH: {
    status: 403,
    close: 4403,
    title: 'The claimed endpoint does not match the connection',
  },
  ERR_POLICY_DENIED: {
    status: 403,
    close: 4403,
    title: "Your token's policy does not allow this peer",
  },
  ERR_TOKEN_WRONG_PEER: {
    status: 403,
    close: 4403,
    title: 'The new token is for another peer',
  },
  ERR_NOT_FOUND: { status: 404, close: 4404, title: 'No such resource' },
  ERR_SESSION_NOT_FOUND: { status: 404, close: 4404, title: 'No such session' },
  ERR_STREAM_UNKNOWN: { status: 404, close: 4404, title: 'No such stream in this session' },
  ERR_PROJECT_NOT_FOUND: { status: 404, close: 4404, title: 'No such project' },
  ERR_KEY_NOT_FOUND: { status: 404, close: 4404, title: 'No such key in this project' },
  ERR_ACCOUNT_NOT_FOUND: { status: 404, close: 4404, title: 'No such account' },
  ERR_PEER_UNAVAILABLE: {
    status: 404,
    close: 4404,
    title: 'The peer is not connected or does not accept you',
  },
  ERR_SESSION_EXISTS: { status: 409, close: 4409, title: 'A session with this name exists' },
  ERR_NOT_REGISTERED: {
    status: 409,
    close: 4409,
    title: 'Register for this stream and role first',
  },
  ERR_REPLACED: {
    status: 409,
    close: 4409,
    title: 'A newer connection registered for this stream and role',
  },
  ERR_SLOT_TAKEN: {
    status: 409,
    close: 4409,
    title: 'The slot is held by a connection with a broader token',
  },
  ERR_KEY_EXISTS: { status: 409, close: 4409, title: 'This key is registered already' },
  ERR_MEMBER_EXISTS: { status: 409, close: 4409, title: 'The account is a member already' },
  ERR_ACCOUNT_EXISTS: { status: 409, close: 4409, title: 'An account with this name exists' },
  ERR_LAST_MEMBER: {
    status: 409,
    close: 4409,
    title: 'A project keeps at least one member',
  },
  ERR_SESSION_CLOSED: { status: 410, close: 4410, title: 'The session has ended' },
  ERR_PROJECT_CLOSED: { status: 410, close: 4410, title: 'The project was deleted' },
  ERR_PAYLOAD_TOO_LARGE: { status: 413, close: 1009, title: 'The message is too large' },
  ERR_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    close: 4415,
    title: 'Send application/json',
  },
  ERR_UPGRADE_REQUIRED: { status: 426, close: 4426, title: 'This is a WebSocket endpoint' },
  ERR_RATE_LIMITED: { status: 429, close: 4429, title: 'Too many requests' },
  ERR_INTERNAL: { status: 500, close: 1011, title: 'Internal error' },
  ERR_UNAVAILABLE: { status: 503, close: 1001, title: 'The server is shutting down' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

export const ERROR_CODES = Object.keys(ERRORS) as readonly ErrorCode[];

/**
 * The one error class. `code` identifies it; `status` and `closeCode` come from the table.
 *
 * @example
 * throw new PunchError('ERR_STREAM_FORBIDDEN', 'this token is for stream "cam-wide"');
 */
export class PunchError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly closeCode: number;
  /** Seconds a rate-limited client should wait (`Retry-After`). */
  readonly retryAfter: number | undefined;

  constructor(
    code: ErrorCode,
    detail?: string,
    options?: { cause?: unknown; retryAfter?: number },
  ) {
    super(
      detail ?? ERRORS[code].title,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'PunchError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.closeCode = ERRORS[code].close;
    this.retryAfter = options?.retryAfter;
  }
}

/** RFC 9457 problem details, as every HTTP error is answered. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail: string;
}

/**
 * Turns any error into the problem body sent to a client. Unknown errors become
 * ERR_INTERNAL with no detail: stack traces and messages of foreign errors never leave.
 *
 * @example
 * const body = toProblem(new PunchError('ERR_SESSION_NOT_FOUND'));
 * // { type: 'https://punch.dev/errors#ERR_SESSION_NOT_FOUND', status: 404, ... }
 */
export function toProblem(err: unknown): Problem {
  const e = err instanceof PunchError ? err : new PunchError('ERR_INTERNAL');
  return {
    type: `https://punch.dev/errors#${e.code}`,
    title: ERRORS[e.code].title,
    status: e.status,
    code: e.code,
    detail: e.message,
  };
}

/** True when `value` is one of the known error codes. */
export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERRORS, value);
}
