import { describe, expect, it } from 'vitest';
import {
  HEALTH_LIVE_MS,
  HEALTH_STORE_INTERVAL_MS,
  HEALTH_STORE_JITTER_MS,
  MEDIA_MIN_BPS,
  NO_SIGNAL_MS,
  SlotHealth,
} from './health.js';

const T = 1_741_234_000_000;

describe('SlotHealth', () => {
  it('has no path and no silence to wait for before the first report', () => {
    const h = new SlotHealth();
    expect(h.liveness(T)).toBeNull();
    expect(h.silentAt(T)).toBeUndefined();
  });

  it('reports the last path for HEALTH_LIVE_MS after the last report, then null', () => {
    const h = new SlotHealth();
    h.report({ path: 'direct' }, T);
    expect(h.liveness(T)).toBe('direct');
    expect(h.liveness(T + HEALTH_LIVE_MS)).toBe('direct');
    expect(h.liveness(T + HEALTH_LIVE_MS + 1)).toBeNull();
    h.report({ path: 'relay' }, T + 1000);
    expect(h.liveness(T + 1000)).toBe('relay');
  });

  it('a report without a path is live but has no path', () => {
    const h = new SlotHealth();
    h.report({}, T);
    expect(h.liveness(T)).toBeNull();
    expect(h.silentAt(T)).toBe(T + HEALTH_LIVE_MS + 1);
  });

  it('says a report is due for storage at most once per HEALTH_STORE_INTERVAL_MS', () => {
    const h = new SlotHealth();
    expect(h.report({ path: 'direct' }, T)).toBe(true);
    expect(h.report({ path: 'direct' }, T + 10)).toBe(false);
    expect(h.report({ path: 'relay' }, T + HEALTH_STORE_JITTER_MS - 1)).toBe(false);
    // A throttled report still refreshes the live path.
    expect(h.liveness(T + HEALTH_STORE_JITTER_MS - 1)).toBe('relay');
    // A report a little early (jitter) is stored, and the rhythm stays a second.
    expect(h.report({ path: 'relay' }, T + HEALTH_STORE_INTERVAL_MS - 20)).toBe(true);
    expect(h.report({ path: 'relay' }, T + 2 * HEALTH_STORE_INTERVAL_MS + 20)).toBe(true);
    expect(h.report({ path: 'relay' }, T + 3 * HEALTH_STORE_INTERVAL_MS - 30)).toBe(true);
    expect(h.report({ path: 'relay' }, T + 3 * HEALTH_STORE_INTERVAL_MS + 1)).toBe(false);
  });

  it('stores at most N + 1 reports over N intervals of a flood (one report every 10 ms)', () => {
    const h = new SlotHealth();
    const seconds = 20;
    let stored = 0;
    for (let at = T; at < T + seconds * HEALTH_STORE_INTERVAL_MS; at += 10) {
      if (h.report({ path: 'direct' }, at)) stored++;
    }
    expect(stored).toBeLessThanOrEqual(seconds + 1);
    expect(stored).toBeGreaterThanOrEqual(seconds);
  });

  it('silentAt is the first instant liveness is null, while that is still to come', () => {
    const h = new SlotHealth();
    h.report({ path: 'direct' }, T);
    const at = h.silentAt(T);
    expect(at).toBe(T + HEALTH_LIVE_MS + 1);
    expect(h.liveness(at! - 1)).toBe('direct');
    expect(h.liveness(at!)).toBeNull();
    expect(h.silentAt(at! - 1)).toBe(at);
    expect(h.silentAt(at!)).toBeUndefined();
  });

  it('media: pending while a path is up without media for less than NO_SIGNAL_MS, then quiet', () => {
    const h = new SlotHealth();
    expect(h.media(T)).toBeNull();
    h.report({ path: 'direct', mediaBps: 0 }, T);
    expect(h.media(T)).toBe('pending');
    expect(h.mediaChangeAt(T)).toBe(T + NO_SIGNAL_MS);
    h.report({ path: 'direct', mediaBps: MEDIA_MIN_BPS - 1 }, T + 2000);
    expect(h.media(T + NO_SIGNAL_MS - 1)).toBe('pending');
    expect(h.media(T + NO_SIGNAL_MS)).toBe('quiet');
    expect(h.mediaChangeAt(T + NO_SIGNAL_MS)).toBeUndefined();
    h.report({ path: 'direct', mediaBps: MEDIA_MIN_BPS }, T + 4000);
    expect(h.media(T + 4000)).toBe('flowing');
    expect(h.mediaChangeAt(T + 4000)).toBe(T + 4000 + NO_SIGNAL_MS);
    expect(h.media(T + 4000 + NO_SIGNAL_MS)).toBe('quiet');
  });

  it('media: null while the path is down or silent, and a path that comes back starts over', () => {
    const h = new SlotHealth();
    h.report({ path: 'none', mediaBps: 0 }, T);
    expect(h.media(T + NO_SIGNAL_MS)).toBeNull();
    h.report({ path: 'relay', mediaBps: 0 }, T + 1000);
    h.report({ path: 'relay', mediaBps: 0 }, T + 4000);
    expect(h.media(T + 4000)).toBe('quiet');
    expect(h.media(T + 4000 + HEALTH_LIVE_MS + 1)).toBeNull();
    // Silent, then up again: pending for NO_SIGNAL_MS from the new report.
    const back = T + 4000 + HEALTH_LIVE_MS + 2;
    h.report({ path: 'relay', mediaBps: 0 }, back);
    expect(h.media(back)).toBe('pending');
    h.report({ path: 'none', mediaBps: 0 }, back + 500);
    h.report({ path: 'relay', mediaBps: 0 }, back + 1000);
    expect(h.media(back + NO_SIGNAL_MS)).toBe('pending');
    expect(h.media(back + 1000 + NO_SIGNAL_MS)).toBe('quiet');
  });

  it('a report without mediaBps (an agent before media counting) counts as media', () => {
    const h = new SlotHealth();
    h.report({ path: 'direct' }, T);
    expect(h.media(T + HEALTH_LIVE_MS)).toBe('flowing');
    expect(h.mediaChangeAt(T)).toBeUndefined();
  });
});
