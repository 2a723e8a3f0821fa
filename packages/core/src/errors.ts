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
  ERR_KEY_REFUSED: {
    status: 400,
    close: 4400,
    title: 'This key upload is refused (proof of possession, or a key never registered)',
  },
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
  ERR_TOKEN_AUDIENCE: {
    status: 401,
    close: 4401,
    title: 'The token has no aud, or its aud is not the project of its key',
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
    title: 'The slot is held by a live connection, or one with a broader token',
  },
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
  ERR_CAPACITY: {
    status: 503,
    close: 4503,
    title: 'The server is at capacity; retry later',
  },
  ERR_STORAGE: {
    status: 503,
    close: 4503,
    title: 'The server cannot write to its storage now; retry later',
  },
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

/** A WebSocket close code a Punch server sends (each error's `close`), or 1000/1006 (RFC 6455). */
export type CloseCode =
  (typeof ERRORS)[ErrorCode]['close'] | typeof CLOSE_NORMAL | typeof CLOSE_ABNORMAL;

/**
 * The close code for an HTTP status, by the table's rule (4000 + status): how a client reports a
 * refused upgrade, which reached it as an HTTP answer rather than a close frame.
 *
 * @example
 * closeCodeForStatus(401); // 4401, as ERR_UNAUTHENTICATED closes
 */
export function closeCodeForStatus(status: number): number {
  return 4000 + status;
}

/** RFC 6455 §7.4.1: a normal closure, sent by whichever side ends the conversation. */
export const CLOSE_NORMAL = 1000;
/** RFC 6455 §7.4.1: reported (never sent) when a close frame carried no code. */
export const CLOSE_NO_STATUS = 1005;
/** RFC 6455 §7.4.1: reported (never sent) when a connection dropped with no close frame. */
export const CLOSE_ABNORMAL = 1006;

/**
 * What a client makes of a close: `ended` (the session or project is gone: stop), `refused`
 * (the token no longer admits it: stop, or reconnect with a new token), `replaced` (another
 * connection took its place: stop), `not-found`, or `retry` (reconnect with backoff).
 */
export type CloseKind = 'normal' | 'ended' | 'refused' | 'replaced' | 'not-found' | 'retry';

export interface CloseMeaning {
  readonly kind: CloseKind;
  /** Lower-case, for a status line: "the session has ended". */
  readonly text: string;
}

/**
 * Every close code a Punch server sends, with its meaning: the one map clients read instead of
 * switching on numbers. A unit test holds it to the error table (every `close` has an entry).
 */
export const CLOSE_MEANINGS: { readonly [C in CloseCode]: CloseMeaning } = {
  [CLOSE_NORMAL]: { kind: 'normal', text: 'closed' },
  [CLOSE_ABNORMAL]: { kind: 'retry', text: 'the connection was lost' },
  1001: { kind: 'retry', text: 'the server is restarting' },
  1009: { kind: 'retry', text: 'a message was too large' },
  1011: { kind: 'retry', text: 'the server had an internal error' },
  4400: { kind: 'retry', text: 'the server refused a malformed request' },
  4401: { kind: 'refused', text: 'the token is no longer valid' },
  4403: { kind: 'refused', text: 'this token may not do that' },
  4404: { kind: 'not-found', text: 'the session or project does not exist' },
  4409: { kind: 'replaced', text: 'replaced by a newer connection' },
  4410: { kind: 'ended', text: 'the session has ended' },
  4415: { kind: 'retry', text: 'the server refused the content type' },
  4426: { kind: 'retry', text: 'the server expected a WebSocket' },
  4429: { kind: 'retry', text: 'too many messages' },
  4503: { kind: 'retry', text: 'the server is at capacity or cannot store now' },
};

/**
 * The meaning of a close code as a client saw it; an unknown code (a proxy's, a newer
 * server's) means "retry".
 *
 * @example
 * closeMeaning(4410); // { kind: 'ended', text: 'the session has ended' }
 * closeMeaning(ERRORS.ERR_REPLACED.close).kind; // 'replaced'
 */
export function closeMeaning(code: number): CloseMeaning {
  return Object.hasOwn(CLOSE_MEANINGS, code)
    ? CLOSE_MEANINGS[code as CloseCode]
    : { kind: 'retry', text: `closed (${code})` };
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
