import type { AgentEvent } from './events.js';
import { createReporter, tallyBadge, type ReporterSink } from './ui.js';

/**
 * The human output of an agent receiving every stream: each stream's lines prefixed with its
 * name, and on a terminal one live status line per stream (tally badge, path, rates), kept
 * together below the log in the session's order. Events about the link (connecting to Punch,
 * the session ending) print as they are. `--json` needs none of this: its events carry
 * `stream`.
 *
 * @example
 * const report = createStreamsReporter(process.stdout);
 * report({ event: 'registered', stream: 'cam-2', role: 'receiver', stun: 'punch' });
 * // cam-2 │ ✓ registered as receiver of "cam-2"
 */
export function createStreamsReporter(out: NodeJS.WriteStream): (e: AgentEvent) => void {
  const tty = out.isTTY;
  /** The live status of each stream, in the order the streams appeared. */
  const block = new Map<string, string>();
  /** Each stream's tally badge, before a status that is its latest line (health has it). */
  const badges = new Map<string, string>();
  /** How many block lines are on screen, below the cursor's line. */
  let shown = 0;
  let width = 0;

  const redraw = (): void => {
    if (!tty) return;
    // Back to the block's first line and clear down, then draw it again.
    out.write(shown > 0 ? `\x1b[${shown}A\r\x1b[J` : '\r\x1b[J');
    for (const [name, text] of block) out.write(`${label(name)}${text}\n`);
    shown = block.size;
  };
  const print = (text: string): void => {
    if (tty && shown > 0) {
      out.write(`\x1b[${shown}A\r\x1b[J`);
      shown = 0;
    }
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
        // The stream's latest line is also its status until the next one, or live health.
        line: (text) => {
          if (!text.startsWith('tally:')) block.set(name, `${badges.get(name) ?? ''}${text}`);
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
  return (e) => {
    if (e.stream === undefined) {
      global(e);
      return;
    }
    if (e.event === 'tally') {
      const was = badges.get(e.stream) ?? '';
      const now = tallyBadge(e.tally, tty);
      badges.set(e.stream, now);
      // The badge moves on the stream's status line at once, not only with the next health.
      const status = block.get(e.stream);
      if (status?.startsWith(was) === true)
        block.set(e.stream, `${now}${status.slice(was.length)}`);
    }
    reporterOf(e.stream)(e);
  };
}
