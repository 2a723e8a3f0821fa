import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RESERVATION_LIFETIME_S, Reservations } from './reservations.js';

describe('Reservations', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('hands a reserved port over once, to its token only', () => {
    const released: number[] = [];
    const r = new Reservations((p) => released.push(p));
    const token = r.reserve(50001, 'u');
    expect(token).toHaveLength(8);
    expect(r.take(new Uint8Array(8))).toBeUndefined();
    expect(r.take(token)).toBe(50001);
    expect(r.take(token)).toBeUndefined();
    vi.advanceTimersByTime(RESERVATION_LIFETIME_S * 1000);
    expect(released).toEqual([]); // taken: the allocation owns the port now
  });

  it('gives the port back when the reservation lapses, or at shutdown', () => {
    const released: number[] = [];
    const r = new Reservations((p) => released.push(p));
    const token = r.reserve(50001, 'u');
    r.reserve(50003, 'u');
    vi.advanceTimersByTime(RESERVATION_LIFETIME_S * 1000 - 1);
    expect(released).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(released).toEqual([50001, 50003]);
    expect(r.take(token)).toBeUndefined();
    r.reserve(50005, 'u');
    r.clear();
    expect(released).toEqual([50001, 50003, 50005]);
  });

  it('counts what each username holds, until taken, lapsed or cleared', () => {
    const r = new Reservations(() => undefined);
    const t1 = r.reserve(50001, 'alice');
    r.reserve(50003, 'alice');
    r.reserve(50005, 'bob');
    expect([r.heldBy('alice'), r.heldBy('bob'), r.heldBy('carol')]).toEqual([2, 1, 0]);
    r.take(t1);
    expect(r.heldBy('alice')).toBe(1);
    vi.advanceTimersByTime(RESERVATION_LIFETIME_S * 1000);
    expect([r.heldBy('alice'), r.heldBy('bob')]).toEqual([0, 0]);
    r.reserve(50007, 'alice');
    r.clear();
    expect(r.heldBy('alice')).toBe(0);
  });
});
