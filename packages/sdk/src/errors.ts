/**
 * Errors the SDK reports: one class, identified by `code` (a closed union), never by its text.
 * Server codes are Punch's own (`docs/errors.md`); the SDK adds a few for what happens on the
 * client side only.
 */

/** Every code a Punch server may send (kept equal to `@punch/core`'s table by a unit test). */
export const SERVER_ERROR_CODES = [
  'ERR_BAD_REQUEST',
  'ERR_KEY_REFUSED',
  'ERR_UNAUTHENTICATED',
  'ERR_TOKEN_MALFORMED',
  'ERR_TOKEN_SIGNATURE',
  'ERR_TOKEN_EXPIRED',
  'ERR_TOKEN_WRONG_SESSION',
  'ERR_TOKEN_ALGORITHM',
  'ERR_TOKEN_LIFETIME',
  'ERR_TOKEN_AUDIENCE',
  'ERR_ACCOUNT_KEY_INVALID',
  'ERR_KEY_UNKNOWN',
  'ERR_KEY_REVOKED',
  'ERR_FORBIDDEN',
  'ERR_STREAM_FORBIDDEN',
  'ERR_ENDPOINT_MISMATCH',
  'ERR_POLICY_DENIED',
  'ERR_TOKEN_WRONG_PEER',
  'ERR_NOT_FOUND',
  'ERR_SESSION_NOT_FOUND',
  'ERR_STREAM_UNKNOWN',
  'ERR_PROJECT_NOT_FOUND',
  'ERR_KEY_NOT_FOUND',
  'ERR_ACCOUNT_NOT_FOUND',
  'ERR_PEER_UNAVAILABLE',
  'ERR_SESSION_EXISTS',
  'ERR_NOT_REGISTERED',
  'ERR_REPLACED',
  'ERR_SLOT_TAKEN',
  'ERR_MEMBER_EXISTS',
  'ERR_ACCOUNT_EXISTS',
  'ERR_LAST_MEMBER',
  'ERR_SESSION_CLOSED',
  'ERR_PROJECT_CLOSED',
  'ERR_PAYLOAD_TOO_LARGE',
  'ERR_UNSUPPORTED_MEDIA_TYPE',
  'ERR_UPGRADE_REQUIRED',
  'ERR_RATE_LIMITED',
  'ERR_INTERNAL',
  'ERR_UNAVAILABLE',
  'ERR_CAPACITY',
  'ERR_STORAGE',
] as const;

export type ServerErrorCode = (typeof SERVER_ERROR_CODES)[number];

/**
 * Codes raised by the SDK itself:
 * - `ERR_TIMEOUT`: `connect()` got no answer in time;
 * - `ERR_CLOSED`: the peer or session was closed while waiting;
 * - `ERR_TOKEN_SOURCE`: `getToken()` threw or returned something that is not a token (the
 *   message carries what the token endpoint said: a refused `Response`'s status and error text);
 * - `ERR_NEGOTIATION`: the browser refused a description or candidate (WebRTC error in `cause`);
 * - `ERR_UNKNOWN`: the server sent a code this SDK version does not know (`serverCode` has it).
 */
export type SdkErrorCode =
  'ERR_TIMEOUT' | 'ERR_CLOSED' | 'ERR_TOKEN_SOURCE' | 'ERR_NEGOTIATION' | 'ERR_UNKNOWN';

export type PunchErrorCode = ServerErrorCode | SdkErrorCode;

const KNOWN: ReadonlySet<string> = new Set(SERVER_ERROR_CODES);

/**
 * True when `code` is one of the server's codes.
 *
 * @example
 * isServerErrorCode('ERR_PEER_UNAVAILABLE'); // true
 */
export function isServerErrorCode(code: string): code is ServerErrorCode {
  return KNOWN.has(code);
}

export interface PunchSignalErrorOptions {
  readonly cause?: unknown;
  /** The `ref` of the message the server refused. */
  readonly ref?: string;
  /** The remote peer the refused message was for, when known. */
  readonly remote?: { readonly group: string; readonly peer: string };
  /** The raw code the server sent, when it is not one this SDK knows. */
  readonly serverCode?: string;
}

/**
 * An error from Punch's signalling or from the SDK. Branch on `code`.
 *
 * @example
 * try {
 *   await peer.connect('room-1', 'bob');
 * } catch (err) {
 *   if (err instanceof PunchSignalError && err.code === 'ERR_PEER_UNAVAILABLE') showOffline();
 *   else throw err;
 * }
 */
export class PunchSignalError extends Error {
  readonly code: PunchErrorCode;
  readonly ref: string | undefined;
  readonly remote: { readonly group: string; readonly peer: string } | undefined;
  readonly serverCode: string | undefined;

  constructor(code: PunchErrorCode, message: string, options: PunchSignalErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PunchSignalError';
    this.code = code;
    this.ref = options.ref;
    this.remote = options.remote;
    this.serverCode = options.serverCode;
  }
}

/**
 * Builds the error for a server `error` message, mapping an unknown code to `ERR_UNKNOWN`.
 *
 * @example
 * const err = fromServerError({ code: 'ERR_POLICY_DENIED', message: 'no', ref: 'c7-1' });
 */
export function fromServerError(m: {
  readonly code: string;
  readonly message: string;
  readonly ref?: string | undefined;
}): PunchSignalError {
  const known = isServerErrorCode(m.code);
  return new PunchSignalError(known ? m.code : 'ERR_UNKNOWN', m.message, {
    ...(m.ref === undefined ? {} : { ref: m.ref }),
    ...(known ? {} : { serverCode: m.code }),
  });
}
