/**
 * `atem://HOST[:9910]`: a Blackmagic ATEM switcher over its UDP protocol, through the
 * atem-connection package. The ATEM computes tally itself and sends it as `TlSr` (tally by
 * source: for every source, a program bit and a preview bit) at connection and on every change,
 * so what it shows through keyers, DSKs, a transition in progress and SuperSource counts as on
 * air exactly as the ATEM's own tally outputs say. Keys are source numbers as the ATEM numbers
 * them: inputs 1, 2, … (1000 bars, 3010 media player 1, 6000 SuperSource are keys too).
 *
 * atem-connection is not bundled into punch.mjs: it loads a native font library (for multiviewer
 * labels) when imported, and the single-file agent carries no native code. It is loaded with
 * `import()` only when an `atem://` source is used (`loadAtemConnection`).
 */
import { createRequire } from 'node:module';
import type * as AtemConnection from 'atem-connection';
import { UsageError } from '../usage.js';
import type { KeyState } from './mapping.js';
import {
  hostPort,
  printable,
  type SourceEvent,
  type SourceUrl,
  type TallySource,
} from './source.js';

export type AtemModule = typeof AtemConnection;

/** atem-connection sends its hello again every second until the ATEM answers. */
const RETRY_MS = 1000;
/** No answer in this time: say so (atem-connection goes on trying). */
const CONNECT_TIMEOUT_MS = 5000;

export const ATEM_MISSING =
  'the ATEM source needs the atem-connection package beside punch: run ' +
  '`npm install -g atem-connection` if punch was installed with `npm install -g`, or ' +
  '`npm install atem-connection` in the folder that holds punch.mjs';

/**
 * atem-connection, or a UsageError saying how to install it (it is an optional companion).
 *
 * @example
 * const atem = await loadAtemConnection(); // atem.BasicAtem, atem.Commands
 */
export async function loadAtemConnection(): Promise<AtemModule> {
  let mod: AtemModule;
  try {
    mod = await import('atem-connection');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND')
      throw new UsageError(ATEM_MISSING, { cause: err });
    throw new Error(`atem-connection could not be loaded: ${String(err)}`, { cause: err });
  }
  // threadedclass, which atem-connection runs its socket through, otherwise prints a line on
  // stdout as it decides about exit handlers, and the bridge's stdout is its events (`--json`).
  // It is atem-connection's own copy, wherever npm put it: required from beside atem-connection.
  const threads = createRequire(import.meta.resolve('atem-connection'))('threadedclass') as {
    ThreadedClassManager?: { handleExit: number };
  };
  // 0: RegisterExitHandlers.NO; the bridge handles SIGINT and SIGTERM itself.
  if (threads.ThreadedClassManager !== undefined) threads.ThreadedClassManager.handleExit = 0;
  return mod;
}

/**
 * The key states of a `TlSr` command's sources: program wins over preview.
 *
 * @example
 * tallyFromSources({ 1: { program: true, preview: false }, 2: { program: false, preview: true } });
 * // Map { '1' => 'program', '2' => 'preview' }
 */
export function tallyFromSources(
  sources: AtemConnection.Commands.TallyBySourceProps,
): Map<string, KeyState> {
  const state = new Map<string, KeyState>();
  for (const source of Object.keys(sources)) {
    const lamps = sources[Number(source)];
    if (lamps === undefined) continue;
    state.set(source, lamps.program ? 'program' : lamps.preview ? 'preview' : 'off');
  }
  return state;
}

export class AtemSource implements TallySource {
  readonly label: string;
  readonly #url: SourceUrl;
  readonly #mod: AtemModule;
  readonly #emit: (e: SourceEvent) => void;
  #atem: AtemConnection.BasicAtem | undefined;
  #waiting: NodeJS.Timeout | undefined;
  #stopped = false;
  #last = '';
  /** This connection's ATEM sent TlSr: else ME 1's program and preview stand in for it. */
  #sawTally = false;

  constructor(url: SourceUrl, mod: AtemModule, emit: (e: SourceEvent) => void) {
    this.#url = url;
    this.#mod = mod;
    this.#emit = emit;
    this.label = `ATEM at ${hostPort(url.host, url.port)}`;
  }

  start(): void {
    if (this.#stopped || this.#atem !== undefined) return;
    // In this thread: a worker thread would only add a process hop to every tally change.
    const atem = new this.#mod.BasicAtem({ disableMultithreaded: true });
    this.#atem = atem;
    const tallyCommand = this.#mod.Commands.TallyBySourceCommand;
    atem.on('receivedCommands', (commands) => {
      const at = performance.now();
      for (const cmd of commands) {
        if (!(cmd instanceof tallyCommand)) continue;
        this.#sawTally = true;
        this.#state(tallyFromSources(cmd.properties), at);
      }
    });
    atem.on('connected', () => {
      clearTimeout(this.#waiting);
      if (this.#sawTally) {
        this.#emit({ type: 'connected', detail: 'connected, following its tally (TlSr)' });
        return;
      }
      this.#emit({
        type: 'connected',
        detail: 'connected; it sent no tally (TlSr): following ME 1 program and preview only',
      });
      this.#fromMixEffect(atem, performance.now());
    });
    atem.on('stateChanged', (_state, paths) => {
      if (!this.#sawTally && paths.some((p) => p.startsWith('video.mixEffects.0.')))
        this.#fromMixEffect(atem, performance.now());
    });
    atem.on('disconnected', () => {
      this.#sawTally = false;
      if (this.#stopped) return;
      this.#emit({ type: 'lost', reason: 'the ATEM stopped answering', retryInMs: RETRY_MS });
      this.#waitForAnswer();
    });
    // atem-connection says `error` for a command it could not read (and goes on): a bad frame.
    atem.on('error', (message) => {
      this.#emit({ type: 'bad-frame', reason: printable(message, 120) });
    });
    this.#waitForAnswer();
    const signals = listenersOf();
    atem.connect(this.#url.host, this.#url.port).then(
      () => {
        // atem-connection installs exit-hook, which ends the process on SIGINT and SIGTERM before
        // the bridge has stopped (it says `stopped` and closes its sockets): those go again.
        for (const [signal, had] of signals)
          for (const l of process.listeners(signal)) if (!had.includes(l)) process.off(signal, l);
      },
      (err: unknown) => {
        this.#emit({ type: 'lost', reason: printable(String(err), 120), retryInMs: RETRY_MS });
      },
    );
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#waiting);
    const atem = this.#atem;
    this.#atem = undefined;
    atem?.removeAllListeners();
    atem?.destroy().catch(() => {
      // Stopping: a socket that fails to close is closed with the process.
    });
  }

  /** On change only: the ATEM repeats its tally (on reconnection, on changes elsewhere). */
  #state(state: Map<string, KeyState>, at: number): void {
    const key = JSON.stringify([...state]);
    if (key === this.#last) return;
    this.#last = key;
    this.#emit({ type: 'state', state, at });
  }

  /** Without TlSr: ME 1's program input on program, its preview input on preview. */
  #fromMixEffect(atem: AtemConnection.BasicAtem, at: number): void {
    const me = atem.state?.video.mixEffects[0];
    if (me === undefined) return;
    const state = new Map<string, KeyState>([[String(me.previewInput), 'preview']]);
    state.set(String(me.programInput), 'program');
    this.#state(state, at);
  }

  /** A lost ATEM is only said once atem-connection notices; a silent one, after 5 s. */
  #waitForAnswer(): void {
    clearTimeout(this.#waiting);
    this.#waiting = setTimeout(() => {
      if (this.#stopped) return;
      this.#emit({
        type: 'lost',
        reason: 'no answer: is the ATEM on, at this address, and UDP port 9910 open?',
        retryInMs: RETRY_MS,
      });
    }, CONNECT_TIMEOUT_MS);
  }
}

function listenersOf(): Map<NodeJS.Signals, readonly unknown[]> {
  return new Map((['SIGINT', 'SIGTERM'] as const).map((s) => [s, process.listeners(s)]));
}
