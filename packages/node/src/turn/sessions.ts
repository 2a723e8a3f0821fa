import { sessionRelayId } from '@punch/core';
import type { AllocationTable } from './allocations.js';

/**
 * What the relay knows of the sessions realm (DESIGN.md "The relay"): a session socket's TURN
 * REST username (`<expiry>:<session>/<socket>`) names its session; such credentials stop working
 * when the session ends, and all of a session's sockets together hold a bounded number of
 * allocations, so one free session cannot take the relay's ports.
 */
export interface SessionRules {
  /** False once a session has ended: its credentials stop working at once. */
  readonly sessionAlive?: (session: string) => boolean;
  /** How many allocations a session's sockets may hold together; undefined: no session cap. */
  readonly sessionAllocations?: (session: string) => number | undefined;
}

/**
 * The session a TURN username was minted for, if it is a session socket's.
 *
 * @example
 * sessionOfUsername('1767225600:show/k3v9'); // 'show'
 * sessionOfUsername('1767225600:alice');     // undefined
 */
export function sessionOfUsername(username: string): string | undefined {
  return sessionSocketOf(username)?.session;
}

/**
 * The session and socket a TURN username was minted for, if it is a session socket's.
 *
 * @example
 * sessionSocketOf('1767225600:show/k3v9'); // { session: 'show', conn: 'k3v9' }
 */
export function sessionSocketOf(username: string): { session: string; conn: string } | undefined {
  return sessionRelayId(username.slice(username.indexOf(':') + 1));
}

/**
 * The admission checks the server runs on every authenticated request (`usable`) and Allocate
 * (`fits`: the total, per-username and per-session caps).
 *
 * @example
 * const { usable, fits } = sessionAdmission(table, { sessionAlive: (s) => rooms.has(s) });
 */
export function sessionAdmission(
  table: AllocationTable,
  rules: SessionRules,
): { usable: (username: string) => boolean; fits: (username: string) => boolean } {
  return {
    usable: (username) => {
      const session = sessionOfUsername(username);
      return session === undefined || rules.sessionAlive?.(session) !== false;
    },
    fits: (username) => {
      if (table.quota(username) !== 'ok') return false;
      const session = sessionOfUsername(username);
      const cap = session === undefined ? undefined : rules.sessionAllocations?.(session);
      return cap === undefined || table.countWhere((u) => sessionOfUsername(u) === session) < cap;
    },
  };
}
