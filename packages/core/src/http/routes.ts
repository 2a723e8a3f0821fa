import { nameFromPath } from '../names.js';

/**
 * The paths every host routes itself (the API's other routes are Hono's, in `api.ts`): a
 * session's sub-routes, which the Workers host sends to the session's own Durable Object, and
 * the two WebSocket endpoints.
 */

/** The projects realm's signalling WebSocket. */
export const SIGNAL_PATH = '/api/signal';

const SESSION_PATH = /^\/api\/session\/([^/]+)(\/[a-z]+)?$/;

export interface SessionPath {
  /** The session named, or undefined when the segment names no possible session (404). */
  readonly id: string | undefined;
  /** What follows the name: '' for the session itself, '/ws', '/connect', '/tokens', … */
  readonly sub: string;
  /** The route as logs and `ROUTE_LIMITS` name it, e.g. `GET /api/session/:id/ws`. */
  readonly endpoint: string;
}

/**
 * Splits a request path (a query string, if any, is ignored) under `/api/session/:id`; undefined
 * for any other path.
 *
 * @example
 * parseSessionPath('GET', '/api/session/nab-floor/ws?x=1');
 * // { id: 'nab-floor', sub: '/ws', endpoint: 'GET /api/session/:id/ws' }
 * parseSessionPath('GET', '/api/session/%ZZ/ws')?.id; // undefined: answer 404
 */
export function parseSessionPath(method: string, path: string): SessionPath | undefined {
  const q = path.indexOf('?');
  const m = SESSION_PATH.exec(q === -1 ? path : path.slice(0, q));
  if (m === null) return undefined;
  const sub = m[2] ?? '';
  return { id: nameFromPath(m[1] ?? ''), sub, endpoint: `${method} /api/session/:id${sub}` };
}

/**
 * True for the signalling WebSocket's path (a query string, if any, is ignored).
 *
 * @example
 * isSignalPath('/api/signal?v=1'); // true
 */
export function isSignalPath(path: string): boolean {
  const q = path.indexOf('?');
  return (q === -1 ? path : path.slice(0, q)) === SIGNAL_PATH;
}
