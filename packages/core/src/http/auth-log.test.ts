import { describe, expect, it } from 'vitest';
import type { Logger } from '../logger.js';
import { KeyRing } from '../token/token.js';
import { authenticate } from './auth.js';
import { AUTH_LOG_PER_IP, AUTH_LOG_TOTAL, AuthLogLimiter } from './auth-log.js';

const T0 = 1_741_234_000_000;

/** A logger that keeps its warn lines' fields. */
function recording(): { log: Logger; warned: Record<string, unknown>[] } {
  const warned: Record<string, unknown>[] = [];
  return {
    warned,
    log: {
      info() {},
      warn(fields) {
        warned.push(fields);
      },
      error() {},
    },
  };
}

/** `n` distinct documentation-range IPv4 addresses (TEST-NET-3 and on). */
const ips = (n: number): string[] =>
  Array.from({ length: n }, (_, i) => `203.0.${113 + Math.floor(i / 250)}.${(i % 250) + 1}`);

describe('AuthLogLimiter', () => {
  it('allows the per-IP bound from one IP, then refuses it', () => {
    const limiter = new AuthLogLimiter();
    const allowed = Array.from(
      { length: AUTH_LOG_PER_IP.limit + 5 },
      () => limiter.take('198.51.100.7', T0).ok,
    );
    expect(allowed.filter(Boolean)).toHaveLength(AUTH_LOG_PER_IP.limit);
    expect(allowed.at(-1)).toBe(false);
  });

  it('caps the total across IPs that each stay under their own bound', () => {
    const limiter = new AuthLogLimiter();
    const allowed = ips(AUTH_LOG_TOTAL.limit * 2).filter((ip) => limiter.take(ip, T0).ok);
    expect(allowed).toHaveLength(AUTH_LOG_TOTAL.limit);
  });

  it('takes nothing from the total for lines one IP may not log', () => {
    const limiter = new AuthLogLimiter(
      { limit: 2, windowMs: 60_000 },
      { limit: 10, windowMs: 60_000 },
    );
    for (let i = 0; i < 1000; i++) limiter.take('198.51.100.7', T0);
    expect(ips(20).filter((ip) => limiter.take(ip, T0).ok)).toHaveLength(8);
  });

  it('allows lines again in the next window', () => {
    const limiter = new AuthLogLimiter(
      { limit: 1, windowMs: 60_000 },
      { limit: 3, windowMs: 60_000 },
    );
    expect(ips(5).filter((ip) => limiter.take(ip, T0).ok)).toHaveLength(3);
    expect(limiter.take('198.51.100.7', T0 + 59_999).ok).toBe(false);
    expect(limiter.take('198.51.100.8', T0 + 60_000).ok).toBe(true);
  });
});

describe('auth failures from many IPs', () => {
  it('are all refused and counted, and logged at most the total bound', async () => {
    const keys = await KeyRing.fromSecrets('auth-log-test-secret-0123456789abcdef');
    const { log, warned } = recording();
    const counted: string[] = [];
    const deps = {
      keys,
      now: () => T0,
      log,
      authLogLimiter: new AuthLogLimiter(),
      onAuthFailure: (code: string) => counted.push(code),
    };
    const from = ips(AUTH_LOG_TOTAL.limit + 100);
    for (const ip of from) {
      const headers = new Headers({ authorization: 'Bearer p_not-a-token' });
      await expect(
        authenticate(deps, headers, 'show', { ip, endpoint: 'GET /api/session/:id' }),
      ).rejects.toMatchObject({ code: 'ERR_TOKEN_MALFORMED' });
    }
    expect(counted).toHaveLength(from.length);
    expect(warned).toHaveLength(AUTH_LOG_TOTAL.limit);
    expect(warned[0]).toEqual({
      ip: from[0],
      endpoint: 'GET /api/session/:id',
      code: 'ERR_TOKEN_MALFORMED',
    });
  });
});
