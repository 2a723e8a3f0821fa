/**
 * What `punch tally bridge` tells its operator: one line per event for people (what is
 * connected, each change with its latency, losses and retries), or one JSON object per line
 * with `--json`. Bad frames are counted; only the first few and then every hundredth are
 * printed, so a misconfigured sender cannot flood the terminal.
 */
import type { Tally } from './mapping.js';

export type BridgeEvent =
  | {
      readonly event: 'started';
      readonly source: string;
      readonly session: string;
      readonly map: Record<string, readonly string[]>;
    }
  | { readonly event: 'connected'; readonly source: string; readonly detail: string }
  | {
      readonly event: 'lost';
      readonly source: string;
      readonly reason: string;
      readonly retryInMs: number;
    }
  | {
      readonly event: 'tally';
      readonly program: readonly string[];
      readonly preview: readonly string[];
      readonly latencyMs: number;
    }
  | {
      readonly event: 'bad-frame';
      readonly source: string;
      readonly reason: string;
      readonly count: number;
    }
  | { readonly event: 'punch-retrying'; readonly reason: string; readonly retryInMs: number }
  | { readonly event: 'note'; readonly text: string }
  | {
      readonly event: 'tsl-out';
      readonly target: string;
      readonly packets: number;
      readonly program: readonly string[];
      readonly preview: readonly string[];
    }
  | { readonly event: 'tsl-out-failed'; readonly target: string; readonly reason: string }
  | { readonly event: 'stopped'; readonly reason: string };

/** Bad frames printed one by one before the bridge only prints every hundredth. */
const BAD_FRAMES_IN_FULL = 5;

export class Reporter {
  readonly #json: boolean;
  readonly #out: (line: string) => void;
  #badFrames = 0;

  constructor(json: boolean, out: (line: string) => void) {
    this.#json = json;
    this.#out = out;
  }

  /** Bad frames seen so far. */
  get badFrames(): number {
    return this.#badFrames;
  }

  badFrame(source: string, reason: string): void {
    const count = ++this.#badFrames;
    if (count > BAD_FRAMES_IN_FULL && count % 100 !== 0) return;
    this.emit({ event: 'bad-frame', source, reason, count });
  }

  emit(e: BridgeEvent): void {
    if (this.#json) {
      this.#out(JSON.stringify({ ...e, at: new Date().toISOString() }));
      return;
    }
    this.#out(`${clock()} ${human(e)}`);
  }
}

const list = (names: readonly string[]): string => names.join(', ') || '—';
const onAir = (t: Tally): string => `ON AIR: ${list(t.program)}   PREVIEW: ${list(t.preview)}`;

function human(e: BridgeEvent): string {
  switch (e.event) {
    case 'started': {
      const pairs = Object.entries(e.map).map(([k, s]) => `${k}→${s.join('+')}`);
      return `Bridging tally from ${e.source} to session ${e.session} (${pairs.join(', ')})`;
    }
    case 'connected':
      return `${e.source}: ${e.detail}`;
    case 'lost':
      return `${e.source}: lost (${e.reason}); trying again in ${(e.retryInMs / 1000).toFixed(1)} s`;
    case 'tally':
      return `${onAir(e)}   (${e.latencyMs} ms from the switcher to Punch)`;
    case 'bad-frame':
      return `warning: bad frame #${e.count} from ${e.source} ignored: ${e.reason}${e.count === BAD_FRAMES_IN_FULL ? ' (from now on only every 100th is shown)' : ''}`;
    case 'punch-retrying':
      return `cannot set tally (${e.reason}); trying again in ${(e.retryInMs / 1000).toFixed(1)} s`;
    case 'note':
      return e.text;
    case 'tsl-out':
      return `${e.target}: ${e.packets} displays sent (${onAir(e)})`;
    case 'tsl-out-failed':
      return `${e.target}: cannot send (${e.reason})`;
    case 'stopped':
      return `Stopped: ${e.reason}`;
  }
}

function clock(): string {
  return new Date().toTimeString().slice(0, 8);
}
