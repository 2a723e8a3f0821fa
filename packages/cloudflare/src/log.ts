import type { Logger } from '@punch/core';

/** Field names that never reach a log line, whatever code path adds them (as on Node). */
const REDACT = new Set(['token', 'passphrase', 'secret', 'authorization']);

const redact = (fields: Record<string, unknown>): Record<string, unknown> => {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) out[k] = REDACT.has(k) ? '[redacted]' : v;
  return out;
};

/**
 * JSON log lines on the Workers console (Workers Logs and `wrangler tail` collect them), with
 * the Node host's field names: `level`, `msg`, `service`, and the event's fields.
 *
 * @example
 * const log = consoleLogger('session-object');
 * log.info({ session: 'nab' }, 'session created');
 */
export function consoleLogger(component: string): Logger {
  const line = (level: string, fields: Record<string, unknown>, msg: string): string =>
    JSON.stringify({
      level,
      time: Date.now(),
      service: 'punch',
      component,
      ...redact(fields),
      msg,
    });
  return {
    info: (fields, msg) => {
      console.log(line('info', fields, msg));
    },
    warn: (fields, msg) => {
      console.warn(line('warn', fields, msg));
    },
    error: (fields, msg) => {
      console.error(line('error', fields, msg));
    },
  };
}
