import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

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

  constructor(
    input: string,
    output: string,
    onStats: (stats: Record<string, number>) => void,
    onExit: (code: number | null) => void,
  ) {
    this.#args = ['-s:100', '-pf:json', '-statsout:/dev/stderr', '-ll:error', input, output];
    this.#onStats = onStats;
    this.#onExit = onExit;
  }

  start(): void {
    if (this.#stopped) return;
    const child = spawn('srt-live-transmit', this.#args, { stdio: ['ignore', 'inherit', 'pipe'] });
    this.#child = child;
    createInterface({ input: child.stderr }).on('line', (line) => {
      const stats = parseStats(line);
      if (stats !== undefined) this.#onStats(stats);
    });
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
    this.#child?.kill('SIGTERM');
  }
}

/** Flattens the numeric fields of one srt-live-transmit JSON statistics line. */
export function parseStats(line: string): Record<string, number> | undefined {
  if (!line.startsWith('{')) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return undefined;
  }
  const out: Record<string, number> = {};
  const walk = (value: unknown, prefix: string): void => {
    if (typeof value === 'number' && Number.isFinite(value)) {
      if (Object.keys(out).length < 32) out[prefix] = value;
    } else if (typeof value === 'object' && value !== null) {
      for (const [k, v] of Object.entries(value)) walk(v, prefix === '' ? k : `${prefix}.${k}`);
    }
  };
  walk(json, '');
  return Object.keys(out).length > 0 ? out : undefined;
}
