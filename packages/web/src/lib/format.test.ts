import { describe, expect, it } from 'vitest';
import { backoffMs } from './feed.js';
import { formatBps, formatRemaining } from './format.js';

describe('format', () => {
  it('bit rates', () => {
    expect(formatBps(8_150_000)).toBe('8.2 Mbit/s');
    expect(formatBps(640_000)).toBe('640 kbit/s');
    expect(formatBps(null)).toBe('—');
  });
  it('countdowns', () => {
    expect(formatRemaining(3725)).toBe('1:02:05');
    expect(formatRemaining(59.9)).toBe('0:59');
    expect(formatRemaining(0)).toBe('expired');
  });
});

describe('backoffMs', () => {
  it('grows from 0.5 s to at most 10 s, jittered within the upper half', () => {
    expect(backoffMs(0, () => 0)).toBe(250);
    expect(backoffMs(0, () => 1)).toBe(500);
    expect(backoffMs(3, () => 1)).toBe(4000);
    expect(backoffMs(50, () => 1)).toBe(10_000);
    expect(backoffMs(50, () => 0)).toBe(5000);
  });
});
