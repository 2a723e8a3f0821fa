import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DeadlineScheduler, MAX_SLEEP_MS } from './scheduler.js';

const T0 = 1_760_000_000_000;

describe('DeadlineScheduler', () => {
  let fired: [string, number][];
  let s: DeadlineScheduler<string>;

  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
    fired = [];
    s = new DeadlineScheduler<string>({
      onDue: (key, t) => {
        fired.push([key, t]);
      },
    });
  });
  afterEach(() => {
    s.close();
    vi.useRealTimers();
  });

  it('calls each key once at its deadline, earliest first, on one timer', () => {
    s.schedule('b', T0 + 2000);
    s.schedule('a', T0 + 1000);
    s.schedule('c', T0 + 3000);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(999);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual([['a', T0 + 1000]]);
    vi.advanceTimersByTime(2000);
    expect(fired.map(([k]) => k)).toEqual(['a', 'b', 'c']);
    expect(s.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('only ever moves a deadline earlier: a later one keeps the earlier wake', () => {
    s.schedule('a', T0 + 5000);
    s.schedule('a', T0 + 9000);
    expect(s.deadlineOf('a')).toBe(T0 + 5000);
    s.schedule('a', T0 + 1000);
    expect(s.deadlineOf('a')).toBe(T0 + 1000);
    vi.advanceTimersByTime(10_000);
    // The entry left at T0 + 5000 is stale: the key fires once.
    expect(fired).toEqual([['a', T0 + 1000]]);
  });

  it('a key scheduled again from onDue fires again at its new deadline', () => {
    let n = 0;
    s.close();
    s = new DeadlineScheduler<string>({
      onDue: (key, t) => {
        fired.push([key, t]);
        if (++n < 3) s.schedule(key, t + 1000);
      },
    });
    s.schedule('a', T0 + 1000);
    vi.advanceTimersByTime(10_000);
    expect(fired).toEqual([
      ['a', T0 + 1000],
      ['a', T0 + 2000],
      ['a', T0 + 3000],
    ]);
  });

  it('a key due again at once from onDue waits for the next timer instead of looping', () => {
    s.close();
    s = new DeadlineScheduler<string>({
      onDue: (key, t) => {
        fired.push([key, t]);
        s.schedule(key, t);
      },
    });
    s.schedule('a', T0);
    vi.advanceTimersByTime(0);
    expect(fired).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(fired).toHaveLength(2);
  });

  it('keys scheduled again by onDue share the one timer armed after them', () => {
    s.close();
    const armed = vi.spyOn(globalThis, 'setTimeout');
    s = new DeadlineScheduler<string>({
      onDue: (key, t) => {
        fired.push([key, t]);
        s.schedule(key, t + 60_000);
      },
    });
    for (let i = 0; i < 100; i++) s.schedule(`k${i}`, T0 + 1000);
    const before = armed.mock.calls.length;
    vi.advanceTimersByTime(1000);
    expect(fired).toHaveLength(100);
    expect(armed.mock.calls.length - before).toBe(1);
    expect(vi.getTimerCount()).toBe(1);
    armed.mockRestore();
  });

  it('a cancelled key never fires, and leaves no timer behind', () => {
    s.schedule('a', T0 + 1000);
    s.cancel('a');
    vi.advanceTimersByTime(2000);
    expect(fired).toEqual([]);
    s.schedule('b', T0 + 3000);
    vi.advanceTimersByTime(1000);
    expect(fired).toEqual([['b', T0 + 3000]]);
  });

  it('sleeps at most an hour, and a far deadline still fires on time', () => {
    const far = T0 + 30 * 86_400_000; // past setTimeout's 24.8-day limit
    s.schedule('far', far);
    vi.advanceTimersByTime(MAX_SLEEP_MS);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(far - T0 - MAX_SLEEP_MS - 1);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual([['far', far]]);
  });

  it('a past deadline fires at once', () => {
    s.schedule('late', T0 - 5000);
    vi.advanceTimersByTime(0);
    expect(fired).toEqual([['late', T0]]);
  });

  it('stale entries do not pile up: the heap stays near the live key count', () => {
    for (let i = 0; i < 1000; i++) s.schedule(`k${i % 10}`, T0 + 1_000_000 - i);
    expect(s.size).toBe(10);
    expect(s.entries).toBeLessThanOrEqual(2 * 10 + 64 + 1);
    vi.advanceTimersByTime(1_000_000);
    expect(fired.map(([k]) => k).sort()).toEqual(
      ['k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7', 'k8', 'k9'].sort(),
    );
  });

  it('fires many keys in deadline order (the heap orders them)', () => {
    const ats = Array.from({ length: 500 }, (_, i) => ((i * 7919) % 500) + 1);
    ats.forEach((at, i) => {
      s.schedule(`k${i}`, T0 + at * 10);
    });
    vi.advanceTimersByTime(10_000);
    const times = fired.map(([, t]) => t);
    expect(times).toHaveLength(500);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it('when onDue throws, the keys due with it still fire', () => {
    s.close();
    s = new DeadlineScheduler<string>({
      onDue: (key, t) => {
        fired.push([key, t]);
        if (key === 'bad') throw new Error('boom');
      },
    });
    s.schedule('bad', T0 + 1000);
    s.schedule('good', T0 + 1000);
    expect(() => vi.advanceTimersByTime(1000)).toThrow('boom');
    vi.advanceTimersByTime(1);
    expect(fired.map(([k]) => k).sort()).toEqual(['bad', 'good']);
  });

  it('after close nothing fires and nothing is scheduled', () => {
    s.schedule('a', T0 + 1000);
    s.close();
    s.schedule('b', T0 + 1000);
    vi.advanceTimersByTime(5000);
    expect(fired).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
