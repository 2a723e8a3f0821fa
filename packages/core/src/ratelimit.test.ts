import { describe, it, expect } from 'vitest';
import { MessageLimiter, RATE_LIMITS, RateLimiter, parseLimitOverride } from './ratelimit.js';

const T0 = 1_700_000_000_000;

describe('RATE_LIMITS', () => {
  it('are the seed table (10/min create, 60/min read, 20/min connect, 100/s messages) and the writing routes', () => {
    expect(RATE_LIMITS).toEqual({
      create: { limit: 10, windowMs: 60_000 },
      read: { limit: 60, windowMs: 60_000 },
      connect: { limit: 20, windowMs: 60_000 },
      token: { limit: 60, windowMs: 60_000 },
      write: { limit: 120, windowMs: 60_000 },
      message: { limit: 100, windowMs: 1_000 },
    });
  });
});

describe('RateLimiter', () => {
  it('allows `limit` events per window and refuses the next', () => {
    const rl = new RateLimiter({ limit: 3, windowMs: 60_000 });
    expect(rl.take('ip', T0)).toEqual({ ok: true });
    expect(rl.take('ip', T0 + 1)).toEqual({ ok: true });
    expect(rl.take('ip', T0 + 2)).toEqual({ ok: true });
    expect(rl.take('ip', T0 + 3).ok).toBe(false);
    expect(rl.take('ip', T0 + 4).ok).toBe(false);
  });

  it('Retry-After is the whole seconds left in the window (at least 1)', () => {
    const rl = new RateLimiter({ limit: 1, windowMs: 60_000 });
    rl.take('ip', T0);
    expect(rl.take('ip', T0)).toEqual({ ok: false, retryAfter: 60 });
    expect(rl.take('ip', T0 + 10_000)).toEqual({ ok: false, retryAfter: 50 });
    expect(rl.take('ip', T0 + 10_001)).toEqual({ ok: false, retryAfter: 50 }); // 49.999 → 50
    expect(rl.take('ip', T0 + 59_999)).toEqual({ ok: false, retryAfter: 1 });
  });

  it('a new window starts once windowMs has passed', () => {
    const rl = new RateLimiter({ limit: 2, windowMs: 1_000 });
    rl.take('ip', T0);
    rl.take('ip', T0);
    expect(rl.take('ip', T0 + 999).ok).toBe(false);
    expect(rl.take('ip', T0 + 1_000).ok).toBe(true);
    expect(rl.take('ip', T0 + 1_001).ok).toBe(true);
    expect(rl.take('ip', T0 + 1_002).ok).toBe(false);
  });

  it('keys are independent', () => {
    const rl = new RateLimiter({ limit: 1, windowMs: 60_000 });
    expect(rl.take('203.0.113.1', T0).ok).toBe(true);
    expect(rl.take('203.0.113.1', T0).ok).toBe(false);
    expect(rl.take('203.0.113.2', T0).ok).toBe(true);
    expect(rl.take('203.0.113.2', T0).ok).toBe(false);
    expect(rl.size).toBe(2);
  });

  it('sweeps expired windows so memory stays bounded under many distinct keys', () => {
    const rl = new RateLimiter({ limit: 5, windowMs: 1_000 });
    // 20,000 distinct keys, 10 per window: without a sweep the table would hold all of them.
    for (let i = 0; i < 20_000; i++) rl.take(`k${i}`, T0 + i * 100);
    expect(rl.size).toBeLessThanOrEqual(1025);
    expect(rl.size).toBeGreaterThan(0);
  });

  it('the sweep keeps live windows: a limited key stays limited', () => {
    const rl = new RateLimiter({ limit: 1, windowMs: 60_000 });
    rl.take('hot', T0);
    expect(rl.take('hot', T0).ok).toBe(false);
    // Old keys whose windows have ended, then enough new ones to trigger a sweep.
    for (let i = 0; i < 1100; i++) rl.take(`old${i}`, T0 - 120_000);
    for (let i = 0; i < 1100; i++) rl.take(`new${i}`, T0 + 1_000);
    expect(rl.take('hot', T0 + 2_000).ok).toBe(false);
    // The 1100 expired "old" windows are gone; "hot" and the 1100 "new" ones remain.
    expect(rl.size).toBe(1 + 1100);
  });
});

describe('MessageLimiter', () => {
  it('ok up to the limit, then one warn, drops, and close beyond twice the limit', () => {
    const ml = new MessageLimiter({ limit: 3, windowMs: 1_000 });
    const seq = Array.from({ length: 8 }, () => ml.take(T0));
    expect(seq).toEqual(['ok', 'ok', 'ok', 'warn', 'drop', 'drop', 'close', 'close']);
  });

  it('a new window resets both the count and the warning', () => {
    const ml = new MessageLimiter({ limit: 2, windowMs: 1_000 });
    expect([ml.take(T0), ml.take(T0), ml.take(T0), ml.take(T0 + 500)]).toEqual([
      'ok',
      'ok',
      'warn',
      'drop',
    ]);
    expect([ml.take(T0 + 1_000), ml.take(T0 + 1_001), ml.take(T0 + 1_002)]).toEqual([
      'ok',
      'ok',
      'warn',
    ]);
  });

  it('with the seed limit: 100 per second pass, the 201st closes', () => {
    const ml = new MessageLimiter(RATE_LIMITS.message);
    const seq = Array.from({ length: 201 }, (_, i) => ml.take(T0 + (i % 1000) * 0.001));
    expect(seq.filter((v) => v === 'ok')).toHaveLength(100);
    expect(seq[100]).toBe('warn');
    expect(seq.slice(101, 200).every((v) => v === 'drop')).toBe(true);
    expect(seq[200]).toBe('close');
  });
});

describe('parseLimitOverride', () => {
  it('NAME=N keeps the default window', () => {
    expect(parseLimitOverride('create=5')).toEqual(['create', { limit: 5, windowMs: 60_000 }]);
    expect(parseLimitOverride('message=1000')).toEqual([
      'message',
      { limit: 1000, windowMs: 1_000 },
    ]);
  });

  it('NAME=N/SECONDS sets the window (fractions allowed)', () => {
    expect(parseLimitOverride('read=100/10')).toEqual(['read', { limit: 100, windowMs: 10_000 }]);
    expect(parseLimitOverride('connect=3/0.5')).toEqual(['connect', { limit: 3, windowMs: 500 }]);
  });

  it('knows the writing and rendering limits (token, write)', () => {
    expect(parseLimitOverride('token=5')).toEqual(['token', { limit: 5, windowMs: 60_000 }]);
    expect(parseLimitOverride('write=7/1')).toEqual(['write', { limit: 7, windowMs: 1_000 }]);
  });

  it('refuses anything else with a RangeError naming the input', () => {
    for (const bad of [
      '',
      'create',
      'create=',
      'create=-1',
      'create=1.5',
      'bogus=5',
      'constructor=5',
      'create=5/',
      'create=5/x',
      ' create=5',
      'CREATE=5',
    ]) {
      expect(() => parseLimitOverride(bad), bad).toThrow(RangeError);
    }
  });
});
