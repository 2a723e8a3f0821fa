import { describe, it, expect } from 'vitest';
import {
  CLOSE_MEANINGS,
  ERRORS,
  closeCodeForStatus,
  closeMeaning,
  ERROR_CODES,
  PunchError,
  isErrorCode,
  toProblem,
  type ErrorCode,
} from './errors.js';

/** The documented exceptions to "close code = 4000 + HTTP status" (RFC 6455 §7.4.1 codes). */
const CLOSE_EXCEPTIONS: Partial<Record<ErrorCode, number>> = {
  ERR_PAYLOAD_TOO_LARGE: 1009, // message too big
  ERR_INTERNAL: 1011, // internal error
  ERR_UNAVAILABLE: 1001, // going away
};

describe('error table', () => {
  it('ERROR_CODES lists every code of the table, once', () => {
    expect([...ERROR_CODES].sort()).toEqual(Object.keys(ERRORS).sort());
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
    expect(ERROR_CODES.length).toBeGreaterThan(20);
  });

  it.each(ERROR_CODES.map((c) => [c]))(
    '%s: close code is 4000 + status or a documented exception',
    (code) => {
      const spec = ERRORS[code];
      const expected = CLOSE_EXCEPTIONS[code] ?? 4000 + spec.status;
      expect(spec.close).toBe(expected);
      const e = new PunchError(code);
      expect(e.closeCode).toBe(expected);
      expect(e.status).toBe(spec.status);
      expect(e.code).toBe(code);
      expect(e.message).toBe(spec.title);
      expect(spec.status).toBeGreaterThanOrEqual(400);
      expect(spec.status).toBeLessThan(600);
      expect(spec.title.length).toBeGreaterThan(0);
    },
  );

  it('the exceptions are exactly the three documented ones', () => {
    const exceptions = ERROR_CODES.filter((c) => ERRORS[c].close !== 4000 + ERRORS[c].status);
    expect(exceptions.sort()).toEqual(Object.keys(CLOSE_EXCEPTIONS).sort());
  });

  it('statuses follow DESIGN.md: 401 does not authenticate, 403 not permitted', () => {
    const status = (c: ErrorCode): number => ERRORS[c].status;
    for (const c of [
      'ERR_UNAUTHENTICATED',
      'ERR_TOKEN_MALFORMED',
      'ERR_TOKEN_SIGNATURE',
      'ERR_TOKEN_EXPIRED',
      'ERR_TOKEN_WRONG_SESSION',
    ] as const) {
      expect(status(c), c).toBe(401);
    }
    expect(status('ERR_FORBIDDEN')).toBe(403);
    expect(status('ERR_STREAM_FORBIDDEN')).toBe(403);
    expect(status('ERR_SESSION_EXISTS')).toBe(409);
    expect(status('ERR_PAYLOAD_TOO_LARGE')).toBe(413);
    expect(status('ERR_UNSUPPORTED_MEDIA_TYPE')).toBe(415);
    expect(status('ERR_RATE_LIMITED')).toBe(429);
    expect(status('ERR_BAD_REQUEST')).toBe(400);
    expect(status('ERR_INTERNAL')).toBe(500);
  });
});

describe('PunchError', () => {
  it('keeps a detail, a cause and retryAfter', () => {
    const cause = new Error('inner');
    const e = new PunchError('ERR_RATE_LIMITED', 'slow down', { cause, retryAfter: 7 });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('PunchError');
    expect(e.message).toBe('slow down');
    expect(e.cause).toBe(cause);
    expect(e.retryAfter).toBe(7);
    expect(new PunchError('ERR_RATE_LIMITED').retryAfter).toBeUndefined();
  });
});

describe('toProblem', () => {
  it('renders a PunchError as RFC 9457 problem details', () => {
    const p = toProblem(new PunchError('ERR_STREAM_FORBIDDEN', 'not for "cam-close"'));
    expect(p).toEqual({
      type: 'https://punch.dev/errors#ERR_STREAM_FORBIDDEN',
      title: ERRORS.ERR_STREAM_FORBIDDEN.title,
      status: 403,
      code: 'ERR_STREAM_FORBIDDEN',
      detail: 'not for "cam-close"',
    });
  });

  it('never leaks a foreign error: message, stack or cause', () => {
    const foreign = [
      new Error('SQLITE_CANTOPEN: /var/lib/punch/secret p_eyJzZWNyZXQ'),
      new TypeError('Cannot read properties of undefined (reading passphrase)'),
      Object.assign(new Error('boom'), { code: 'ERR_FORBIDDEN', status: 403 }),
      { message: 'a plain object with a secret', code: 'ERR_BAD_REQUEST' },
      'a thrown string with a secret',
      undefined,
    ];
    for (const err of foreign) {
      const p = toProblem(err);
      expect(p).toEqual({
        type: 'https://punch.dev/errors#ERR_INTERNAL',
        title: ERRORS.ERR_INTERNAL.title,
        status: 500,
        code: 'ERR_INTERNAL',
        detail: ERRORS.ERR_INTERNAL.title,
      });
      const text = JSON.stringify(p);
      expect(text).not.toMatch(/secret|SQLITE|passphrase|boom|stack/i);
    }
  });

  it("does not include a PunchError's cause or stack", () => {
    const e = new PunchError('ERR_BAD_REQUEST', 'bad', { cause: new Error('secret cause') });
    const p = toProblem(e);
    expect(Object.keys(p).sort()).toEqual(['code', 'detail', 'status', 'title', 'type']);
    expect(JSON.stringify(p)).not.toContain('secret cause');
    expect(JSON.stringify(p)).not.toContain('at ');
  });
});

describe('isErrorCode', () => {
  it('is true only for own keys of the table', () => {
    expect(isErrorCode('ERR_FORBIDDEN')).toBe(true);
    expect(isErrorCode('ERR_NOPE')).toBe(false);
    expect(isErrorCode('toString')).toBe(false);
    expect(isErrorCode('__proto__')).toBe(false);
    expect(isErrorCode('err_forbidden')).toBe(false);
  });
});

describe('close codes', () => {
  it('every close code in the error table has a meaning, and the map holds no other', () => {
    const fromTable = new Set<number>(ERROR_CODES.map((c) => ERRORS[c].close));
    const mapped = new Set(Object.keys(CLOSE_MEANINGS).map(Number));
    for (const code of fromTable) expect(mapped.has(code), String(code)).toBe(true);
    // Beyond the table: RFC 6455's normal closure and "dropped without a close frame".
    expect([...mapped].filter((c) => !fromTable.has(c)).sort()).toEqual([1000, 1006]);
  });

  it('tells a client to stop or to retry', () => {
    expect(closeMeaning(ERRORS.ERR_SESSION_CLOSED.close).kind).toBe('ended');
    expect(closeMeaning(ERRORS.ERR_PROJECT_CLOSED.close).kind).toBe('ended');
    expect(closeMeaning(ERRORS.ERR_TOKEN_EXPIRED.close).kind).toBe('refused');
    expect(closeMeaning(ERRORS.ERR_FORBIDDEN.close).kind).toBe('refused');
    expect(closeMeaning(ERRORS.ERR_REPLACED.close).kind).toBe('replaced');
    expect(closeMeaning(ERRORS.ERR_RATE_LIMITED.close).kind).toBe('retry');
    expect(closeMeaning(ERRORS.ERR_UNAVAILABLE.close).kind).toBe('retry');
    expect(closeMeaning(ERRORS.ERR_INTERNAL.close).kind).toBe('retry');
    expect(closeMeaning(1006).kind).toBe('retry');
  });

  it('a refused upgrade maps to the close code its error would carry', () => {
    expect(closeCodeForStatus(401)).toBe(ERRORS.ERR_UNAUTHENTICATED.close);
    expect(closeCodeForStatus(403)).toBe(ERRORS.ERR_FORBIDDEN.close);
  });

  it('an unknown code (a proxy, a newer server) means retry, and no prototype key matches', () => {
    expect(closeMeaning(4999)).toEqual({ kind: 'retry', text: 'closed (4999)' });
    expect(closeMeaning(Number('constructor')).kind).toBe('retry');
  });
});
