/**
 * The logger contract hosts fill (pino on Node). Fields are structured; the seed's rules apply:
 * never a token, a passphrase or a peer IP (except on authentication failures).
 */
export interface Logger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

/** A logger that drops everything (tests, libraries). */
export const silentLogger: Logger = {
  info() {},
  warn() {},
  error() {},
};

/** What a log line carries of an error: no token or JWT survives, even inside a message. */
export interface ErrorFields {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  readonly code?: string;
  readonly cause?: ErrorFields;
}

/**
 * Secrets by their shape, wherever they stand (after `=`, `%3D`, `Bearer%20`, inside a word):
 * `p_` session tokens (their payload is base64url JSON, so it starts `eyJ`), `pa_` account
 * keys (43 base64url characters), and compact JWS/JWTs (three base64url parts, the first
 * `eyJ`). Passphrases have no shape to find: they never reach an error in the first place.
 */
const SECRETS =
  /p_eyJ[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)?|pa_[A-Za-z0-9_-]{43}|eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;
const scrub = (text: string): string => text.replace(SECRETS, '[redacted]');

/**
 * An error as log fields for the server's own log: name, message, stack and cause chain (two
 * levels), with anything shaped like a token masked. Never sent to a client (clients get
 * `toProblem`).
 *
 * @example
 * log.error({ session, err: errorFields(err) }, 'message handler failed');
 */
export function errorFields(err: unknown, depth = 0): ErrorFields {
  if (!(err instanceof Error)) return { name: typeof err, message: scrub(String(err)) };
  const code = (err as { code?: unknown }).code;
  return {
    name: err.name,
    message: scrub(err.message),
    ...(err.stack === undefined ? {} : { stack: scrub(err.stack) }),
    ...(typeof code === 'string' ? { code } : {}),
    ...(err.cause === undefined || depth >= 2 ? {} : { cause: errorFields(err.cause, depth + 1) }),
  };
}
