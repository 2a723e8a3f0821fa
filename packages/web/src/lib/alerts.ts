import type { Point } from './health.js';

/** When a live link counts as degraded. */
export const THRESHOLDS = { lossPct: 2, rttMs: 300 } as const;

export type Condition = 'ok' | 'degraded' | 'down' | 'idle';

export interface Assessment {
  condition: Condition;
  /** Stable while the same problem lasts (the numbers in `reason` change every second). */
  key: string;
  /** Why, in words (shown next to the colour, never colour alone). */
  reason: string;
}

/**
 * How a stream's link is doing. `wasLive`: the link was connected at some point this session,
 * so a link that is no longer connected has dropped (rather than not started yet).
 *
 * @example
 * assess('connected', true, { t: 0, bps: 8e6, rttMs: 420, lossPct: 0 }).condition // 'degraded'
 */
export function assess(
  state: 'idle' | 'waiting' | 'paired' | 'connected',
  wasLive: boolean,
  latest: Point | undefined,
  th: { lossPct: number; rttMs: number } = THRESHOLDS,
): Assessment {
  if (state !== 'connected') {
    if (wasLive) {
      const why =
        state === 'paired'
          ? 'no health reports from the agents'
          : state === 'waiting'
            ? 'one side left'
            : 'both sides left';
      return { condition: 'down', key: `down:${state}`, reason: `Link dropped: ${why}` };
    }
    return {
      condition: 'idle',
      key: 'idle',
      reason: state === 'idle' ? 'Nobody connected' : 'Not connected yet',
    };
  }
  const problems: string[] = [];
  const crossed: string[] = [];
  if (latest?.lossPct !== null && latest?.lossPct !== undefined && latest.lossPct > th.lossPct) {
    problems.push(`loss ${latest.lossPct.toFixed(1)} % (over ${th.lossPct} %)`);
    crossed.push('loss');
  }
  if (latest?.rttMs !== null && latest?.rttMs !== undefined && latest.rttMs > th.rttMs) {
    problems.push(`RTT ${Math.round(latest.rttMs)} ms (over ${th.rttMs} ms)`);
    crossed.push('rtt');
  }
  if (problems.length > 0) {
    return {
      condition: 'degraded',
      key: `degraded:${crossed.join('+')}`,
      reason: `Degraded: ${problems.join(', ')}`,
    };
  }
  return { condition: 'ok', key: 'ok', reason: 'Link healthy' };
}
