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

describe('backoffDelay (equal jitter)', () => {
  it('stays in [window/2, window) and reaches the cap', () => {
    const at = (attempt: number, r: number): number =>
      backoffDelay(attempt, { baseMs: 500, jitter: 'equal', random: () => r });
    expect([at(0, 0), at(0, 0.999999), at(3, 0), at(3, 0.999999)]).toEqual([250, 499, 2000, 3999]);
    expect(at(50, 0)).toBe(5000);
    expect(at(50, 0.999999)).toBe(9999);
  });
});

describe('backoffDelay (narrow jitter)', () => {
  it('stays within a quarter of the window on either side', () => {
    const at = (attempt: number, r: number): number =>
      backoffDelay(attempt, { baseMs: 500, capMs: 8000, jitter: 'narrow', random: () => r });
    expect([at(0, 0), at(0, 0.5), at(0, 0.999999)]).toEqual([375, 500, 624]);
    expect([at(3, 0), at(3, 0.999999)]).toEqual([3000, 4999]);
    expect([at(50, 0), at(50, 0.999999)]).toEqual([6000, 9999]);
  });
});
