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
