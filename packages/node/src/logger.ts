import pino from 'pino';
import type { Logger } from '@punch/core';

/** Field names that must never reach a log line, whatever code path adds them. */
const REDACT = [
  'token',
  'passphrase',
  'secret',
  'authorization',
  '*.token',
  '*.passphrase',
  '*.authorization',
];

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

/**
 * pino JSON logs to `destination` (stdout by default). Redaction is a second line of defence:
 * the code logs no secrets in the first place, and the log-audit test checks it.
 */
export function createLogger(
  level: LogLevel = 'info',
  destination?: pino.DestinationStream,
): Logger & { raw: pino.Logger; flush: () => void } {
  // Asynchronous writes keep logging off the hot path (pairing, session creation); `flush`
  // writes out what is buffered at shutdown.
  const own = destination === undefined ? pino.destination({ dest: 1, sync: false }) : undefined;
  const stream = destination ?? own;
  const raw = pino(
    { level, base: { service: 'punch' }, redact: { paths: REDACT, censor: '[redacted]' } },
    stream,
  );
  return {
    raw,
    flush: () => {
      own?.flushSync();
    },
    info: (fields, message) => {
      raw.info(fields, message);
    },
    warn: (fields, message) => {
      raw.warn(fields, message);
    },
    error: (fields, message) => {
      raw.error(fields, message);
    },
  };
}
