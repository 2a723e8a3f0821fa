import { describe, expect, it } from 'vitest';
import { THRESHOLDS, assess } from './alerts.js';

const point = (rttMs: number | null, lossPct: number | null) => ({
  t: 0,
  bps: 1e6,
  rttMs,
  lossPct,
});

describe('assess', () => {
  it('keeps the same key while the same threshold stays crossed, whatever the numbers', () => {
    const a = assess('connected', true, point(20, 3.1));
    const b = assess('connected', true, point(25, 7.4));
    expect(a.key).toBe(b.key);
    expect(a.reason).not.toBe(b.reason);
    expect(assess('connected', true, point(900, 7.4)).key).not.toBe(a.key);
  });

  it('a connected link within the thresholds is healthy', () => {
    expect(assess('connected', true, point(40, 0.1)).condition).toBe('ok');
    expect(assess('connected', true, undefined).condition).toBe('ok');
  });
  it('loss or RTT over the threshold is degraded, and says which and by how much', () => {
    const a = assess('connected', true, point(THRESHOLDS.rttMs + 100, THRESHOLDS.lossPct + 3));
    expect(a.condition).toBe('degraded');
    expect(a.reason).toContain('loss 5.0 %');
    expect(a.reason).toContain('RTT 400 ms');
  });
  it('a link that was live and no longer is has dropped; one that never was is idle', () => {
    expect(assess('paired', true, undefined)).toEqual({
      condition: 'down',
      key: 'down:paired',
      reason: 'Link dropped: no health reports from the agents',
    });
    expect(assess('waiting', true, undefined).reason).toContain('one side left');
    expect(assess('waiting', false, undefined).condition).toBe('idle');
  });
});
