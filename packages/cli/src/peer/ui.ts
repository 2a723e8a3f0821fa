import { SlotHealth } from '@punch/core';
import type { AgentEvent } from './events.js';
import type { RelayReason } from './pairing.js';

/**
 * How the agent talks to its operator: NDJSON events (`--json`), or readable lines with a live
 * status line on a terminal: waiting → paired → punching → direct → streaming, and tally as an
 * ON AIR / PREVIEW badge (words as well as colour). A path that is up but carries no media for
 * 3 s (the room's `no-signal`, judged the same way) says so, and whose media is missing.
 * `now` is the clock health is judged by (milliseconds).
 */
export function createReporter(
  json: boolean,
  out: NodeJS.WriteStream,
  sink: ReporterSink = terminalSink(out),
  now: () => number = Date.now,
): (e: AgentEvent) => void {
  if (json) {
    return (e) => {
      out.write(`${JSON.stringify({ ...e, at: new Date().toISOString() })}\n`);
    };
  }
  const tty = sink.tty;
  const colour = (code: string, text: string): string =>
    tty ? `\x1b[${code}m${text}\x1b[0m` : text;
  let tally = '';
  let lastTally = 'none';
  /**
   * Tally before this side is registered is not its own yet: a second run of a link whose
   * slot is live would show ON AIR and then be refused. It waits for `registered`.
   */
  let registered = false;
  let heldTally: 'program' | 'preview' | 'none' = 'none';
  const showTally = (state: 'program' | 'preview' | 'none'): void => {
    tally = sink.drawsTally === true ? '' : tallyBadge(state, tty);
    const badge = tallyBadge(state, tty);
    if (state !== lastTally) line(state === 'none' ? 'tally: off' : `tally: ${badge}`);
    lastTally = state;
  };
  let direct = false;
  /** The status line on screen (tty only), redrawn below a child's output line; '' when none. */
  let shown = '';
  let role = 'sender';
  // This side's own reports, read as the room reads them (one rule, in core).
  let health = new SlotHealth();
  let noMedia = false;
  const line = (text: string): void => {
    sink.line(text);
    shown = '';
  };
  const status = (text: string): void => {
    const full = `${tally}${text}`;
    if (tty) {
      sink.status(full);
      shown = full;
    } else line(full);
  };
  return (e) => {
    switch (e.event) {
      case 'status':
        // The health line shows streaming; the paired and path lines say when it punches.
        if (
          (e.status === 'streaming' && tty) ||
          e.status === 'punching' ||
          e.status === 'direct' ||
          e.status === 'relay'
        )
          return;
        if (e.status === 'connecting' && e.detail !== undefined) line(`… ${e.detail}`);
        else line(`● ${e.detail ?? describe(e.status)}`);
        break;
      case 'registered':
        role = e.role;
        line(`✓ registered as ${e.role} of "${e.stream}"`);
        if (!registered) {
          registered = true;
          showTally(heldTally);
        }
        break;
      case 'paired':
        line(`✓ paired with ${e.remote.ip}:${e.remote.port}: punching through the NATs`);
        break;
      case 'path':
        if (e.path === 'direct' || e.path === 'relay') {
          const where =
            e.path === 'relay' || e.via === 'relay'
              ? 'through the relay (no direct path between the two networks yet)'
              : e.via === 'local'
                ? 'on the same network'
                : 'through the NATs';
          const kind = e.path === 'relay' || e.via === 'relay' ? 'relayed' : 'direct';
          line(
            direct
              ? `✓ switched to the ${kind} path ${where}`
              : `✓ ${kind} path up ${where}; waiting for SRT`,
          );
          direct = true;
        } else {
          direct = false;
          line(`✗ path lost: ${e.reason ?? ''}; looking for a way through again`);
        }
        break;
      case 'relay':
        line(
          `✓ relaying (${WHY[e.why]}): allocated ${e.address.ip}:${e.address.port} on the relay over ${e.transport.toUpperCase()}`,
        );
        break;
      case 'local':
        line('Point your SRT tool at this agent:');
        for (const [tool, cmd] of Object.entries(e.commands)) line(`  ${tool}: ${cmd}`);
        break;
      case 'health': {
        const s = e.stats;
        const mbit = (bps: number | undefined): string => ((bps ?? 0) / 1e6).toFixed(1);
        const t = now();
        health.report(s, t);
        const media = health.media(t);
        const quiet = media === 'quiet';
        const missing = `path up, no media from ${role === 'sender' ? 'your encoder' : 'the other side'}`;
        if (tty)
          status(
            quiet
              ? `${colour('33;1', '■')} ${missing} (${s.path}, RTT ${s.rttMs?.toFixed(1) ?? '—'} ms)`
              : `▶ ${s.path} ↑ ${mbit(s.sendBps)} Mbit/s ↓ ${mbit(s.recvBps)} Mbit/s  RTT ${s.rttMs?.toFixed(1) ?? '—'} ms  loss ${s.lossPct ?? 0}%`,
          );
        else if (quiet && !noMedia) line(`! ${missing}`);
        else if (media === 'flowing' && noMedia) line('✓ media flowing again');
        // A path that went down says so itself; once it is back, silence is news again.
        if (quiet) noMedia = true;
        else if (media !== 'pending') noMedia = false;
        break;
      }
      case 'tally':
        if (registered) showTally(e.tally);
        else heldTally = e.tally;
        break;
      case 'peer-left':
        direct = false;
        health = new SlotHealth();
        noMedia = false;
        line('✗ the other side left; waiting for it to come back');
        break;
      case 'exec': {
        // srt-live-transmit's own words, on a line of their own and marked as its, with the
        // status line (if one was up) drawn again below them.
        const again = shown;
        line(`  srt-live-transmit: ${e.line}`);
        if (again !== '') {
          sink.status(again);
          shown = again;
        }
        break;
      }
      case 'error':
        line(`${e.fatal ? '✗ error' : '! warning'} ${e.code}: ${e.message}`);
        break;
      case 'closed':
        line(`■ the session ended (${e.reason})`);
        break;
    }
  };
}

/** Tally as a badge before the status line (words as well as colour), or nothing. */
export function tallyBadge(state: 'program' | 'preview' | 'none', tty: boolean): string {
  const colour = (code: string, text: string): string =>
    tty ? `\x1b[${code}m${text}\x1b[0m` : text;
  return state === 'program'
    ? `${colour('41;97;1', ' ON AIR ')} `
    : state === 'preview'
      ? `${colour('42;30;1', ' PREVIEW ')} `
      : '';
}

/** Where a reporter writes: whole lines, and its live status line (on a terminal). */
export interface ReporterSink {
  readonly tty: boolean;
  /** The sink draws the tally badge on the status line itself (one line per stream). */
  readonly drawsTally?: boolean;
  line(text: string): void;
  status(text: string): void;
}

/** One agent's lines on a terminal (or a pipe), its status line rewritten in place. */
function terminalSink(out: NodeJS.WriteStream): ReporterSink {
  let live = false;
  return {
    tty: out.isTTY,
    line: (text) => {
      if (live) out.write('\r\x1b[2K');
      live = false;
      out.write(`${text}\n`);
    },
    status: (text) => {
      out.write(`\r\x1b[2K${text}`);
      live = true;
    },
  };
}

/** Why the agent relays, as the status line says it. */
const WHY: Record<RelayReason, string> = {
  'no-direct-path': 'no direct path opened within a few seconds',
  'other-side-relays': 'the other side relays',
  always: 'this session always relays, for IP privacy',
  'udp-blocked': 'no STUN answer: this network seems to block UDP',
  'relay-lost': 'the relay lost the previous allocation',
};

function describe(status: string): string {
  switch (status) {
    case 'connecting':
      return 'connecting to Punch';
    case 'waiting':
      return 'waiting for the other side';
    case 'punching':
      return 'punching';
    case 'direct':
      return 'direct path up; waiting for SRT';
    case 'relay':
      return 'relayed path up; waiting for SRT';
    default:
      return status;
  }
}
