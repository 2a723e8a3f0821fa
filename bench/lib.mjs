// Small helpers shared by the benchmarks: statistics, RSS, tables, process bookkeeping.
import { readFileSync, rmSync } from 'node:fs';
import { parseArgs } from 'node:util';

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
 * Tracks every child process, worker and the temp dir of a benchmark run, and removes them all
 * on exit and on SIGINT/SIGTERM/SIGHUP.
 */
export function createReaper() {
  const children = new Set();
  const workers = new Set();
  const reaper = {
    children,
    /** The run's temp dir, removed by cleanupSync. */
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
  for (const [sig, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ]) {
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

export const exited = (child) => child.exitCode !== null || child.signalCode !== null;

/** Resolves true when `child` exits within `ms`, false otherwise. */
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

/** SIGTERM, then SIGKILL after `graceMs`. */
export async function stopProc(child, graceMs = 3000) {
  if (exited(child)) return;
  child.kill('SIGTERM');
  if (await waitExit(child, graceMs)) return;
  child.kill('SIGKILL');
  await waitExit(child, 2000);
}

/** The options every benchmark takes (`--quick`, `--json FILE`, `--help`); prints usage for --help. */
export function benchOptions(script, quickMeans) {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(
      `usage: node ${script} [--quick] [--json FILE]\n` +
        `  --quick      ${quickMeans}\n` +
        '  --json FILE  also write the results as JSON\n',
    );
    process.exit(0);
  }
  return values;
}
