import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '@punch/core';
import { fromServerError, PunchSignalError, SERVER_ERROR_CODES } from './errors.js';

describe('errors', () => {
  it('knows every code the server has (and no other)', () => {
    expect([...SERVER_ERROR_CODES].sort()).toEqual([...ERROR_CODES].sort());
  });

  it('builds errors from server messages, keeping the ref and an unknown code', () => {
    const e = fromServerError({ code: 'ERR_POLICY_DENIED', message: 'no', ref: 'c7-1' });
    expect(e).toBeInstanceOf(PunchSignalError);
    expect([e.code, e.message, e.ref, e.serverCode]).toEqual([
      'ERR_POLICY_DENIED',
      'no',
      'c7-1',
      undefined,
    ]);
    const u = fromServerError({ code: 'ERR_FROM_THE_FUTURE', message: 'new' });
    expect([u.code, u.serverCode, u.ref]).toEqual([
      'ERR_UNKNOWN',
      'ERR_FROM_THE_FUTURE',
      undefined,
    ]);
  });
});
