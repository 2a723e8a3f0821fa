import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.js';

describe('backoffDelay (full jitter)', () => {
  it('stays in [0, min(cap, base·2^attempt))', () => {
    for (let attempt = 0; attempt < 40; attempt++) {
      const window = Math.min(10_000, 250 * 2 ** attempt);
      expect(backoffDelay(attempt, { random: () => 0 })).toBe(0);
      const top = backoffDelay(attempt, { random: () => 0.999999 });
      expect(top).toBeLessThan(window);
      expect(top).toBeGreaterThanOrEqual(window - 1);
      for (let i = 0; i < 20; i++) {
        const d = backoffDelay(attempt);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThan(window);
      }
    }
  });

  it('doubles the window per attempt up to the cap, and honours custom bounds', () => {
    const half = (attempt: number): number => backoffDelay(attempt, { random: () => 0.5 });
    expect([0, 1, 2, 3, 4, 5, 6, 7].map(half)).toEqual([
      125, 250, 500, 1000, 2000, 4000, 5000, 5000,
    ]);
    expect(backoffDelay(3, { baseMs: 100, capMs: 500, random: () => 0.5 })).toBe(250);
    expect(backoffDelay(10_000, { random: () => 0.5 })).toBe(5000);
  });
});
