import { describe, expect, it } from 'vitest';
import { THRESHOLDS, assess, takeoverText, type StreamSituation } from './alerts.js';

const point = (rttMs: number | null, lossPct: number | null) => ({
  t: 0,
  bps: 1e6,
  rttMs,
  lossPct,
});

const at = (state: StreamSituation['state'], tally: StreamSituation['tally'] = 'none') => ({
  state,
  tally,
});

describe('assess', () => {
  it('keeps the same key while the same threshold stays crossed, whatever the numbers', () => {
    const a = assess(at('connected'), true, point(20, 3.1));
    const b = assess(at('connected'), true, point(25, 7.4));
    expect(a.key).toBe(b.key);
    expect(a.reason).not.toBe(b.reason);
    expect(assess(at('connected'), true, point(900, 7.4)).key).not.toBe(a.key);
  });

  it('a connected link within the thresholds is healthy', () => {
    expect(assess(at('connected'), true, point(40, 0.1)).condition).toBe('ok');
    expect(assess(at('connected'), true, undefined).condition).toBe('ok');
  });
  it('loss or RTT over the threshold is degraded, and says which and by how much', () => {
    const a = assess(at('connected'), true, point(THRESHOLDS.rttMs + 100, THRESHOLDS.lossPct + 3));
    expect(a.condition).toBe('degraded');
    expect(a.reason).toContain('loss 5.0 %');
    expect(a.reason).toContain('RTT 400 ms');
  });
  it('a link that was live and no longer is has dropped; one that never was is idle', () => {
    expect(assess(at('paired'), true, undefined)).toEqual({
      condition: 'down',
      key: 'down:paired',
      reason: 'Link dropped: no health reports from the agents',
      level: 'critical',
    });
    expect(assess(at('waiting'), true, undefined).reason).toContain('one side left');
    expect(assess(at('waiting'), false, undefined).condition).toBe('idle');
  });

  it('no signal is red on a stream on program, amber otherwise, live before or not', () => {
    const onAir = assess(at('no-signal', 'program'), true, undefined);
    expect(onAir).toMatchObject({ condition: 'no-signal', level: 'critical' });
    expect(onAir.reason).toBe('No signal: the path is up but no media crosses it (on program)');
    for (const tally of ['preview', 'none'] as const) {
      expect(assess(at('no-signal', tally), false, undefined)).toMatchObject({
        condition: 'no-signal',
        level: 'warning',
      });
    }
    // Going on program is news: the key changes with it.
    expect(assess(at('no-signal', 'preview'), true, undefined).key).not.toBe(onAir.key);
    expect(assess(at('no-signal', 'preview'), true, undefined).key).toBe(
      assess(at('no-signal', 'none'), true, undefined).key,
    );
  });

  it('only media flowing again (connected) is healthy: a bare path up is never ok', () => {
    expect(assess(at('connected', 'program'), true, point(20, 0)).condition).toBe('ok');
    for (const state of ['paired', 'waiting', 'idle', 'no-signal'] as const) {
      expect(assess(at(state, 'program'), true, point(20, 0)).condition).not.toBe('ok');
    }
  });
});

describe('takeoverText', () => {
  it('names the side and what replaced it', () => {
    expect(takeoverText({ role: 'sender', by: 'peer' })).toBe(
      'Sender replaced by a new agent (takeover)',
    );
    expect(takeoverText({ role: 'receiver', by: 'admin' })).toBe(
      'Receiver replaced by a connection with the admin token',
    );
  });
});
