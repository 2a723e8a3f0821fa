import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_RECOVERY, Recovery, type RecoveryActions } from './recovery.js';

function setup(opts: { restartable?: boolean } = {}) {
  const log: string[] = [];
  const state = { connected: false, restartable: opts.restartable ?? true };
  const actions: RecoveryActions = {
    connected: () => state.connected,
    restartable: () => state.restartable,
    restartIce: () => log.push(`restart@${Date.now()}`),
    freshCall: (reason) => log.push(`fresh:${reason}@${Date.now()}`),
    giveUp: (reason) => log.push(`giveUp:${reason}@${Date.now()}`),
  };
  return { log, state, recovery: new Recovery(DEFAULT_RECOVERY, actions) };
}

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Recovery (caller)', () => {
  it('failed: ICE restart now, then after 1, 2, 4, 8 s, and gives up 16 s after the 5th', () => {
    const { log, recovery } = setup();
    recovery.onState('failed', true);
    vi.advanceTimersByTime(60_000);
    expect(log).toEqual([
      'restart@0',
      'restart@1000',
      'restart@3000',
      'restart@7000',
      'restart@15000',
      'giveUp:failed@31000',
    ]);
  });

  it('stops as soon as the connection is back, and starts over from the first delay', () => {
    const { log, state, recovery } = setup();
    recovery.onState('failed', true);
    vi.advanceTimersByTime(1000);
    state.connected = true;
    recovery.onState('connected', true);
    vi.advanceTimersByTime(60_000);
    expect(log).toEqual(['restart@0', 'restart@1000']);
    state.connected = false;
    recovery.onState('failed', true);
    vi.advanceTimersByTime(1500);
    expect(log.slice(2)).toEqual(['restart@61000', 'restart@62000']);
  });

  it('disconnected: waits out the 2 s grace first, and not at all if it comes back', () => {
    const { log, state, recovery } = setup();
    recovery.onState('disconnected', true);
    vi.advanceTimersByTime(1999);
    expect(log).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(log).toEqual(['restart@2000']);
    recovery.cancel();
    log.length = 0;
    recovery.onState('disconnected', true);
    vi.advanceTimersByTime(1000);
    state.connected = true;
    recovery.onState('connected', true);
    vi.advanceTimersByTime(10_000);
    expect(log).toEqual([]);
  });

  it('a call never answered (or closed) is replaced, not restarted', () => {
    const { log, recovery } = setup({ restartable: false });
    recovery.onState('failed', true);
    vi.advanceTimersByTime(1000);
    expect(log).toEqual(['fresh:retry@0', 'fresh:retry@1000']);
  });

  it('reset or the remote closing: a fresh call at once, even in the middle of a backoff', () => {
    const { log, recovery } = setup();
    recovery.onState('failed', true);
    vi.advanceTimersByTime(500);
    recovery.onReset();
    expect(log).toEqual(['restart@0', 'fresh:reset@500']);
    expect(recovery.active).toBe(true);
    vi.advanceTimersByTime(2000); // the fresh call did not connect: next try after 2 s
    expect(log.slice(2)).toEqual(['restart@2500']);
    recovery.cancel();
    log.length = 0;
    recovery.onRemoteClosed(true);
    expect(log).toEqual(['fresh:closed@2500']);
  });

  it('more failures during a backoff do not hurry it', () => {
    const { log, recovery } = setup();
    recovery.onState('failed', true);
    recovery.onState('disconnected', true);
    recovery.onState('failed', true);
    vi.advanceTimersByTime(999);
    expect(log).toEqual(['restart@0']);
  });
});

describe('Recovery (callee)', () => {
  it('never restarts; a failed connection ends after 30 s unless revived', () => {
    const { log, state, recovery } = setup();
    recovery.onState('disconnected', false);
    recovery.onState('failed', false);
    vi.advanceTimersByTime(29_999);
    expect(log).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(log).toEqual(['giveUp:failed@30000']);
    log.length = 0;
    recovery.onState('failed', false);
    vi.advanceTimersByTime(10_000);
    state.connected = true;
    recovery.onState('connected', false);
    vi.advanceTimersByTime(60_000);
    expect(log).toEqual([]);
  });

  it('ends at once when the remote closed its connection', () => {
    const { log, recovery } = setup();
    recovery.onRemoteClosed(false);
    expect(log).toEqual(['giveUp:remote@0']);
  });
});
