import { describe, expect, it } from 'vitest';
import { HEALTH_LIVE_MS, HEALTH_STORE_INTERVAL_MS, SlotHealth } from './health.js';

const T = 1_741_234_000_000;

describe('SlotHealth', () => {
  it('has no path and no silence to wait for before the first report', () => {
    const h = new SlotHealth();
    expect(h.liveness(T)).toBeNull();
    expect(h.silentAt(T)).toBeUndefined();
  });

  it('reports the last path for HEALTH_LIVE_MS after the last report, then null', () => {
    const h = new SlotHealth();
    h.report('direct', T);
    expect(h.liveness(T)).toBe('direct');
    expect(h.liveness(T + HEALTH_LIVE_MS)).toBe('direct');
    expect(h.liveness(T + HEALTH_LIVE_MS + 1)).toBeNull();
    h.report('relay', T + 1000);
    expect(h.liveness(T + 1000)).toBe('relay');
  });

  it('a report without a path is live but has no path', () => {
    const h = new SlotHealth();
    h.report(undefined, T);
    expect(h.liveness(T)).toBeNull();
    expect(h.silentAt(T)).toBe(T + HEALTH_LIVE_MS + 1);
  });

  it('says a report is due for storage at most once per HEALTH_STORE_INTERVAL_MS', () => {
    const h = new SlotHealth();
    expect(h.report('direct', T)).toBe(true);
    expect(h.report('direct', T + 10)).toBe(false);
    expect(h.report('relay', T + HEALTH_STORE_INTERVAL_MS - 1)).toBe(false);
    // A throttled report still refreshes the live path.
    expect(h.liveness(T + HEALTH_STORE_INTERVAL_MS - 1)).toBe('relay');
    expect(h.report('relay', T + HEALTH_STORE_INTERVAL_MS)).toBe(true);
    expect(h.report('relay', T + HEALTH_STORE_INTERVAL_MS + 1)).toBe(false);
  });

  it('silentAt is the first instant liveness is null, while that is still to come', () => {
    const h = new SlotHealth();
    h.report('direct', T);
    const at = h.silentAt(T);
    expect(at).toBe(T + HEALTH_LIVE_MS + 1);
    expect(h.liveness(at! - 1)).toBe('direct');
    expect(h.liveness(at!)).toBeNull();
    expect(h.silentAt(at! - 1)).toBe(at);
    expect(h.silentAt(at!)).toBeUndefined();
  });
});
