// Small helpers shared by the benchmarks: statistics, RSS, CPU, tables, process bookkeeping,
// server processes and IPC with load-generator processes.
import { execFileSync, fork, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** @typedef {import('node:child_process').ChildProcess} ChildProcess */
/** @typedef {import('node:worker_threads').Worker} Worker */

/** The repository root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const PUNCH_BIN = join(ROOT, 'packages/cli/bin/punch.js');

/** Nearest-rank percentile of an ascending array (p in 0..100). */
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

/** count, mean, p50, p95, p99, max (same unit as the input). */
export function summarize(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  return {
    count: n,
    mean: n === 0 ? NaN : sorted.reduce((a, b) => a + b, 0) / n,
    min: n === 0 ? NaN : sorted[0],
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: n === 0 ? NaN : sorted[n - 1],
  };
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** VmRSS of a process in KiB, from /proc/<pid>/status. */
export function rssKiB(pid) {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(text);
  if (m === null) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * A stable RSS reading: wait `settleMs`, then the median of `samples` readings `gapMs` apart.
 * Returns {kib, samples}.
 */
export async function stableRss(pid, { settleMs = 1500, samples = 3, gapMs = 500 } = {}) {
  await sleep(settleMs);
  const readings = [];
  for (let i = 0; i < samples; i++) {
    if (i > 0) await sleep(gapMs);
    readings.push(rssKiB(pid));
  }
  return { kib: median(readings), samples: readings };
}

/** A markdown table. `align` is a string of 'l'/'r' per column (default: first l, rest r). */
export function mdTable(headers, rows, align) {
  const a = align ?? `l${'r'.repeat(headers.length - 1)}`;
  const cells = [headers, ...rows].map((r) => r.map((c) => String(c)));
  const widths = headers.map((_, i) => Math.max(3, ...cells.map((r) => r[i].length)));
  const line = (r) =>
    `| ${r.map((c, i) => (a[i] === 'r' ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ')} |`;
  const sep = `|${widths.map((w, i) => (a[i] === 'r' ? `${'-'.repeat(w + 1)}:` : `:${'-'.repeat(w + 1)}`)).join('|')}|`;
  return [line(cells[0]), sep, ...cells.slice(1).map(line)].join('\n');
}

export const fmt = (x, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');
export const mib = (kib) => fmt(kib / 1024, 1);

/** The kernel's UDP counters (this network namespace), e.g. {InDatagrams, RcvbufErrors, …}. */
export function udpCounters() {
  const lines = readFileSync('/proc/net/snmp', 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('Udp:'));
  if (lines.length < 2) return {};
  const names = lines[0].split(/\s+/).slice(1);
  const vals = lines[1].split(/\s+/).slice(1).map(Number);
  return Object.fromEntries(names.map((n, i) => [n, vals[i]]));
}

let clkTck;
/** Clock ticks per second of /proc/<pid>/stat times (getconf CLK_TCK, read once, default 100). */
export function clockTicks() {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/** utime + stime of a process (all its threads), in seconds, from /proc/<pid>/stat. */
export function cpuSeconds(pid) {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields 14 and 15 (utime, stime); f[0] is field 3
  return (Number(f[11]) + Number(f[12])) / clockTicks();
}

/**
 * The whole machine's CPU time in seconds since boot, from the first line of /proc/stat:
 * `busy` (user, nice, system, irq, softirq, steal), `steal` (taken by the hypervisor for other
 * guests) and `idle` (idle, iowait).
 */
export function machineCpuSeconds() {
  const f = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = f.map(
    (x) => (x ?? 0) / clockTicks(),
  );
  return { busy: user + nice + system + irq + softirq + steal, steal, idle: idle + iowait };
}

/** CPU time (ns) the main thread of `pid` has spent on a CPU (/proc/<pid>/task/<pid>/schedstat). */
export function threadCpuNs(pid) {
  const text = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8');
  return Number(text.split(/\s+/)[0]);
}

/**
 * The UDP sockets of this network namespace (/proc/net/udp and udp6): each row's local address
 * (hex `ADDR:PORT`), inode, and the kernel's drop counter (last column: datagrams that arrived
 * while its receive buffer was full).
 */
export function udpSockets() {
  const rows = [];
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    let text;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length >= 13)
        rows.push({ local: cols[1], inode: cols[9], drops: Number(cols[cols.length - 1]) });
    }
  }
  return rows;
}

/** The drop counter of the UDP socket(s) bound to local `port`, or NaN when there is none. */
export function udpSocketDrops(port) {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const mine = udpSockets().filter((r) => r.local.endsWith(hex));
  return mine.length > 0 ? mine.reduce((sum, r) => sum + r.drops, 0) : NaN;
}

// ---- process bookkeeping shared by the benchmarks ------------------------------------------

/**
 * The child processes, workers and temp dir of a benchmark run (`createReaper`).
 * @typedef {object} Reaper
 * @property {Set<ChildProcess>} children
 * @property {string | undefined} tmpRoot  the run's temp dir, removed by cleanupSync
 * @property {<C extends ChildProcess>(child: C) => C} track
 * @property {<W extends Worker>(w: W) => W} trackWorker
 * @property {() => void} cleanupSync  kills every process and worker, removes the temp dir
 */

/**
 * Tracks every child process, worker and the temp dir of a benchmark run, and removes them all
 * on exit and on SIGINT/SIGTERM/SIGHUP.
 * @returns {Reaper}
 */
export function createReaper() {
  /** @type {Set<ChildProcess>} */
  const children = new Set();
  /** @type {Set<Worker>} */
  const workers = new Set();
  /** @type {Reaper} */
  const reaper = {
    children,
    tmpRoot: undefined,
    track(child) {
      children.add(child);
      child.once('exit', () => children.delete(child));
      return child;
    },
    trackWorker(w) {
      workers.add(w);
      w.once('exit', () => workers.delete(w));
      return w;
    },
    cleanupSync() {
      for (const c of children) {
        try {
          c.kill('SIGKILL');
        } catch {
          // gone already
        }
      }
      children.clear();
      for (const w of workers) void w.terminate();
      workers.clear();
      if (reaper.tmpRoot !== undefined) {
        rmSync(reaper.tmpRoot, { recursive: true, force: true });
        reaper.tmpRoot = undefined;
      }
    },
  };
  process.on('exit', reaper.cleanupSync);
  /** @type {[NodeJS.Signals, number][]} */
  const signals = [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ];
  for (const [sig, code] of signals) {
    process.on(sig, () => {
      process.stderr.write(
        `\n${sig}: stopping every process and removing ${reaper.tmpRoot ?? 'temp dirs'}\n`,
      );
      reaper.cleanupSync();
      process.exit(code);
    });
  }
  return reaper;
}

/** @param {ChildProcess} child */
export const exited = (child) => child.exitCode !== null || child.signalCode !== null;

/**
 * Resolves true when `child` exits within `ms`, false otherwise.
 * @param {ChildProcess} child
 * @param {number} ms
 * @returns {Promise<boolean>}
 */
export function waitExit(child, ms) {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((res) => {
    const t = setTimeout(() => {
      child.off('exit', on);
      res(false);
    }, ms);
    const on = () => {
      clearTimeout(t);
      res(true);
    };
    child.once('exit', on);
  });
}

/**
 * SIGTERM, then SIGKILL after `graceMs`.
 * @param {ChildProcess} child
 */
export async function stopProc(child, graceMs = 3000) {
  if (exited(child)) return;
  child.kill('SIGTERM');
  if (await waitExit(child, graceMs)) return;
  child.kill('SIGKILL');
  await waitExit(child, 2000);
}

/**
 * What was thrown, as text: an error's message.
 * @param {unknown} err
 */
export const messageOf = (err) => (err instanceof Error ? err.message : String(err));

/**
 * What was thrown, as text: an error's stack (its message when it has none).
 * @param {unknown} err
 */
export const stackOf = (err) => (err instanceof Error ? (err.stack ?? err.message) : String(err));

/**
 * The JSON value of a line, or undefined when it is not JSON (a log line, a banner).
 * @param {string} line
 * @returns {any}
 */
export function parseJson(line) {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

/**
 * A process of `startProc`.
 * @typedef {object} Proc
 * @property {string} name
 * @property {ChildProcess} child
 * @property {number | undefined} pid
 * @property {string[]} tail  its last lines of output
 * @property {Set<(line: string) => void>} waiters  `waitLine`'s
 */

/**
 * Spawns a process (tracked by `reaper`) whose stdout and stderr are drained for its whole life
 * (an unread pipe would stall it); keeps the last lines for error reports and hands stdout
 * lines to `onLine` and to `waitLine`. `stdin: 'pipe'` keeps its stdin open (the bench/servers
 * scripts exit when it closes).
 * @param {Reaper} reaper
 * @param {string} name
 * @param {string} cmd
 * @param {string[]} args
 * @param {{env?: NodeJS.ProcessEnv, onLine?: (line: string) => void, stdin?: 'ignore' | 'pipe'}} [options]
 * @returns {Proc}
 */
export function startProc(
  reaper,
  name,
  cmd,
  args,
  { env = process.env, onLine, stdin = 'ignore' } = {},
) {
  const child = reaper.track(spawn(cmd, args, { cwd: ROOT, env, stdio: [stdin, 'pipe', 'pipe'] }));
  const { stdout, stderr } = child;
  if (stdout === null || stderr === null) throw new Error(`${name}: spawned without pipes`);
  /** @type {Proc} */
  const p = { name, child, pid: child.pid, tail: [], waiters: new Set() };
  /** @type {(src: string, line: string) => void} */
  const keep = (src, line) => {
    p.tail.push(`${src}: ${line.slice(0, 300)}`);
    if (p.tail.length > 40) p.tail.shift();
  };
  child.on('error', (err) => keep('spawn', err.message));
  child.stdin?.on('error', () => {});
  createInterface({ input: stdout }).on('line', (line) => {
    keep('out', line);
    onLine?.(line);
    for (const w of [...p.waiters]) w(line);
  });
  createInterface({ input: stderr }).on('line', (line) => keep('err', line));
  return p;
}

/**
 * How a process of `startProc` ended, with its last output.
 * @param {Proc} p
 */
export const describeExit = (p) =>
  `${p.name} (pid ${p.pid}) exited (${p.child.exitCode ?? p.child.signalCode}); last output:\n  ${p.tail.join('\n  ')}`;

/**
 * Throws (with the process's last output) when a process of `startProc` has exited.
 * @param {Proc} p
 * @param {string} what
 */
export function assertAlive(p, what) {
  if (exited(p.child)) throw new Error(`${describeExit(p)}\n(during ${what})`);
}

/**
 * Resolves with `test(line)`'s first non-undefined result on the stdout of a process of
 * `startProc`, within `ms`; rejects when it exits first, or when `test` throws.
 * @template T
 * @param {Proc} p
 * @param {(line: string) => T | undefined} test
 * @param {number} ms
 * @param {string} what
 * @returns {Promise<T>}
 */
export function waitLine(p, test, ms, what) {
  return new Promise((res, rej) => {
    const done = () => {
      clearTimeout(timer);
      p.waiters.delete(onLine);
      p.child.off('exit', onExit);
    };
    /** @param {string} line */
    const onLine = (line) => {
      let r;
      try {
        r = test(line);
      } catch (err) {
        done();
        rej(err);
        return;
      }
      if (r !== undefined) {
        done();
        res(r);
      }
    };
    const onExit = () => {
      done();
      rej(new Error(`waiting for ${what}: ${describeExit(p)}`));
    };
    const timer = setTimeout(() => {
      done();
      rej(
        new Error(
          `${p.name}: no ${what} within ${ms / 1000} s; last output:\n  ${p.tail.join('\n  ')}`,
        ),
      );
    }, ms);
    p.waiters.add(onLine);
    p.child.once('exit', onExit);
    if (exited(p.child)) onExit();
  });
}

/**
 * One of a benchmark's own options: a flag (`boolean`) or a value (`string`, shown as `--name
 * ARG` in the usage).
 * @typedef {{type: 'string' | 'boolean', default?: string | boolean, arg?: string, usage: string}} BenchOption
 */

/**
 * The options every benchmark takes (`--quick`, `--json FILE`, `--help`) plus the script's own
 * `extra` ones ({name: {type, default?, arg?, usage}}); prints usage for --help.
 * @template {Record<string, BenchOption>} [E={}]
 * @param {string} script
 * @param {string} quickMeans
 * @param {E} [extra]
 * @returns {{quick: boolean, json?: string, help: boolean}
 *   & {[K in keyof E]?: E[K]['type'] extends 'boolean' ? boolean : string}}
 */
export function benchOptions(script, quickMeans, extra) {
  const own = Object.fromEntries(
    Object.entries(extra ?? {}).map(([k, o]) => [
      k,
      o.default === undefined ? { type: o.type } : { type: o.type, default: o.default },
    ]),
  );
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
      ...own,
    },
    strict: true,
  });
  if (values.help) {
    const flag = (k, o) => `--${k}${o.type === 'string' ? ` ${o.arg ?? 'X'}` : ''}`;
    const rows = [
      ['--quick', quickMeans],
      ['--json FILE', 'also write the results as JSON'],
      ...Object.entries(extra ?? {}).map(([k, o]) => [flag(k, o), o.usage]),
    ];
    const w = Math.max(...rows.map(([f]) => f.length)) + 2;
    process.stdout.write(
      `usage: node ${script} ${rows.map(([f]) => `[${f}]`).join(' ')}\n` +
        rows.map(([f, u]) => `  ${f.padEnd(w)}${u}\n`).join(''),
    );
    process.exit(0);
  }
  // parseArgs cannot type options it is handed at run time: the return type above does.
  return /** @type {any} */ (values);
}

/**
 * Runs `fn(i)` for i in [0, n) with at most `concurrency` in flight, stopping early at
 * `deadline` (ms since epoch). `fn` must not throw. Returns how many were started.
 */
export async function pool(n, concurrency, deadline, fn) {
  let next = 0;
  const worker = async () => {
    while (next < n && Date.now() < deadline) {
      const i = next++;
      await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(0, Math.min(concurrency, n)) }, worker));
  return next;
}

/**
 * Waits until WebSocket `ws` is ready: its 'open' (`ready` = 'open') or a first message whose
 * `type` is `ready` (any other first message fails it). Resolves {ok: true} or {ok: false,
 * error} (the socket terminated); never rejects. `onReady(ws)` runs the moment it is ready,
 * before any later event: it wires the caller's own 'message' and 'close' handlers.
 * @param {import('ws').WebSocket} ws
 * @param {string} ready
 * @param {number} timeoutMs
 * @param {(ws: import('ws').WebSocket) => void} onReady
 * @returns {Promise<{ok: boolean, error: string | undefined}>}
 */
export function whenReady(ws, ready, timeoutMs, onReady) {
  return new Promise((resolve) => {
    let pending = true;
    /** @type {(ok: boolean, error?: string) => void} */
    const finish = (ok, error) => {
      if (!pending) return;
      pending = false;
      clearTimeout(timer);
      ws.off('message', onFirst);
      if (ok) onReady(ws);
      else ws.terminate();
      resolve({ ok, error });
    };
    /** @param {import('ws').RawData} data */
    const onFirst = (data) => {
      const m = parseJson(data.toString());
      if (m === undefined) finish(false, 'non-JSON first message');
      else if (m.type === ready) finish(true);
      else finish(false, `first message ${m.type}${m.code ? ` ${m.code}` : ''}`);
    };
    const timer = setTimeout(() => finish(false, `no ${ready} within ${timeoutMs} ms`), timeoutMs);
    ws.on('error', (e) => finish(false, e.message));
    ws.on('close', (code) => finish(false, `closed ${code}`));
    if (ready === 'open') ws.on('open', () => finish(true));
    else ws.on('message', onFirst);
  });
}

/** Counts an error by its (truncated) text in `errors` ({text: count}). */
export function addError(errors, message) {
  const key = String(message).slice(0, 120);
  errors[key] = (errors[key] ?? 0) + 1;
}

// ---- servers -------------------------------------------------------------------------------

/**
 * The comparison servers in bench/servers/, by kind.
 * @type {Record<string, string | undefined>}
 */
const SERVER_SCRIPTS = {
  bare: 'bare-ws.mjs',
  peerjs: 'peerjs.mjs',
  'bare-relay': 'bare-relay.mjs',
};

/**
 * `punch serve` on loopback with free ports and its own data directory. Log level info, not
 * warn: the "listening" line (with the port) is an info line; nothing on the WebSocket paths
 * logs per message at info.
 */
export function punchServeArgs(dataDir) {
  return [
    PUNCH_BIN,
    'serve',
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--stun-port',
    '0',
    '--data-dir',
    dataDir,
    '--log-level',
    'info',
  ];
}

/**
 * One JSON request to a Punch server's API; throws with the status and body on an error.
 * @param {string} base
 * @param {string} method
 * @param {string} path
 * @param {{token?: string, body?: unknown}} [options]
 * @returns {Promise<any>}
 */
export async function apiRequest(base, method, path, { token, body } = {}) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

/**
 * Starts a server process and waits for its `"msg":"listening"` line: `punch serve` (kind
 * 'punch', on a fresh data dir under `reaper.tmpRoot`, a fresh PUNCH_SECRET, log level info,
 * plus `punchArgs`) or a script of bench/servers/ ('bare', 'peerjs', 'bare-relay'). `nodeArgs`
 * go to node itself (e.g. --cpu-prof). Its stdout is drained for the whole run (Punch logs
 * synchronously to stdout: an unread pipe would stall it); warn/error log lines are counted and
 * sampled for the report. Its stdin stays open: the bench/servers scripts exit when it closes.
 * @param {Reaper} reaper
 * @param {string} kind
 * @param {{punchArgs?: string[], nodeArgs?: string[]}} [options]
 * @returns {Promise<Server>}
 */
export async function startServer(reaper, kind, { punchArgs = [], nodeArgs = [] } = {}) {
  let args;
  let env = process.env;
  let dataDir;
  if (kind === 'punch') {
    if (reaper.tmpRoot === undefined) throw new Error('set reaper.tmpRoot first');
    dataDir = mkdtempSync(join(reaper.tmpRoot, 'punch-data-'));
    args = [...nodeArgs, ...punchServeArgs(dataDir), ...punchArgs];
    env = { ...process.env, PUNCH_SECRET: randomBytes(32).toString('hex') };
  } else {
    const file = SERVER_SCRIPTS[kind];
    if (file === undefined) throw new Error(`unknown server kind ${kind}`);
    args = [...nodeArgs, join(ROOT, 'bench/servers', file), '--host', '127.0.0.1', '--port', '0'];
  }
  const logged = { warnings: 0, warnSamples: /** @type {string[]} */ ([]) };
  const proc = startProc(reaper, `${kind} server`, process.execPath, args, {
    env,
    stdin: 'pipe',
    onLine: (line) => {
      const j = parseJson(line);
      if (typeof j?.level === 'number' && j.level >= 40) {
        logged.warnings++;
        if (logged.warnSamples.length < 5) logged.warnSamples.push(line.slice(0, 300));
      }
    },
  });
  const listening = await waitLine(
    proc,
    (line) => {
      const j = parseJson(line);
      return j?.msg === 'listening' ? j : undefined;
    },
    20_000,
    '"listening" line',
  );
  return Object.assign(proc, logged, {
    kind,
    dataDir,
    /** @type {number} */
    port: listening.port,
    /** @type {number | undefined} (Punch only) */
    stunPort: listening.stunPort,
    url: `http://127.0.0.1:${listening.port}`,
  });
}

/**
 * A server of `startServer`: its process, where it listens, and the warn/error lines it logged.
 * @typedef {Proc & {
 *   kind: string,
 *   dataDir: string | undefined,
 *   port: number,
 *   stunPort: number | undefined,
 *   url: string,
 *   warnings: number,
 *   warnSamples: string[],
 * }} Server
 */

// ---- load generators: a forked process driven over IPC -----------------------------------

/**
 * Forks `file` (a load generator that calls `serveIpc`) and returns {call(cmd, args,
 * timeoutMs), stop(), onEvent}: `call` resolves with the command's result; `onEvent` receives
 * the `{event}` messages the child sends on its own.
 * @param {Reaper} reaper
 * @param {string} file
 * @param {{execArgv?: string[]}} [options]
 * @returns {Promise<Loadgen>}
 */
export async function startLoadgen(reaper, file, { execArgv = [] } = {}) {
  const child = reaper.track(
    fork(file, [], {
      cwd: ROOT,
      execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
  /** @type {Map<number, {resolve: (result: any) => void, reject: (err: Error) => void, timer: NodeJS.Timeout}>} */
  const pending = new Map();
  let nextId = 1;
  let readyResolve = () => {};
  /** @type {Promise<void>} */
  const ready = new Promise((r) => (readyResolve = r));
  const api = {
    /** @type {((event: any) => void) | undefined} */
    onEvent: undefined,
    pid: child.pid,
  };
  child.on('message', (/** @type {any} */ m) => {
    if (m.ready) {
      readyResolve();
      return;
    }
    if (m.event !== undefined) {
      api.onEvent?.(m);
      return;
    }
    const p = pending.get(m.id);
    if (p === undefined) return;
    pending.delete(m.id);
    clearTimeout(p.timer);
    if (m.ok) p.resolve(m.result);
    else p.reject(new Error(`load generator: ${m.error}`));
  });
  child.on('exit', (code, sig) => {
    for (const p of pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error(`load generator exited (${code ?? sig})`));
    }
    pending.clear();
  });
  const started = await Promise.race([
    ready.then(() => true),
    waitExit(child, 10_000).then(() => false),
  ]);
  if (!started) throw new Error('load generator did not start');
  return Object.assign(api, {
    /**
     * @param {string} cmd
     * @param {object} [args]
     * @returns {Promise<any>}
     */
    call(cmd, args = {}, timeoutMs = 150_000) {
      return new Promise((res, rej) => {
        if (exited(child)) {
          rej(new Error('load generator is not running'));
          return;
        }
        const id = nextId++;
        const timer = setTimeout(() => {
          pending.delete(id);
          rej(new Error(`load generator: ${cmd} took over ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, { resolve: res, reject: rej, timer });
        child.send({ id, cmd, args });
      });
    },
    async stop() {
      if (child.connected) child.disconnect();
      await stopProc(child, 3000);
    },
  });
}

/**
 * The load generator's side of `startLoadgen`: runs `commands[cmd](args)` for each
 * `{id, cmd, args}` and answers `{id, ok, result | error}`; exits when the parent goes away.
 * @param {Record<string, (args: any) => unknown>} commands
 */
export function serveIpc(commands) {
  const send = process.send?.bind(process);
  if (send === undefined) throw new Error('a load generator runs forked by startLoadgen (IPC)');
  process.on('message', (/** @type {{id: number, cmd: string, args?: object}} */ m) => {
    void (async () => {
      const fn = commands[m.cmd];
      try {
        if (fn === undefined) throw new Error(`unknown command ${m.cmd}`);
        const result = await fn(m.args ?? {});
        send({ id: m.id, ok: true, result });
      } catch (err) {
        send({ id: m.id, ok: false, error: stackOf(err) });
      }
    })();
  });
  // The parent is gone (or told us to stop): leave at once, sockets die with the process.
  process.on('disconnect', () => process.exit(0));
  process.on('SIGTERM', () => process.exit(0));
  process.on('SIGINT', () => process.exit(0));
  send({ ready: true });
}

/**
 * A load generator of `startLoadgen`.
 * @typedef {object} Loadgen
 * @property {number | undefined} pid
 * @property {((event: any) => void) | undefined} onEvent  receives the events it sends
 * @property {(cmd: string, args?: object, timeoutMs?: number) => Promise<any>} call
 * @property {() => Promise<void>} stop
 */

/**
 * Runs `fn(srv, lg)` with a fresh server (`startServer(reaper, kind, serverOptions)`) and a
 * fresh load generator (`startLoadgen(reaper, loadgen)`), then stops both. An error thrown
 * after the server died carries the server's exit and last output.
 * @template T
 * @param {Reaper} reaper
 * @param {string} kind
 * @param {{loadgen: string, punchArgs?: string[], nodeArgs?: string[]}} options
 * @param {(srv: Server, lg: Loadgen) => Promise<T>} fn
 * @returns {Promise<T>}
 */
export async function withServer(reaper, kind, { loadgen, ...serverOptions }, fn) {
  const srv = await startServer(reaper, kind, serverOptions);
  let lg;
  try {
    lg = await startLoadgen(reaper, loadgen);
    return await fn(srv, lg);
  } catch (err) {
    if (exited(srv.child))
      throw new Error(`${describeExit(srv)}\n(during the run) caused: ${messageOf(err)}`);
    throw err;
  } finally {
    if (lg !== undefined) await lg.stop();
    await stopProc(srv.child);
  }
}

// ---- machine -------------------------------------------------------------------------------

/** The short commit of the checkout, marked when packages/ has uncommitted changes. */
export function gitCommit() {
  try {
    let commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'packages'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    if (dirty.trim() !== '') commit += ' + uncommitted changes in packages/';
    return commit;
  } catch {
    return 'unknown'; // not a git checkout
  }
}

/**
 * CPU, cores, RAM, Node, kernel, open-file limits, commit, load average and date of this
 * machine, read at the start of a run.
 */
export function machineInfo() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model =
    /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  const meminfo = readFileSync('/proc/meminfo', 'utf8');
  const memKiB = Number(/^MemTotal:\s+(\d+)/m.exec(meminfo)?.[1] ?? 0);
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const nofile = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(limits);
  return {
    cpu: model,
    cores: os.availableParallelism?.() ?? os.cpus().length,
    ramGiB: memKiB / 1024 / 1024,
    node: process.version,
    kernel: `${os.type()} ${os.release()}`,
    nofileSoft: nofile?.[1] ?? 'unknown',
    nofileHard: nofile?.[2] ?? 'unknown',
    commit: gitCommit(),
    loadavg: os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' / '),
    date: new Date().toISOString(),
  };
}

/**
 * The machine table printed at the top of a benchmark report; `extra` rows (e.g. the version
 * of a tool the benchmark drives) go before the date.
 * @param {ReturnType<typeof machineInfo>} m
 * @param {[string, string][]} [extra]
 */
export function machineTable(m, extra = []) {
  return mdTable(
    ['machine', ''],
    [
      ['CPU', m.cpu],
      ['cores', m.cores],
      ['RAM', `${fmt(m.ramGiB, 1)} GiB`],
      ['Node', m.node],
      ['kernel', m.kernel],
      ['open files (ulimit -n)', `${m.nofileSoft} (hard ${m.nofileHard})`],
      ['Punch commit', m.commit],
      ['load average at start (1/5/15 min)', m.loadavg],
      ...extra,
      ['date', m.date],
    ],
    'll',
  );
}

// ---- the end of a run ------------------------------------------------------------------------

/** One line of the report, on stdout. */
export const say = (s = '') => {
  process.stdout.write(`${s}\n`);
};

/**
 * A benchmark's clock and progress log: `log(text)` writes `[name 12.3s] text` to stderr,
 * `elapsed()` is that time since `startedAt`.
 * @param {string} name
 */
export function createLog(name) {
  const startedAt = Date.now();
  const elapsed = () => `${((Date.now() - startedAt) / 1000).toFixed(1)}s`;
  const log = (/** @type {string} */ text) => {
    process.stderr.write(`[${name} ${elapsed()}] ${text}\n`);
  };
  return { startedAt, elapsed, log };
}

/**
 * The end of every report: the notes (when there are any) and the total runtime; with
 * `--json FILE` also `results` plus `runtimeSeconds` as JSON (bigints as strings) in FILE.
 * @param {ReturnType<typeof createLog>} clock
 * @param {string[]} notes
 * @param {string | undefined} json
 * @param {object} results
 */
export function reportFooter(clock, notes, json, results) {
  if (notes.length > 0) {
    say('Notes:');
    for (const n of notes) say(`- ${n}`);
    say();
  }
  const runtimeSeconds = (Date.now() - clock.startedAt) / 1000;
  say(`Total runtime: ${fmt(runtimeSeconds, 1)} s`);
  if (json !== undefined) {
    const file = resolve(json);
    const text = JSON.stringify(
      { ...results, runtimeSeconds },
      (_, v) => (typeof v === 'bigint' ? v.toString() : v),
      2,
    );
    writeFileSync(file, `${text}\n`);
    clock.log(`results written to ${file}`);
  }
}

/**
 * Runs a benchmark's `main`: an error is printed and sets exit code 1; in every case every
 * child process is stopped and the temp dir removed at the end.
 * @param {string} name
 * @param {Reaper} reaper
 * @param {() => Promise<void>} main
 */
export async function runBench(name, reaper, main) {
  try {
    await main();
  } catch (err) {
    process.stderr.write(`${name} failed: ${stackOf(err)}\n`);
    process.exitCode = 1;
  } finally {
    for (const c of [...reaper.children]) await stopProc(c, 2000);
    reaper.cleanupSync();
  }
}

// ---- ports -----------------------------------------------------------------------------------

/**
 * A UDP port the kernel just handed out on `host` (bound to port 0, then closed): free now, and
 * outside any range a server of the run binds from, so in practice still free when used.
 * @param {string} [host]
 * @returns {Promise<number>}
 */
export async function freeUdpPort(host = '127.0.0.1') {
  const socket = dgram.createSocket('udp4');
  try {
    return await new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, host, () => resolve(socket.address().port));
    });
  } finally {
    socket.close();
  }
}
