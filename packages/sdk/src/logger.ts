/**
 * Where the SDK writes what it does. `console` fits; the default writes nothing. Tokens and
 * SDPs are never passed to it, only ids, codes and states.
 */
export interface Logger {
  debug(message: string, data?: Record<string, unknown>): void;
  warn(message: string, data?: Record<string, unknown>): void;
}

/**
 * A logger that drops everything.
 *
 * @example
 * createPeer({ url, token, logger: silentLogger });
 */
export const silentLogger: Logger = {
  debug: () => undefined,
  warn: () => undefined,
};
