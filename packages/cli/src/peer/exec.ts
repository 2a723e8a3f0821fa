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

/** Why srt-live-transmit cannot run at all (restarting it would not help). */
export interface ExecError {
  readonly code: 'ERR_EXEC_NOT_FOUND' | 'ERR_EXEC_FAILED';
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
  /** It cannot be started (not installed, not executable); it is not retried. */
  readonly onError: (error: ExecError) => void;
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

  start(): void {
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
    const child = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    this.#child = child;
    this.#offset = 0;
    this.#partial = '';
    clearInterval(this.#poll);
    this.#poll = setInterval(() => {
      this.#readStats();
    }, 1000);
    child.on('error', (err: NodeJS.ErrnoException) => {
      // Also emitted when kill() fails, i.e. the process is gone already: nothing to stop then.
      if (this.#stopped) return;
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
    child.on('exit', (code) => {
      if (this.#stopped) return;
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
