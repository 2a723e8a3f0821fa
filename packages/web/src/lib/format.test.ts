import { describe, expect, it } from 'vitest';
import { backoffDelay } from '@punch/core';
import { RECONNECT } from './feed.js';
import { formatAgo, formatBps, formatRemaining } from './format.js';

describe('format', () => {
  it('bit rates', () => {
    expect(formatBps(8_150_000)).toBe('8.2 Mbit/s');
    expect(formatBps(640_000)).toBe('640 kbit/s');
    expect(formatBps(null)).toBe('—');
  });
  it('how long ago', () => {
    expect(formatAgo(-800)).toBe('just now');
    expect(formatAgo(999)).toBe('just now');
    expect(formatAgo(3_400)).toBe('3 s ago');
    expect(formatAgo(59_999)).toBe('59 s ago');
    expect(formatAgo(125_000)).toBe('2 min ago');
    expect(formatAgo(3_600_000)).toBe('1 h ago');
    expect(formatAgo(3_900_000)).toBe('1 h 5 min ago');
  });
  it('countdowns', () => {
    expect(formatRemaining(3725)).toBe('1:02:05');
    expect(formatRemaining(59.9)).toBe('0:59');
    expect(formatRemaining(0)).toBe('expired');
  });
});

describe('the feed reconnects', () => {
  it('from 0.5 s to at most 10 s, jittered within the upper half', () => {
    const at = (attempt: number, r: number): number =>
      backoffDelay(attempt, { ...RECONNECT, random: () => r });
    expect(at(0, 0)).toBe(250);
    expect(at(0, 0.999999)).toBe(499);
    expect(at(3, 0.999999)).toBe(3999);
    expect(at(50, 0.999999)).toBe(9999);
    expect(at(50, 0)).toBe(5000);
  });
});
