import { PunchError, toProblem } from '../errors.js';

/**
 * An error as an `application/problem+json` response, with `Retry-After` when the error
 * carries one. Unknown errors become ERR_INTERNAL: no stack, no message of ours leaks.
 *
 * @example
 * return problemResponse(new PunchError('ERR_SESSION_NOT_FOUND')); // 404
 */
export function problemResponse(err: unknown): Response {
  const problem = toProblem(err);
  const headers: Record<string, string> = { 'content-type': 'application/problem+json' };
  if (err instanceof PunchError && err.retryAfter !== undefined)
    headers['retry-after'] = String(err.retryAfter);
  return new Response(JSON.stringify(problem), { status: problem.status, headers });
}
