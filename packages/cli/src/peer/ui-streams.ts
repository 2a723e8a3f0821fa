import type { AgentEvent } from './events.js';
import { createReporter, tallyBadge, type ReporterSink } from './ui.js';

/** A log line longer than this is not a stream's status: its first clause is. */
const STATUS_MAX = 48;
/** Width assumed when the terminal does not say (`columns` is undefined on some pipes). */
const DEFAULT_COLUMNS = 80;

/** A reporter for every stream, and how to leave the terminal once the agent is done. */
export type StreamsReporter = ((e: AgentEvent) => void) & {
  /** Clears the live block: nothing below the log says ON AIR once the agent has stopped. */
  end(): void;
};

/**
 * The human output of an agent receiving every stream: each stream's lines prefixed with its
 * name, and on a terminal one live status line per stream (tally badge, path, rates), kept
 * together below the log in the session's order. Events about the link (connecting to Punch,
 * the session ending) print as they are. `--json` needs none of this: its events carry
 * `stream`.
 *
 * The block is redrawn by moving the cursor up one row per block line, so a block line must
 * never wrap: each is cut to the terminal's width. A stream's status is short text (the
 * health line, or the first clause of its latest log line), never a command line.
 *
 * @example
 * const report = createStreamsReporter(process.stdout);
 * report({ event: 'registered', stream: 'cam-2', role: 'receiver', stun: 'punch' });
 * // cam-2 │ ✓ registered as receiver of "cam-2"
 */
export function createStreamsReporter(out: NodeJS.WriteStream): StreamsReporter {
  const tty = out.isTTY;
  /** The live status of each stream (no tally badge), in the order the streams appeared. */
  const block = new Map<string, string>();
  /** Each stream's tally, drawn as a badge before its status once it is registered. */
  const tallies = new Map<string, 'program' | 'preview' | 'none'>();
  const registered = new Set<string>();
  /** How many block lines are on screen, below the cursor's line. */
  let shown = 0;
  let width = 0;
  /** Once the agent is done: no block any more, lines only. */
  let ended = false;
  /** The event being reported: its lines may not become the stream's status. */
  let current: AgentEvent | undefined;

  const erase = (): void => {
    // Back to the block's first line and clear down.
    out.write(shown > 0 ? `\x1b[${shown}A\r\x1b[J` : '\r\x1b[J');
    shown = 0;
  };
  const redraw = (): void => {
    if (!tty || ended) return;
    erase();
    const columns = out.columns > 0 ? out.columns : DEFAULT_COLUMNS;
    for (const [name, text] of block) {
      const tally = registered.has(name) ? (tallies.get(name) ?? 'none') : 'none';
      out.write(`${fit(`${label(name)}${tallyBadge(tally, tty)}${text}`, columns)}\n`);
    }
    shown = block.size;
  };
  const print = (text: string): void => {
    if (tty && shown > 0) erase();
    out.write(`${text}\n`);
    redraw();
  };
  const label = (name: string): string => `${name.padEnd(width)} │ `;

  const perStream = new Map<string, (e: AgentEvent) => void>();
  const global = createReporter(false, out, { tty, line: print, status: print });
  const reporterOf = (name: string): ((e: AgentEvent) => void) => {
    let report = perStream.get(name);
    if (report === undefined) {
      width = Math.max(width, name.length);
      block.set(name, '…');
      const sink: ReporterSink = {
        tty,
        drawsTally: true,
        line: (text) => {
          const status = statusOf(text, current);
          if (status !== undefined) block.set(name, status);
          print(`${label(name)}${text}`);
        },
        status: (text) => {
          block.set(name, text);
          redraw();
        },
      };
      report = createReporter(false, out, sink);
      perStream.set(name, report);
    }
    return report;
  };
  const end = (): void => {
    if (tty && !ended) erase();
    ended = true;
  };
  const report = (e: AgentEvent): void => {
    // The session ended or the agent failed as a whole: the block goes before the last words.
    if (e.event === 'closed' || (e.event === 'error' && e.fatal && e.stream === undefined)) end();
    if (e.stream === undefined) {
      global(e);
      return;
    }
    if (e.event === 'registered') registered.add(e.stream);
    // The badge moves on the stream's status line at once, not only with the next health.
    if (e.event === 'tally') tallies.set(e.stream, e.tally);
    current = e;
    try {
      reporterOf(e.stream)(e);
    } finally {
      current = undefined;
    }
    if (e.event === 'tally' || e.event === 'registered') redraw();
  };
  return Object.assign(report, { end });
}

/**
 * What a stream's log line leaves as its status: nothing for tally lines (the badge has it),
 * the local commands (long command lines) and srt-live-transmit's own words; the first clause
 * of a long line; short lines as they are.
 */
function statusOf(text: string, e: AgentEvent | undefined): string | undefined {
  if (e?.event === 'local' || e?.event === 'exec' || text.startsWith('tally:')) return undefined;
  if (text.startsWith(' ')) return undefined;
  if (visible(text) <= STATUS_MAX) return text;
  const cut = /: |; | \(/.exec(text);
  const clause = cut === null ? text : text.slice(0, cut.index);
  return visible(clause) <= STATUS_MAX ? clause : fit(clause, STATUS_MAX + 1);
}

// eslint-disable-next-line no-control-regex -- terminal colour sequences are what is skipped
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/y;

/** How many terminal columns `text` takes: its characters, colour sequences not counted. */
function visible(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length;) {
    ANSI.lastIndex = i;
    const esc = ANSI.exec(text);
    if (esc !== null) {
      i += esc[0].length;
      continue;
    }
    const cp = text.codePointAt(i) ?? 0;
    i += cp > 0xffff ? 2 : 1;
    n++;
  }
  return n;
}

/**
 * `text` cut to fewer than `columns` visible characters, with an ellipsis when cut, colour
 * sequences kept whole (and reset after a cut). One column stays free: some terminals wrap
 * as soon as a line fills the last one.
 */
export function fit(text: string, columns: number): string {
  const max = Math.max(1, columns - 1);
  if (visible(text) <= max) return text;
  let kept = '';
  let n = 0;
  let coloured = false;
  for (let i = 0; i < text.length;) {
    ANSI.lastIndex = i;
    const esc = ANSI.exec(text);
    if (esc !== null) {
      kept += esc[0];
      coloured = esc[0] !== '\x1b[0m';
      i += esc[0].length;
      continue;
    }
    if (n === max - 1) break;
    const cp = text.codePointAt(i) ?? 0;
    const ch = String.fromCodePoint(cp);
    kept += ch;
    i += ch.length;
    n++;
  }
  return `${kept}…${coloured ? '\x1b[0m' : ''}`;
}
