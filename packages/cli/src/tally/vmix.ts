/**
 * `vmix://HOST[:8099]`: vMix's TCP API (https://www.vmix.com/help28/TCPAPI.html). Lines are
 * UTF-8 and end in \r\n; after `SUBSCRIBE TALLY` vMix sends `TALLY OK 0121…` on every change,
 * one digit per input in input order (0 off, 1 program, 2 preview). Keys are input numbers
 * (1 for the first input).
 */
import { Socket } from 'node:net';
import type { KeyState } from './mapping.js';
import {
  Retry,
  hostPort,
  printable,
  type SourceEvent,
  type SourceUrl,
  type TallySource,
} from './source.js';

/** A line longer than this is not vMix's (a tally line is one digit per input). */
const MAX_LINE = 16 * 1024;
/** No answer to the connection in this time: try again rather than wait on a dead host. */
const CONNECT_TIMEOUT_MS = 5000;

const STATES: Record<string, KeyState> = { '0': 'off', '1': 'program', '2': 'preview' };

/**
 * The input states of a `TALLY OK …` line, or undefined when the line is not one.
 *
 * @example
 * parseTallyLine('TALLY OK 0121'); // Map { '1' => 'off', '2' => 'program', '3' => 'preview', '4' => 'program' }
 */
export function parseTallyLine(line: string): Map<string, KeyState> | undefined {
  const m = /^TALLY OK ([0-9]*)$/.exec(line);
  if (m === null) return undefined;
  const state = new Map<string, KeyState>();
  let i = 0;
  for (const digit of m[1] ?? '') {
    i++;
    const s = STATES[digit];
    // Digits past 2 are not defined yet: that input is read as off rather than the line refused.
    state.set(String(i), s ?? 'off');
  }
  return state;
}

export class VmixSource implements TallySource {
  readonly label: string;
  readonly #url: SourceUrl;
  readonly #emit: (e: SourceEvent) => void;
  readonly #retry = new Retry();
  #socket: Socket | undefined;
  #stopped = false;
  #last = '';

  constructor(url: SourceUrl, emit: (e: SourceEvent) => void) {
    this.#url = url;
    this.#emit = emit;
    this.label = `vMix at ${hostPort(url.host, url.port)}`;
  }

  start(): void {
    if (this.#stopped) return;
    const socket = new Socket();
    this.#socket = socket;
    let buffered = '';
    /** The rest of a line dropped for its length is still to come: it is not a line of its own. */
    let skipping = false;
    let lost = false;
    const lose = (reason: string): void => {
      if (lost) return;
      lost = true;
      socket.destroy();
      this.#lost(reason);
    };
    socket.setEncoding('utf8');
    socket.setNoDelay(true);
    socket.setTimeout(CONNECT_TIMEOUT_MS, () => {
      lose('no answer (timed out)');
    });
    socket.on('connect', () => {
      socket.setTimeout(0);
      // A dead vMix PC behind a live switch shows up as a silent socket: keepalive finds it.
      socket.setKeepAlive(true, 5000);
      this.#last = '';
      // SUBSCRIBE for every change from now on; TALLY for the state right now.
      socket.write('SUBSCRIBE TALLY\r\nTALLY\r\n');
      this.#emit({ type: 'connected', detail: 'connected, following tally' });
    });
    socket.on('data', (chunk: string) => {
      const at = performance.now();
      buffered += chunk;
      let nl = buffered.indexOf('\n');
      while (nl >= 0) {
        if (skipping) skipping = false;
        else this.#line(buffered.slice(0, nl).replace(/\r$/, ''), at);
        buffered = buffered.slice(nl + 1);
        nl = buffered.indexOf('\n');
      }
      if (buffered.length > MAX_LINE) {
        // Said once per line, however long it goes on.
        if (!skipping)
          this.#emit({ type: 'bad-frame', reason: `a line over ${MAX_LINE} bytes (dropped)` });
        skipping = true;
        buffered = '';
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      lose(
        err.code === 'ECONNREFUSED'
          ? 'connection refused: is vMix running, and TCP port 8099 open in its firewall?'
          : (err.code ?? err.message),
      );
    });
    socket.on('close', () => {
      lose('vMix closed the connection');
    });
    socket.connect(this.#url.port, this.#url.host);
  }

  stop(): void {
    this.#stopped = true;
    this.#retry.cancel();
    this.#socket?.destroy();
    this.#socket = undefined;
  }

  #lost(reason: string): void {
    this.#socket = undefined;
    if (this.#stopped) return;
    const retryInMs = this.#retry.schedule(() => {
      this.start();
    });
    this.#emit({ type: 'lost', reason, retryInMs });
  }

  #line(line: string, at: number): void {
    if (line.startsWith('TALLY ')) {
      const state = parseTallyLine(line);
      if (state === undefined) {
        this.#emit({ type: 'bad-frame', reason: `not a tally line: ${printable(line, 60)}` });
        return;
      }
      // A tally line is vMix for sure: the next loss starts the backoff again. (A port that
      // accepts and hangs up at once, a proxy or another program, is not; it waits longer.)
      this.#retry.reset();
      // The answer to TALLY and the first subscribed update can repeat the same state.
      if (line === this.#last) return;
      this.#last = line;
      this.#emit({ type: 'state', state, at });
      return;
    }
    if (line.startsWith('SUBSCRIBE ER')) {
      this.#emit({
        type: 'note',
        text: `vMix refused the tally subscription: ${printable(line, 60)}`,
      });
      return;
    }
    // VERSION OK …, SUBSCRIBE OK TALLY and the answers to other clients' commands: not tally.
  }
}
