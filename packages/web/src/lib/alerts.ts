import type { Point } from './health.js';

/** When a live link counts as degraded. */
export const THRESHOLDS = { lossPct: 2, rttMs: 300 } as const;

export type Condition = 'ok' | 'degraded' | 'no-signal' | 'down' | 'idle';

/** How loud a condition is: red (`critical`), amber (`warning`), or not an alarm at all. */
export type Level = 'critical' | 'warning' | null;

export interface Assessment {
  condition: Condition;
  /** Stable while the same problem lasts (the numbers in `reason` change every second). */
  key: string;
  /** Why, in words (shown next to the colour, never colour alone). */
  reason: string;
  level: Level;
}

/** What of a stream's view the assessment reads. */
export interface StreamSituation {
  state: 'idle' | 'waiting' | 'paired' | 'no-signal' | 'connected';
  tally: 'program' | 'preview' | 'none';
}

/**
 * How a stream's link is doing. `wasLive`: the link was connected at some point this session,
 * so a link that is no longer connected has dropped (rather than not started yet). A path up
 * with no media (`no-signal`: the encoder stopped, or the decoder is gone) is an alarm whether
 * or not media ever flowed: red on a stream that is on program, amber otherwise. Only media
 * flowing again (`connected`) makes a link healthy, so "Recovered" follows nothing else.
 *
 * @example
 * assess({ state: 'connected', tally: 'none' }, true, { t: 0, bps: 8e6, rttMs: 420, lossPct: 0 }).condition // 'degraded'
 * assess({ state: 'no-signal', tally: 'program' }, true, undefined).level // 'critical'
 */
export function assess(
  stream: StreamSituation,
  wasLive: boolean,
  latest: Point | undefined,
  th: { lossPct: number; rttMs: number } = THRESHOLDS,
): Assessment {
  const { state } = stream;
  if (state === 'no-signal') {
    const onAir = stream.tally === 'program';
    return {
      condition: 'no-signal',
      key: `no-signal:${onAir ? 'program' : 'other'}`,
      reason: `No signal: the path is up but no media crosses it${onAir ? ' (on program)' : ''}`,
      level: onAir ? 'critical' : 'warning',
    };
  }
  if (state !== 'connected') {
    if (wasLive) {
      const why =
        state === 'paired'
          ? 'no health reports from the agents'
          : state === 'waiting'
            ? 'one side left'
            : 'both sides left';
      return {
        condition: 'down',
        key: `down:${state}`,
        reason: `Link dropped: ${why}`,
        level: 'critical',
      };
    }
    return {
      condition: 'idle',
      key: 'idle',
      reason: state === 'idle' ? 'Nobody connected' : 'Not connected yet',
      level: null,
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
      level: 'warning',
    };
  }
  return { condition: 'ok', key: 'ok', reason: 'Link healthy', level: null };
}

/**
 * What a takeover was, in words: which side was replaced, and by what (never who or where: the
 * room does not say).
 *
 * @example
 * takeoverText({ role: 'sender', at: 0, by: 'peer' }) // 'Sender replaced by a new agent (takeover)'
 */
export function takeoverText(t: { role: 'sender' | 'receiver'; by: 'peer' | 'admin' }): string {
  const side = t.role === 'sender' ? 'Sender' : 'Receiver';
  return t.by === 'peer'
    ? `${side} replaced by a new agent (takeover)`
    : `${side} replaced by a connection with the admin token`;
}
