/** A mistake in how the command was called: printed with a hint, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The server answered with a problem: printed as `code: detail`. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, detail: string) {
    super(detail);
    this.status = status;
    this.code = code;
  }
}

/** Exit codes: 0 ok, 1 other failure, 2 usage, 3 refused (401/403), 4 not found, 5 unreachable. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError) return 2;
  if (err instanceof ApiError) {
    if (err.status === 401 || err.status === 403) return 3;
    if (err.status === 404 || err.status === 410) return 4;
    return 1;
  }
  return 1;
}
