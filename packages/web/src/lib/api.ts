import {
  ConnectInfo,
  HealthHistory,
  ProblemSchema,
  SessionCreated,
  SessionExtended,
  SessionView,
  TokenCreated,
} from '@punch/core';
import type { z } from 'zod';

/** A refusal from the API, with its stable code (`docs/errors.md`). */
export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, status: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
  }
}

export type SessionViewData = z.infer<typeof SessionView>;
export type StreamViewData = SessionViewData['streams'][number];
export type ConnectInfoData = z.infer<typeof ConnectInfo>;
export type TokenCreatedData = z.infer<typeof TokenCreated>;
export type HealthSampleData = z.infer<typeof HealthHistory>['samples'][number];

/** Sends one request and parses the answer with `schema`; a problem becomes an ApiError. */
async function request<T>(
  method: string,
  path: string,
  token: string | null,
  schema: z.ZodType<T> | null,
  body?: unknown,
): Promise<T> {
  const headers: Record<string, string> = {};
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (cause) {
    throw new ApiError('ERR_NETWORK', 0, 'Punch is not reachable: check the network', { cause });
  }
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    // Not JSON (a proxy's error page): the status alone explains the failure below.
    json = undefined;
  }
  if (!res.ok) {
    const problem = ProblemSchema.safeParse(json);
    if (problem.success) {
      throw new ApiError(problem.data.code, res.status, problem.data.detail);
    }
    throw new ApiError('ERR_HTTP', res.status, `the server answered ${res.status}`);
  }
  if (schema === null) return undefined as T;
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new ApiError('ERR_BAD_RESPONSE', res.status, 'unexpected answer');
  return parsed.data;
}

const base = (id: string): string => `/api/session/${encodeURIComponent(id)}`;

/** The sessions API as the dashboard uses it. Every answer is parsed with core's schemas. */
export const api = {
  create: (body: { name?: string; ttl?: number; streams?: string[]; relay?: 'auto' | 'always' }) =>
    request('POST', '/api/session', null, SessionCreated, body),
  view: (id: string, token: string) => request('GET', base(id), token, SessionView),
  extend: (id: string, token: string, ttl: number) =>
    request('PATCH', base(id), token, SessionExtended, { ttl }),
  close: (id: string, token: string) => request('DELETE', base(id), token, null),
  invite: (id: string, token: string, stream: string | null) =>
    request('POST', `${base(id)}/tokens`, token, TokenCreated, { stream }),
  connect: (id: string, token: string) => request('GET', `${base(id)}/connect`, token, ConnectInfo),
  tally: (id: string, token: string, tally: { program: string[]; preview: string[] }) =>
    request('PUT', `${base(id)}/tally`, token, null, tally),
  health: (id: string, token: string) => request('GET', `${base(id)}/health`, token, HealthHistory),
};

/** A sentence for the person at the keyboard, for any error the API or network produced. */
export function explain(err: unknown): string {
  if (err instanceof ApiError) {
    switch (err.code) {
      case 'ERR_TOKEN_EXPIRED':
        return 'This link has expired. Ask the producer for a new one.';
      case 'ERR_TOKEN_MALFORMED':
      case 'ERR_TOKEN_SIGNATURE':
      case 'ERR_TOKEN_WRONG_SESSION':
        return 'This token is not valid for this session.';
      case 'ERR_SESSION_NOT_FOUND':
        return 'This session does not exist (it may have been closed or expired).';
      case 'ERR_RATE_LIMITED':
        return `Too many requests: ${err.message}.`;
      default:
        return `${err.message} (${err.code})`;
    }
  }
  return err instanceof Error ? err.message : 'Something went wrong.';
}
