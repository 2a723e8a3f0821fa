/** Drives Punch, `punch peer`, ffmpeg and srt-live-transmit inside a NatLab. */
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { PUBLIC_IP, type NatLab } from './natlab.js';

export const CLI = fileURLToPath(new URL('../../packages/cli/bin/punch.js', import.meta.url));
export const SERVER = `http://${PUBLIC_IP}:8787`;

export type Event = { event: string } & Record<string, unknown>;

const tempDirs: string[] = [];

/** A fresh directory under the system temp dir, removed by `removeTempDirs`. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** Removes every `tempDir` (once the lab is destroyed: nothing writes there any more). */
export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A running `punch peer` with its NDJSON events. */
export class AgentProc {
  readonly child: ChildProcess;
  readonly events: Event[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<number>;
  readonly #waitMs: number;
  #waiters: { pred: (e: Event) => boolean; resolve: (e: Event) => void }[] = [];

  /**
   * `waitMs`: how long `waitFor` waits by default. `onlyEvents`: a stdout line that is not JSON
   * throws (failing the test run) instead of being kept with stderr, for tests that hold that
   * nothing else (srt-live-transmit's output, say) lands between the events.
   */
  constructor(child: ChildProcess, options: { waitMs?: number; onlyEvents?: boolean } = {}) {
    this.child = child;
    this.#waitMs = options.waitMs ?? 20_000;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let e: Event;
      try {
        e = JSON.parse(line) as Event;
      } catch (cause) {
        if (options.onlyEvents === true)
          throw new Error(`punch peer printed a line that is not an event: ${line}`, { cause });
        this.stderr.push(line);
        return;
      }
      this.events.push(e);
      this.#waiters = this.#waiters.filter((w) => {
        if (!w.pred(e)) return true;
        w.resolve(e);
        return false;
      });
    });
    createInterface({ input: child.stderr! }).on('line', (l) => this.stderr.push(l));
    this.exited = new Promise((resolve) =>
      child.once('exit', (code) => {
        resolve(code ?? -1);
      }),
    );
  }

  /** Resolves with the first event (already seen or future) that matches. */
  waitFor(pred: (e: Event) => boolean, what: string, timeoutMs = this.#waitMs): Promise<Event> {
    const seen = this.events.find(pred);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new Error(
            `agent: no ${what} within ${timeoutMs} ms; events: ${JSON.stringify(this.events.filter((e) => e.event !== 'health').slice(-8))} stderr: ${this.stderr.slice(-5).join(' | ')}`,
          ),
        );
      }, timeoutMs);
      this.#waiters.push({
        pred,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
    });
  }

  waitDirect(timeoutMs?: number): Promise<Event> {
    return this.waitFor((e) => e.event === 'path' && e.path === 'direct', 'direct path', timeoutMs);
  }

  waitRelayed(timeoutMs = 30_000): Promise<Event> {
    return this.waitFor((e) => e.event === 'path' && e.path === 'relay', 'relayed path', timeoutMs);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.child.kill(signal);
  }
}

/** Runs a command in a namespace to completion and returns stdout. */
export function runIn(lab: NatLab, ns: string, command: string, args: string[]): string {
  return execFileSync('ip', ['netns', 'exec', lab.ns(ns), command, ...args], { encoding: 'utf8' });
}

/**
 * Checks `check` every `everyMs` until it returns true; rejects after `timeoutMs`, naming `what`
 * (or at once with what `check` throws). For a condition no process announces: a port bound,
 * a file that stopped growing.
 */
export async function until(
  check: () => boolean,
  what: string,
  timeoutMs = 10_000,
  everyMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() >= deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await sleep(everyMs);
  }
}

/** True when a UDP socket in namespace `ns` is bound to `port` (its /proc/net/udp and udp6). */
function udpBound(lab: NatLab, ns: string, port: number): boolean {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return runIn(lab, ns, 'cat', ['/proc/net/udp', '/proc/net/udp6'])
    .split('\n')
    .some((line) => line.trim().split(/\s+/)[1]?.endsWith(hex) === true);
}

/** Waits until a UDP socket in namespace `ns` is bound to `port`, failing if `child` exits first. */
export function waitUdpBound(
  lab: NatLab,
  ns: string,
  port: number,
  child: ChildProcess,
): Promise<void> {
  return until(() => {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`exited (${child.exitCode ?? child.signalCode}) before binding udp/${port}`);
    return udpBound(lab, ns, port);
  }, `udp/${port} to be bound in ${ns}`);
}

export interface Show {
  session: string;
  admin: string;
  passphrase: string;
  token(stream: string | null): string;
  /** Stops Punch (SIGTERM) and starts it again on the same data. */
  restart(): Promise<void>;
}

/** Starts Punch in the lab's public network and creates a session there. */
export async function startPunch(
  lab: NatLab,
  streams = ['cam-1'],
  options: {
    /** More `punch serve` arguments (e.g. `--turn-url`), and its environment's additions. */
    readonly serve?: readonly string[];
    readonly env?: Readonly<Record<string, string>>;
    /** More `punch session create` arguments (e.g. `--relay always`). */
    readonly create?: readonly string[];
  } = {},
): Promise<Show> {
  const data = tempDir('punch-e2e-');
  const launch = (): Promise<ChildProcess> =>
    launchPunch(lab, data, options.serve ?? [], options.env ?? {});
  let server = await launch();
  const admin = (args: string[]): string =>
    runIn(lab, 'pub', process.execPath, [CLI, ...args, '--server', SERVER, '--json']);
  const created = JSON.parse(
    admin(['session', 'create', '--streams', streams.join(','), ...(options.create ?? [])]),
  ) as {
    session: string;
    token: string;
  };
  const connect = JSON.parse(
    admin(['session', 'connect', created.session, '--token', created.token]),
  ) as { passphrase: string };
  return {
    session: created.session,
    admin: created.token,
    passphrase: connect.passphrase,
    restart: async () => {
      server.kill('SIGTERM');
      await exited(server, 10_000);
      server = await launch();
    },
    token: (stream) =>
      (
        JSON.parse(
          admin([
            'token',
            created.session,
            '--token',
            created.token,
            ...(stream === null ? ['--all'] : ['--stream', stream]),
          ]),
        ) as { token: string }
      ).token,
  };
}

export function startAgent(
  lab: NatLab,
  ns: string,
  token: string,
  mode: '--send' | '--receive',
  extra: string[] = [],
): AgentProc {
  return new AgentProc(
    lab.spawn(ns, process.execPath, [
      CLI,
      'peer',
      '--server',
      SERVER,
      '--token',
      token,
      mode,
      '--json',
      ...extra,
    ]),
  );
}

/**
 * srt-live-transmit as the user's SRT listener on the receiving agent's default --srt-target,
 * writing what it receives to a file; resolves once it listens.
 */
export async function startListener(
  lab: NatLab,
  ns: string,
  passphrase: string,
  out: string,
): Promise<ChildProcess> {
  const child = lab.spawn(ns, 'srt-live-transmit', [
    '-ll:error',
    `srt://127.0.0.1:9100?mode=listener&passphrase=${passphrase}&pbkeylen=32`,
    'file://con',
  ]);
  child.stdout!.pipe(createWriteStream(out));
  await waitUdpBound(lab, ns, 9100, child);
  return child;
}

/** ffmpeg encoding a test pattern as MPEG-TS, by default over SRT to the sending agent. */
export function startFfmpeg(
  lab: NatLab,
  ns: string,
  passphrase: string,
  seconds: number,
  target = `srt://127.0.0.1:9000?mode=caller&passphrase=${passphrase}&pbkeylen=32&latency=200000`,
): ChildProcess {
  return lab.spawn(ns, 'ffmpeg', testPatternArgs(seconds, target));
}

/** ffmpeg's arguments: `seconds` of a test pattern, H.264 in MPEG-TS in real time, to `target`. */
export function testPatternArgs(seconds: number, target: string): string[] {
  return [
    ...[
      '-nostdin',
      '-loglevel',
      'error',
      '-re',
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=320x240:rate=25',
    ],
    ...['-t', String(seconds), '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency'],
    ...['-g', '25', '-f', 'mpegts', target],
  ];
}

/**
 * Waits for ffmpeg to finish sending, lets the tail arrive (until the file has not grown for
 * a second: SRT hands over the last packets within its latency, 200 ms here), stops the
 * receiving process and returns what ffprobe finds in the file it wrote.
 */
export async function finish(
  ffmpeg: ChildProcess,
  receiver: ChildProcess,
  file: string,
): Promise<{ ffmpegExit: number; video: string | undefined; duration: number }> {
  const ffmpegExit = await exited(ffmpeg);
  await stoppedGrowing(file, 1000);
  receiver.kill('SIGINT');
  await exited(receiver);
  return { ffmpegExit, ...probe(file) };
}

export function exited(child: ChildProcess, timeoutMs = 60_000): Promise<number> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error('process did not exit in time'));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code ?? -1);
    });
  });
}

/** What ffprobe finds in a received file: the video codec and the duration in seconds. */
export function probe(file: string): { video: string | undefined; duration: number } {
  let out = '';
  try {
    out = execFileSync(
      'ffprobe',
      [
        '-v',
        'error',
        '-show_entries',
        'stream=codec_type,codec_name:format=duration',
        '-of',
        'json',
        file,
      ],
      { encoding: 'utf8' },
    );
  } catch {
    return { video: undefined, duration: 0 };
  }
  const j = JSON.parse(out) as {
    streams?: { codec_type: string; codec_name: string }[];
    format?: { duration?: string };
  };
  return {
    video: j.streams?.find((s) => s.codec_type === 'video')?.codec_name,
    duration: Number(j.format?.duration ?? 0),
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolves once `file` has not grown for `quietMs` (at most `timeoutMs`). */
export function stoppedGrowing(file: string, quietMs: number, timeoutMs = 15_000): Promise<void> {
  let size = -1;
  let since = 0;
  return until(
    () => {
      const now = statSync(file, { throwIfNoEntry: false })?.size ?? 0;
      if (now !== size) {
        size = now;
        since = Date.now();
      }
      return Date.now() - since >= quietMs;
    },
    `${file} to stop growing`,
    timeoutMs,
    100,
  );
}

async function launchPunch(
  lab: NatLab,
  data: string,
  extra: readonly string[],
  env: Readonly<Record<string, string>>,
): Promise<ChildProcess> {
  const server = lab.spawn(
    'pub',
    process.execPath,
    [
      CLI,
      'serve',
      '--host',
      PUBLIC_IP,
      '--port',
      '8787',
      '--stun-port',
      '3478',
      '--data-dir',
      data,
      '--log-level',
      'warn',
      ...extra,
    ],
    { ...process.env, PUNCH_SECRET: 'e2e-secret-0123456789-0123456789-abcdef', ...env },
  );
  const lines: string[] = [];
  createInterface({ input: server.stdout! }).on('line', (l) => lines.push(l));
  createInterface({ input: server.stderr! }).on('line', (l) => lines.push(l));
  // --log-level warn hides "listening": poll /healthz instead (bounded: 75 tries).
  for (let i = 0; i < 75; i++) {
    try {
      runIn(lab, 'pub', process.execPath, [
        '-e',
        `fetch('${SERVER}/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`,
      ]);
      return server;
    } catch {
      if (server.exitCode !== null) break;
      await sleep(200);
    }
  }
  throw new Error(`Punch did not start: ${lines.join('\n')}`);
}
