import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * `--exec`: runs srt-live-transmit between the user's URI and the agent's loopback SRT port,
 * restarts it when it dies, and reads its JSON statistics (`-pf:json`).
 */
export class SrtLiveTransmit {
  readonly #args: string[];
  readonly #onStats: (stats: Record<string, number>) => void;
  readonly #onExit: (code: number | null) => void;
  #child: ChildProcess | undefined;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  readonly #dir: string;
  readonly #statsFile: string;
  #offset = 0;
  #poll: NodeJS.Timeout | undefined;
  #partial = '';

  constructor(
    input: string,
    output: string,
    onStats: (stats: Record<string, number>) => void,
    onExit: (code: number | null) => void,
  ) {
    this.#dir = mkdtempSync(join(tmpdir(), 'punch-slt-'));
    this.#statsFile = join(this.#dir, 'stats.json');
    // Statistics every 100 packets, as JSON lines in a file the agent reads once a second.
    this.#args = ['-s:100', '-pf:json', `-statsout:${this.#statsFile}`, '-ll:error', input, output];
    this.#onStats = onStats;
    this.#onExit = onExit;
  }

  start(): void {
    if (this.#stopped) return;
    // On Linux, setpriv makes the kernel end srt-live-transmit when the agent dies, even by
    // SIGKILL, so a crashed agent never leaves it holding the ports.
    const [cmd, args] = existsSync(SETPRIV)
      ? [SETPRIV, ['--pdeathsig', 'TERM', '--', 'srt-live-transmit', ...this.#args]]
      : ['srt-live-transmit', this.#args];
    const child = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    this.#child = child;
    this.#offset = 0;
    this.#partial = '';
    clearInterval(this.#poll);
    this.#poll = setInterval(() => {
      this.#readStats();
    }, 1000);
    child.on('error', () => undefined);
    child.on('exit', (code) => {
      if (this.#stopped) return;
      this.#onExit(code);
      this.#timer = setTimeout(() => {
        this.start();
      }, 1000);
    });
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearInterval(this.#poll);
    this.#child?.kill('SIGTERM');
    rmSync(this.#dir, { recursive: true, force: true });
  }

  #readStats(): void {
    let fd: number;
    try {
      fd = openSync(this.#statsFile, 'r');
    } catch {
      return; // not written yet
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
          this.#onStats(stats);
          break;
        }
      }
    } finally {
      closeSync(fd);
    }
  }
}

const SETPRIV = '/usr/bin/setpriv';

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
