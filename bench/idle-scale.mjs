#!/usr/bin/env node
// Idle at scale (issue 15, "Idle costs nothing"): `punch serve` holding 100,000 idle sessions
// with nobody connected. Part 4 of `npm run bench`; alone: `node bench/idle-scale.mjs [--quick]
// [--json FILE]` (after `npm run build`). `--quick`: 10,000 sessions, 10 s idle.
//
//   1. RSS of the empty server, then N sessions created over HTTP (POST /api/session), each
//      persisted to SQLite;
//   2. the server's CPU over an idle span (utime + stime from /proc/PID/stat, every thread);
//   3. /healthz latency: sequential requests over one keep-alive connection;
//   4. SIGTERM, then `punch serve` again on the same data directory: time from spawn until its
//      "listening" line (which reports the sessions it loaded) and until /healthz answers, and
//      its RSS with every session loaded: memory per session = (that − empty) / N.
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  ROOT,
  assertAlive,
  benchOptions,
  cpuSeconds,
  createLog,
  createReaper,
  fmt,
  machineInfo,
  machineTable,
  mdTable,
  mib,
  parseJson,
  punchServeArgs,
  reportFooter,
  runBench,
  say,
  sleep,
  stableRss,
  startLoadgen,
  startProc,
  stopProc,
  summarize,
  waitLine,
} from './lib.mjs';

/** The targets. */
export const IDLE_TARGETS = { cpuPercent: 1, healthzP99Ms: 10, restartSeconds: 5 };

/** Caps and rate limits raised so that N sessions from one address are all accepted. */
export const IDLE_SCALE_ARGS = [
  'create=10000000',
  'read=10000000',
  'connect=1000000/60',
  'write=10000000',
]
  .flatMap((r) => ['--rate-limit', r])
  .concat(['--max-sessions', '1000000']);

/**
 * The sizes of a run.
 * @param {boolean} quick
 */
export function idleScaleConfig(quick) {
  return {
    sessions: quick ? 10_000 : 100_000,
    idleSeconds: quick ? 10 : 30,
    healthzRequests: quick ? 500 : 2000,
    createConcurrency: 32,
  };
}

/**
 * Starts `punch serve` on `dataDir` with `secret`; resolves once it logged "listening".
 * @param {import('./lib.mjs').Reaper} reaper
 * @param {string} dataDir
 * @param {string} secret
 */
async function serve(reaper, dataDir, secret) {
  const args = [...punchServeArgs(dataDir), ...IDLE_SCALE_ARGS];
  const spawnedAt = performance.now();
  const proc = startProc(reaper, 'punch server', process.execPath, args, {
    env: { ...process.env, PUNCH_SECRET: secret },
  });
  const listening = await waitLine(
    proc,
    (line) => {
      const j = parseJson(line);
      return j?.msg === 'listening' ? j : undefined;
    },
    120_000,
    '"listening" line',
  );
  const listeningMs = performance.now() - spawnedAt;
  return { proc, port: /** @type {number} */ (listening.port), listening, spawnedAt, listeningMs };
}

/**
 * One GET /healthz over `agent`; resolves with its status.
 * @param {http.Agent} agent
 * @param {number} port
 * @returns {Promise<number>}
 */
function healthz(agent, port) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/healthz', agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.setTimeout(10_000, () => req.destroy(new Error('/healthz timed out')));
    req.on('error', reject);
  });
}

/**
 * The share of a core `pid` used over `seconds` of waiting (every thread, /proc/PID/stat).
 * @param {number} pid
 * @param {number} seconds
 */
async function idleCpuPercent(pid, seconds) {
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  await sleep(seconds * 1000);
  return ((cpuSeconds(pid) - cpu0) / ((performance.now() - t0) / 1000)) * 100;
}

/** Requests before the measured ones (JIT, the connection). */
const HEALTHZ_WARMUP = 50;

/**
 * `count` GET /healthz one after another over one keep-alive connection, after a warm-up.
 * @param {number} port
 * @param {number} count
 */
async function healthzLatency(port, count) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const latencies = [];
  let errors = 0;
  try {
    for (let i = 0; i < HEALTHZ_WARMUP + count; i++) {
      const s = performance.now();
      if ((await healthz(agent, port)) !== 200) errors++;
      if (i >= HEALTHZ_WARMUP) latencies.push(performance.now() - s);
    }
  } finally {
    agent.destroy();
  }
  return { ...summarize(latencies), errors };
}

/**
 * Runs the idle-scale measurement on fresh `punch serve` processes under `reaper.tmpRoot`.
 * @param {import('./lib.mjs').Reaper} reaper
 * @param {ReturnType<typeof idleScaleConfig>} config
 * @param {(text: string) => void} log
 */
export async function idleScaleRun(reaper, config, log) {
  if (reaper.tmpRoot === undefined) throw new Error('set reaper.tmpRoot first');
  const dataDir = mkdtempSync(join(reaper.tmpRoot, 'punch-idle-'));
  const secret = (await import('node:crypto')).randomBytes(32).toString('hex');
  const n = config.sessions;

  // 1. empty, then N sessions
  let srv = await serve(reaper, dataDir, secret);
  const pid = /** @type {number} */ (srv.proc.pid);
  const empty = await stableRss(pid);
  // The same measures on the empty server: what the sessions add, apart from the machine.
  const emptyCpuPercent = await idleCpuPercent(pid, config.idleSeconds);
  const emptyHealthz = await healthzLatency(srv.port, config.healthzRequests);
  log(
    `idle-scale: empty server: ${fmt(emptyCpuPercent, 2)}% of a core idle, ` +
      `/healthz p99 ${fmt(emptyHealthz.p99, 2)} ms`,
  );
  const lg = await startLoadgen(reaper, join(ROOT, 'bench/load.mjs'));
  let created;
  try {
    created = await lg.call(
      'create',
      {
        port: srv.port,
        count: n,
        concurrency: config.createConcurrency,
        body: { streams: ['cam-1'] },
        deadlineMs: 600_000,
      },
      660_000,
    );
  } finally {
    await lg.stop();
  }
  if (created.ok !== n)
    throw new Error(
      `creating ${n} sessions: ${created.ok} ok, ${JSON.stringify(created.statuses)} ${JSON.stringify(created.errors)}`,
    );
  log(`idle-scale: ${n} sessions created in ${fmt(created.elapsedMs / 1000, 1)} s`);
  const full = await stableRss(pid);

  // 2. idle CPU
  const cpuPercent = await idleCpuPercent(pid, config.idleSeconds);
  assertAlive(srv.proc, 'idle span');
  log(`idle-scale: ${fmt(cpuPercent, 2)}% of a core over ${config.idleSeconds} s idle`);

  // 3. /healthz, one request at a time
  const health = await healthzLatency(srv.port, config.healthzRequests);
  log(`idle-scale: /healthz p50 ${fmt(health.p50, 2)} ms, p99 ${fmt(health.p99, 2)} ms`);

  // 4. restart on the same data
  await stopProc(srv.proc.child, 30_000);
  srv = await serve(reaper, dataDir, secret);
  const restartPid = /** @type {number} */ (srv.proc.pid);
  const healthyMs = await (async () => {
    const a = new http.Agent({ keepAlive: false });
    try {
      // Bounded: 10,000 tries, each waits for an answer or an error.
      for (let i = 0; i < 10_000; i++) {
        const ok = await healthz(a, srv.port).then(
          (status) => status === 200,
          () => false,
        );
        if (ok) return performance.now() - srv.spawnedAt;
        await sleep(5);
      }
      return NaN;
    } finally {
      a.destroy();
    }
  })();
  const loaded = /** @type {number | undefined} */ (srv.listening.sessions);
  const restarted = await stableRss(restartPid);
  log(
    `idle-scale: restart with ${loaded} sessions: listening after ${fmt(srv.listeningMs / 1000, 2)} s, ` +
      `RSS ${mib(restarted.kib)} MiB`,
  );
  await stopProc(srv.proc.child, 30_000);

  return {
    sessions: n,
    createSeconds: created.elapsedMs / 1000,
    creationsPerSecond: created.ok / (created.elapsedMs / 1000),
    idleSeconds: config.idleSeconds,
    cpuPercent,
    emptyCpuPercent,
    healthz: health,
    emptyHealthz,
    rssEmptyKiB: empty.kib,
    rssCreatedKiB: full.kib,
    rssRestartedKiB: restarted.kib,
    kibPerSessionCreated: (full.kib - empty.kib) / n,
    kibPerSessionRestarted: (restarted.kib - empty.kib) / n,
    sessionsLoaded: loaded,
    restartListeningSeconds: srv.listeningMs / 1000,
    restartHealthySeconds: healthyMs / 1000,
  };
}

/**
 * The report section for a run of `idleScaleRun`.
 * @param {Awaited<ReturnType<typeof idleScaleRun>>} r
 * @param {string} heading
 */
export function idleScaleSection(r, heading) {
  const t = IDLE_TARGETS;
  const mark = (/** @type {boolean} */ ok) => (ok ? '✓ pass' : '✗ miss');
  const n = r.sessions.toLocaleString('en-US');
  const restart = Math.max(r.restartListeningSeconds, r.restartHealthySeconds);
  return [
    `${heading}\n\n` +
      `${n} sessions (\`{"streams":["cam-1"]}\`) created over HTTP (${fmt(r.createSeconds, 1)} s, ` +
      `${fmt(r.creationsPerSecond, 0)}/s) on one \`punch serve\` with its caps and rate limits ` +
      `raised, nobody connected. CPU = utime + stime of the server (every thread, ` +
      `/proc/PID/stat) over ${r.idleSeconds} s idle. /healthz: ${r.healthz.count} requests one ` +
      `after another over one keep-alive connection (after ${HEALTHZ_WARMUP} unmeasured), after ` +
      `the idle span. The same two measures on the empty server, before the sessions, show what ` +
      `the machine and the process cost without them. Restart: SIGTERM, then ` +
      `\`punch serve\` on the same data directory; time from spawn to its "listening" line ` +
      `(sessions loaded: ${r.sessionsLoaded?.toLocaleString('en-US') ?? '?'}) and to the first ` +
      `/healthz 200. Memory per session: (RSS − RSS of the empty server) / ${n}, after creation ` +
      `and after the restart (the rooms loaded from SQLite, no creation garbage).`,
    '',
    mdTable(
      ['measure', 'value', 'target', ''],
      [
        [
          `CPU while idle (${r.idleSeconds} s)`,
          `${fmt(r.cpuPercent, 2)}% of a core`,
          `< ${t.cpuPercent}%`,
          mark(r.cpuPercent < t.cpuPercent),
        ],
        [
          '/healthz p50 / p99 / max',
          `${fmt(r.healthz.p50, 2)} / ${fmt(r.healthz.p99, 2)} / ${fmt(r.healthz.max, 2)} ms`,
          `p99 < ${t.healthzP99Ms} ms`,
          mark(r.healthz.p99 < t.healthzP99Ms && r.healthz.errors === 0),
        ],
        [
          'the same server empty: CPU / /healthz p99',
          `${fmt(r.emptyCpuPercent, 2)}% / ${fmt(r.emptyHealthz.p99, 2)} ms`,
          '—',
          '',
        ],
        [
          'restart: listening / /healthz answers',
          `${fmt(r.restartListeningSeconds, 2)} / ${fmt(r.restartHealthySeconds, 2)} s`,
          `< ${t.restartSeconds} s`,
          mark(restart < t.restartSeconds && r.sessionsLoaded === r.sessions),
        ],
        [
          'memory per session: created / restarted',
          `${fmt(r.kibPerSessionCreated, 2)} / ${fmt(r.kibPerSessionRestarted, 2)} KiB`,
          '—',
          '',
        ],
        [
          'RSS: empty / created / restarted',
          `${mib(r.rssEmptyKiB)} / ${mib(r.rssCreatedKiB)} / ${mib(r.rssRestartedKiB)} MiB`,
          '—',
          '',
        ],
      ],
      'lrll',
    ),
    '',
  ].join('\n');
}

async function main() {
  const opts = benchOptions('bench/idle-scale.mjs', '10,000 sessions, 10 s idle');
  const reaper = createReaper();
  const clock = createLog('idle-scale');
  await runBench('idle-scale', reaper, async () => {
    reaper.tmpRoot = mkdtempSync(join(os.tmpdir(), 'punch-bench-'));
    const m = machineInfo();
    say(`# Punch idle at scale${opts.quick ? ' (--quick)' : ''}`);
    say();
    say(machineTable(m));
    say();
    const r = await idleScaleRun(reaper, idleScaleConfig(opts.quick), clock.log);
    say(idleScaleSection(r, '## Idle sessions at scale'));
    const notes = r.healthz.errors > 0 ? [`/healthz answered ${r.healthz.errors} non-200s`] : [];
    reportFooter(clock, notes, opts.json, { machine: m, idleScale: r });
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
