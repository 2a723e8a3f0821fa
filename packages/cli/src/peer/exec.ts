import { spawn, type ChildProcess } from 'node:child_process';
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { ExecPortBusy, assertExecPortsFree, type ExecBind } from './exec-ports.js';

/** Why srt-live-transmit cannot run at all (restarting it would not help). */
export interface ExecError {
  readonly code: 'ERR_EXEC_NOT_FOUND' | 'ERR_EXEC_FAILED' | 'ERR_PORT_IN_USE';
  readonly message: string;
}

export interface ExecOptions {
  /** srt-live-transmit's input URI. */
  readonly input: string;
  /** srt-live-transmit's output URI. */
  readonly output: string;
  /** Its latest statistics, about once a second while it reports them. */
  readonly onStats: (stats: Record<string, number>) => void;
  /** It exited (its code, or null for a signal); it is restarted a second later. */
  readonly onExit: (code: number | null) => void;
  /** It cannot be started (not installed, not executable, a port it binds is held); not retried. */
  readonly onError: (error: ExecError) => void;
  /** One line it printed (stdout or stderr), without its newline or control characters. */
  readonly onOutput: (line: string) => void;
  /** The local ports it binds, checked free before each start (`execBinds`). */
  readonly binds?: readonly ExecBind[];
  /** The program to run (default `srt-live-transmit`, looked up on PATH). */
  readonly binary?: string;
  /** setpriv, used when present (default /usr/bin/setpriv). */
  readonly setpriv?: string;
}

const BINARY = 'srt-live-transmit';
const SETPRIV = '/usr/bin/setpriv';
const RESTART_MS = 1000;

/**
 * `--exec`: runs srt-live-transmit between the user's URI and the agent's loopback SRT port,
 * restarts it when it dies, and reads its JSON statistics (`-pf:json`). A program that is not
 * installed is reported once (onError), not restarted in a loop.
 */
export class SrtLiveTransmit {
  readonly #args: string[];
  readonly #o: ExecOptions;
  readonly #binary: string;
  readonly #setpriv: string;
  #child: ChildProcess | undefined;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  readonly #dir: string;
  readonly #statsFile: string;
  #offset = 0;
  #poll: NodeJS.Timeout | undefined;
  #partial = '';

  constructor(options: ExecOptions) {
    this.#o = options;
    this.#binary = options.binary ?? BINARY;
    this.#setpriv = options.setpriv ?? SETPRIV;
    this.#dir = mkdtempSync(join(tmpdir(), 'punch-slt-'));
    this.#statsFile = join(this.#dir, 'stats.json');
    // Statistics every 100 packets, as JSON lines in a file the agent reads once a second.
    this.#args = [
      '-s:100',
      '-pf:json',
      `-statsout:${this.#statsFile}`,
      '-ll:error',
      options.input,
      options.output,
    ];
  }

  /**
   * Starts it once every port it binds is free: a port another program holds would make it
   * exit at once, and be restarted every second, for as long as the agent runs.
   */
  start(): void {
    if (this.#stopped) return;
    void assertExecPortsFree(this.#o.binds ?? []).then(
      () => {
        this.#spawn();
      },
      (err: unknown) => {
        this.#failed(
          err instanceof ExecPortBusy
            ? { code: 'ERR_PORT_IN_USE', message: err.message }
            : {
                code: 'ERR_EXEC_FAILED',
                message: `cannot check the ports of --exec: ${String(err)}`,
              },
        );
      },
    );
  }

  #spawn(): void {
    if (this.#stopped) return;
    let cmd: string;
    let args: string[];
    if (existsSync(this.#setpriv)) {
      // On Linux, setpriv makes the kernel end srt-live-transmit when the agent dies, even by
      // SIGKILL, so a crashed agent never leaves it holding the ports. setpriv itself would
      // report a missing program only as exit code 127 on stderr, so it gets a resolved path.
      const path = findExecutable(this.#binary);
      if (path === undefined) {
        process.nextTick(() => {
          this.#failed(notFound(this.#binary));
        });
        return;
      }
      [cmd, args] = [this.#setpriv, ['--pdeathsig', 'TERM', '--', path, ...this.#args]];
    } else {
      [cmd, args] = [this.#binary, this.#args];
    }
    // Its output is piped, not inherited: written straight to the terminal it would glue onto
    // the agent's status line (redrawn with \r), and under --json it would break the NDJSON.
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    // One splitter per stream: a partial line on stderr never merges with one on stdout.
    for (const stream of [child.stdout, child.stderr]) {
      const lines = new ChildLines(this.#o.onOutput);
      stream
        ?.setEncoding('utf8')
        .on('data', (t: string) => {
          lines.push(t);
        })
        .on('end', () => {
          lines.flush();
        });
    }
    let spawnFailed = false;
    this.#offset = 0;
    this.#partial = '';
    clearInterval(this.#poll);
    this.#poll = setInterval(() => {
      this.#readStats();
    }, 1000);
    child.on('error', (err: NodeJS.ErrnoException) => {
      // Also emitted when kill() fails, i.e. the process is gone already: nothing to stop then.
      if (this.#stopped) return;
      spawnFailed = true;
      // A spawn that failed never exits (no 'exit' event): report it instead of restarting.
      this.#failed(
        err.code === 'ENOENT'
          ? notFound(this.#binary)
          : {
              code: 'ERR_EXEC_FAILED',
              message: `cannot run ${this.#binary}: ${err.code ?? err.message}`,
            },
      );
    });
    // 'close', not 'exit': its last lines (why it stopped) are read before the agent says it
    // stopped. A spawn that failed closes too (code -2), after 'error': not restarted.
    child.on('close', (code) => {
      if (this.#stopped || spawnFailed) return;
      this.#o.onExit(code);
      this.#timer = setTimeout(() => {
        this.start();
      }, RESTART_MS);
    });
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearInterval(this.#poll);
    this.#child?.kill('SIGTERM');
    rmSync(this.#dir, { recursive: true, force: true });
  }

  #failed(error: ExecError): void {
    clearInterval(this.#poll);
    if (!this.#stopped) this.#o.onError(error);
  }

  #readStats(): void {
    let fd: number;
    try {
      fd = openSync(this.#statsFile, 'r');
    } catch {
      // Mostly ENOENT: srt-live-transmit has not written its first line yet. Anything else
      // (EMFILE) passes too: statistics are a once-a-second sample, and the next poll reads
      // what this one missed (the offset moves only on a read).
      return;
    }
    try {
      const buf = Buffer.alloc(64 * 1024);
      let text = '';
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, this.#offset);
        if (n <= 0) break;
        this.#offset += n;
        text += buf.toString('utf8', 0, n);
      }
      const lines = (this.#partial + text).split('\n');
      this.#partial = lines.pop() ?? '';
      for (const line of lines.reverse()) {
        const stats = parseStats(line.trim());
        if (stats !== undefined) {
          this.#o.onStats(stats);
          break;
        }
      }
    } finally {
      closeSync(fd);
    }
  }
}

/** The longest line of a child's output passed on; the rest of a longer one is cut. */
const MAX_LINE = 1000;

/**
 * A child's output as whole lines: chunks are joined until a newline, carriage returns and
 * other control characters (a progress counter, escape sequences) are dropped so no line can
 * move the cursor, and a line never grows past MAX_LINE characters.
 */
export class ChildLines {
  readonly #onLine: (line: string) => void;
  #pending = '';

  constructor(onLine: (line: string) => void) {
    this.#onLine = onLine;
  }

  push(text: string): void {
    const parts = (this.#pending + text).split('\n');
    this.#pending = (parts.pop() ?? '').slice(0, MAX_LINE);
    for (const part of parts) this.#emit(part);
  }

  /** Passes on a last line that had no newline (the child exited). */
  flush(): void {
    const rest = this.#pending;
    this.#pending = '';
    if (rest !== '') this.#emit(rest);
  }

  #emit(raw: string): void {
    // eslint-disable-next-line no-control-regex
    const line = raw.replace(/\x1b\[[0-9;?]*[A-Za-z]|[\x00-\x1f\x7f]/g, '').trimEnd();
    if (line !== '') this.#onLine(line.slice(0, MAX_LINE));
  }
}

/** The srt-live-transmit statistics reported to Punch (a dashboard's worth, under its 32-key cap). */
const KEEP = [
  'link.rtt',
  'link.bandwidth',
  'send.packets',
  'send.packetsLost',
  'send.packetsDropped',
  'send.packetsRetransmitted',
  'send.bytes',
  'send.mbitRate',
  'send.msBuf',
  'recv.packets',
  'recv.packetsLost',
  'recv.packetsDropped',
  'recv.packetsRetransmitted',
  'recv.packetsBelated',
  'recv.bytes',
  'recv.mbitRate',
  'recv.msBuf',
];

/** Picks the kept numeric fields of one srt-live-transmit JSON statistics line. */
export function parseStats(line: string): Record<string, number> | undefined {
  if (!line.startsWith('{')) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(line.replace(/,\s*$/, ''));
  } catch {
    // srt-live-transmit's text lines, or a line cut short: not a statistics line.
    return undefined;
  }
  const out: Record<string, number> = {};
  for (const key of KEEP) {
    let v: unknown = json;
    for (const part of key.split('.'))
      v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[part] : undefined;
    if (typeof v === 'number' && Number.isFinite(v)) out[key] = v;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function notFound(binary: string): ExecError {
  return {
    code: 'ERR_EXEC_NOT_FOUND',
    message:
      `${binary} is not installed or not on PATH, and --exec runs it: install srt-tools ` +
      `(Debian/Ubuntu: apt-get install srt-tools; macOS: brew install srt) or put ${binary} on PATH`,
  };
}

/**
 * Where `name` runs from, as execvp would find it: `name` itself when it holds a slash, else
 * the first executable file of that name in a PATH directory; undefined when there is none.
 */
export function findExecutable(
  name: string,
  path: string = process.env.PATH ?? '',
): string | undefined {
  const candidates = name.includes('/')
    ? [name]
    : path
        .split(delimiter)
        .filter((dir) => dir !== '')
        .map((dir) => join(dir, name));
  return candidates.find(isExecutableFile);
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    // Absent, or not executable by this user: not a program execvp would run.
    return false;
  }
}
