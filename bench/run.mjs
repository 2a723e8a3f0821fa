#!/usr/bin/env node
// Punch benchmarks: `npm run bench` (builds first), `node bench/run.mjs [--quick] [--json FILE]`.
//
//   1. idle WebSocket connections vs server RSS: Punch, PeerJS server, bare `ws`
//   2. pairing latency (two STUN datagrams → both `peer` messages) at 100 and 1,000 sessions
//   3. session creations per second (POST /api/session, keep-alive, concurrency 32)
//   4. idle at scale: 100,000 sessions, nobody connected: CPU, /healthz, memory, restart
//      (bench/idle-scale.mjs)
//
// Every server and the load generator (bench/load.mjs) are separate processes, all on
// 127.0.0.1; each measurement gets a fresh server. All children are killed and the temp dir
// removed at the end, on error and on SIGINT/SIGTERM.
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import {
  ROOT,
  assertAlive,
  benchOptions,
  createLog,
  createReaper,
  fmt,
  machineInfo,
  machineTable,
  mdTable,
  mib,
  reportFooter,
  runBench,
  say,
  sleep,
  stableRss,
  threadCpuNs,
  udpCounters,
  udpSocketDrops,
  withServer as withServerOf,
} from './lib.mjs';
import { idleScaleConfig, idleScaleRun, idleScaleSection } from './idle-scale.mjs';

const opts = benchOptions(
  'bench/run.mjs',
  'smoke run: 1k connections, 100 sessions, 1,000 creations, 10,000 idle sessions',
);

const CONFIG = {
  quick: opts.quick,
  idleSizes: opts.quick ? [1000] : [1000, 5000, 10000],
  idleServers: ['punch', 'peerjs', 'bare'],
  /** Punch connections are spread over sessions of this many connections each. */
  connsPerSession: 100,
  connectConcurrency: 200,
  /** Connections opened and closed on every server before the "before" reading. */
  idleWarmup: 20,
  /**
   * Sizes that get a second reading 16 s after the last connection opened: Punch pings every
   * socket every 15 s (ws heartbeat), so this reading includes one ping/pong round.
   */
  lateReadingSizes: opts.quick ? [] : [10000],
  lateReadingDelayMs: 16_000,
  pairingSizes: opts.quick ? [100] : [100, 1000],
  /** Sessions pairing at once: 1 (one after another), 50 (waves), 0 (all at once). */
  pairingModes: [
    { name: 'serial', wave: 1 },
    { name: 'waves', wave: 50 },
    { name: 'burst', wave: 0 },
  ],
  pairingWarmup: 20,
  creations: opts.quick ? 1000 : 5000,
  creationWarmup: 200,
  creationConcurrency: 32,
  idleScale: idleScaleConfig(opts.quick),
};
const PUNCH_RATE_LIMITS = [
  'create=1000000',
  'read=1000000',
  'connect=1000000/60',
  'token=1000000',
  'write=1000000',
  'message=100000/1',
]
  .flatMap((r) => ['--rate-limit', r])
  // The idle run holds 10,000 sockets from one address, past the default per-IP cap (200).
  .concat(['--max-sockets-per-ip', '1000000', '--max-sockets', '1000000'])
  .concat(['--max-sessions', '1000000']);

// ---- process bookkeeping -------------------------------------------------------------------

const reaper = createReaper();
const clock = createLog('bench');
const { log } = clock;

/**
 * Runs `fn(srv, lg)` with a fresh server of `kind` and a fresh load generator, then stops both.
 * @template T
 * @param {string} kind
 * @param {(srv: import('./lib.mjs').Server, lg: import('./lib.mjs').Loadgen) => Promise<T>} fn
 * @returns {Promise<T>}
 */
const withServer = (kind, fn) =>
  withServerOf(
    reaper,
    kind,
    { punchArgs: PUNCH_RATE_LIMITS, loadgen: join(ROOT, 'bench/load.mjs') },
    fn,
  );

async function createSessions(lg, srv, count) {
  const r = await lg.call('create', {
    port: srv.port,
    count,
    concurrency: 16,
    body: { streams: ['cam-1'] },
    collect: true,
  });
  if (r.ok !== count) {
    throw new Error(
      `creating ${count} sessions: ${r.ok} ok, statuses ${JSON.stringify(r.statuses)}, errors ${JSON.stringify(r.errors)}`,
    );
  }
  return r.sessions;
}

// ---- 1. idle connections -------------------------------------------------------------------

async function idleRun(kind, size) {
  return withServer(kind, async (srv, lg) => {
    let sessions = [];
    if (kind === 'punch')
      sessions = await createSessions(lg, srv, Math.ceil(size / CONFIG.connsPerSession));
    const warm = await lg.call('connect', {
      kind,
      port: srv.port,
      n: CONFIG.idleWarmup,
      concurrency: 10,
      sessions,
      idPrefix: 'warm-',
    });
    if (warm.opened !== CONFIG.idleWarmup)
      throw new Error(`${kind} warm-up: ${JSON.stringify(warm)}`);
    await lg.call('closeAll');
    const before = await stableRss(srv.pid);
    const c = await lg.call('connect', {
      kind,
      port: srv.port,
      n: size,
      concurrency: CONFIG.connectConcurrency,
      sessions,
      idPrefix: 'c-',
      deadlineMs: 120_000,
    });
    const connectedAt = Date.now();
    const after = await stableRss(srv.pid);
    let state = await lg.call('count');
    assertAlive(srv, 'idle connections');
    const perConn = c.opened > 0 ? (after.kib - before.kib) / c.opened : NaN;
    let late;
    if (CONFIG.lateReadingSizes.includes(size)) {
      await sleep(Math.max(0, connectedAt + CONFIG.lateReadingDelayMs - 1000 - Date.now()));
      late = await stableRss(srv.pid, { settleMs: 0 });
      state = await lg.call('count');
      assertAlive(srv, 'idle connections (late reading)');
    }
    const row = {
      kind,
      size,
      sessions: sessions.length,
      opened: c.opened,
      failed: c.failed,
      errors: c.errors,
      openAtReading: state.open,
      closedAfterReady: state.closedAfterReady,
      connectMs: c.elapsedMs,
      rssBeforeKiB: before.kib,
      rssAfterKiB: after.kib,
      rssSamples: { before: before.samples, after: after.samples },
      kibPerConn: perConn,
      rssLateKiB: late?.kib,
      kibPerConnLate: late === undefined ? undefined : (late.kib - before.kib) / c.opened,
      // Set beside the bare ws row of the same size, for the table.
      ratioToBare: NaN,
      /** @type {number | undefined} */
      ratioToBareLate: undefined,
      serverWarnings: srv.warnings,
      serverWarnSamples: srv.warnSamples,
    };
    log(
      `idle ${kind} ${size}: opened ${c.opened}/${size} in ${fmt(c.elapsedMs / 1000, 1)} s, ` +
        `RSS ${mib(before.kib)} → ${mib(after.kib)} MiB, ${fmt(perConn, 2)} KiB/conn` +
        (c.failed > 0 ? `, errors ${JSON.stringify(c.errors)}` : ''),
    );
    return row;
  });
}

// ---- 2. pairing latency --------------------------------------------------------------------

async function pairingRun(size, mode) {
  return withServer('punch', async (srv, lg) => {
    const sessions = await createSessions(lg, srv, size + CONFIG.pairingWarmup);
    const udpBefore = udpCounters();
    // The server's JS thread CPU time over the measured phase (the loadgen says when).
    const cpu = {};
    lg.onEvent = (e) => {
      if (e.phase === 'pair-start') cpu.start = threadCpuNs(srv.pid);
      if (e.phase === 'pair-end') cpu.end = threadCpuNs(srv.pid);
    };
    const r = await lg.call(
      'pairing',
      {
        port: srv.port,
        sessions,
        wave: mode.wave,
        warmup: CONFIG.pairingWarmup,
        deadlineMs: 120_000,
      },
      150_000,
    );
    const udpAfter = udpCounters();
    r.stunSocketDrops = udpSocketDrops(srv.stunPort);
    r.udpRcvbufErrors = (udpAfter.RcvbufErrors ?? 0) - (udpBefore.RcvbufErrors ?? 0);
    r.udpInErrors = (udpAfter.InErrors ?? 0) - (udpBefore.InErrors ?? 0);
    lg.onEvent = undefined;
    r.serverCpuMs = cpu.end !== undefined ? (cpu.end - cpu.start) / 1e6 : NaN;
    assertAlive(srv, 'pairing');
    log(
      `pairing ${size} (${mode.name}): ${r.paired}/${r.measured} paired, p50 ${fmt(r.latency.p50, 2)} ms, ` +
        `p99 ${fmt(r.latency.p99, 2)} ms, setup ${fmt(r.setupMs / 1000, 1)} s` +
        (r.failed + r.setupFailed > 0 ? `, errors ${JSON.stringify(r.errors)}` : ''),
    );
    return {
      size,
      mode: mode.name,
      ...r,
      serverWarnings: srv.warnings,
      serverWarnSamples: srv.warnSamples,
    };
  });
}

// ---- 3. creations per second ---------------------------------------------------------------

async function creationRun() {
  return withServer('punch', async (srv, lg) => {
    const base = {
      port: srv.port,
      concurrency: CONFIG.creationConcurrency,
      body: { streams: ['cam-1'] },
    };
    const warm = await lg.call('create', { ...base, count: CONFIG.creationWarmup });
    const cpu0 = threadCpuNs(srv.pid);
    const r = await lg.call('create', { ...base, count: CONFIG.creations, deadlineMs: 120_000 });
    r.serverCpuMs = (threadCpuNs(srv.pid) - cpu0) / 1e6;
    assertAlive(srv, 'creations');
    const wal = srv.dataDir !== undefined && existsSync(join(srv.dataDir, 'punch.sqlite-wal'));
    const rate = r.ok / (r.elapsedMs / 1000);
    log(
      `creations: ${r.ok}/${CONFIG.creations} in ${fmt(r.elapsedMs / 1000, 2)} s = ${fmt(rate, 0)}/s`,
    );
    return {
      warmupOk: warm.ok,
      ...r,
      perSecond: rate,
      walFile: wal,
      serverWarnings: srv.warnings,
      serverWarnSamples: srv.warnSamples,
    };
  });
}

// ---- main ----------------------------------------------------------------------------------

async function main() {
  reaper.tmpRoot = mkdtempSync(join(os.tmpdir(), 'punch-bench-'));
  const m = machineInfo();

  say(`# Punch benchmarks${CONFIG.quick ? ' (--quick)' : ''}`);
  say();
  say(machineTable(m));
  say();

  const maxConns = Math.max(...CONFIG.idleSizes);
  const nofile = m.nofileSoft === 'unlimited' ? Infinity : Number(m.nofileSoft);
  if (nofile < maxConns + 500) {
    throw new Error(
      `ulimit -n is ${m.nofileSoft}: the load generator and each server must each hold ${maxConns} sockets (+ a margin); raise it to ≥ ${maxConns + 500}`,
    );
  }

  const results = {
    machine: m,
    config: CONFIG,
    /** @type {Awaited<ReturnType<typeof idleRun>>[]} */
    idle: [],
    /** @type {Awaited<ReturnType<typeof pairingRun>>[]} */
    pairing: [],
    /** @type {Awaited<ReturnType<typeof creationRun>> | undefined} */
    creations: undefined,
    /** @type {Awaited<ReturnType<typeof idleScaleRun>> | undefined} */
    idleScale: undefined,
  };
  /** The idle row of `kind` at `size`. */
  const idleRow = (/** @type {string} */ kind, /** @type {number} */ size) => {
    const r = results.idle.find((x) => x.kind === kind && x.size === size);
    if (r === undefined) throw new Error(`no idle row for ${kind} at ${size}`);
    return r;
  };

  // 1. idle connections
  for (const size of CONFIG.idleSizes) {
    for (const kind of CONFIG.idleServers) results.idle.push(await idleRun(kind, size));
  }
  // 2. pairing latency
  for (const size of CONFIG.pairingSizes) {
    for (const mode of CONFIG.pairingModes) results.pairing.push(await pairingRun(size, mode));
  }
  // 3. creations
  const c = await creationRun();
  results.creations = c;
  // 4. idle at scale
  const idle = await idleScaleRun(reaper, CONFIG.idleScale, log);
  results.idleScale = idle;

  // ---- tables ----
  const NAMES = {
    punch: 'Punch (authenticated)',
    peerjs: 'PeerJS server 1.0.2',
    bare: 'bare ws 8',
  };
  say(
    `## 1. Idle WebSocket connections vs server RSS\n\n` +
      `Target: Punch ≤ 1.3× bare ws per connection. Fresh server process per row; ${CONFIG.idleWarmup} ` +
      `connections opened and closed before "before"; Punch connections use admin tokens spread over ` +
      `sessions of ${CONFIG.connsPerSession} (created before "before"), each waits for \`welcome\`; PeerJS ` +
      `waits for \`OPEN\`; bare ws for \`open\`. RSS = VmRSS, median of 3 readings 500 ms apart after 1.5 s ` +
      `settle. Load generator is a separate process, ${CONFIG.connectConcurrency} handshakes in flight. ` +
      (CONFIG.lateReadingSizes.length === 0
        ? ''
        : `"+16 s" columns (${CONFIG.lateReadingSizes.join(', ')} connections): the same, read ` +
          `16 s after the last connection opened, so it includes one round of Punch's 15 s ws ping ` +
          `(PeerJS and bare ws do not ping from the server).`),
  );
  say();
  const idleRows = [];
  for (const size of CONFIG.idleSizes) {
    const bare = idleRow('bare', size);
    for (const kind of CONFIG.idleServers) {
      const r = idleRow(kind, size);
      r.ratioToBare = r.kibPerConn / bare.kibPerConn;
      r.ratioToBareLate =
        r.kibPerConnLate === undefined || bare.kibPerConnLate === undefined
          ? undefined
          : r.kibPerConnLate / bare.kibPerConnLate;
      idleRows.push([
        NAMES[kind],
        size.toLocaleString('en-US'),
        `${r.openAtReading}${r.failed > 0 ? ` (${r.failed} failed)` : ''}`,
        fmt(r.connectMs / 1000, 2),
        mib(r.rssBeforeKiB),
        mib(r.rssAfterKiB),
        fmt(r.kibPerConn, 2),
        `${fmt(r.ratioToBare, 2)}×${kind === 'punch' ? (r.ratioToBare <= 1.3 ? ' ✓' : ' ✗') : ''}`,
        r.kibPerConnLate === undefined ? '—' : fmt(r.kibPerConnLate, 2),
        r.ratioToBareLate === undefined ? '—' : `${fmt(r.ratioToBareLate, 2)}×`,
      ]);
    }
  }
  say(
    mdTable(
      [
        'server',
        'connections',
        'open at reading',
        'connect s',
        'RSS before MiB',
        'RSS after MiB',
        'KiB / conn',
        '÷ bare ws',
        'KiB / conn +16 s',
        '÷ bare +16 s',
      ],
      idleRows,
      'lrrrrrrrrr',
    ),
  );
  say();

  say(
    `## 2. Pairing latency (Punch)\n\n` +
      `Target: p99 < 5 ms at 1,000 sessions. Per session: sender and receiver WebSockets registered on ` +
      `"cam-1" (admin token), each with its own UDP socket; with every session registered, the sender's ` +
      `STUN Binding request then the receiver's is sent; latency = from right after the second datagram ` +
      `is sent until BOTH \`peer\` messages arrived. All N sessions stay connected and registered ` +
      `throughout; they pair in waves: a wave's datagrams go out back to back and the next wave starts ` +
      `when every session of the previous one is paired. "1 at a time" = waves of 1 (service time), ` +
      `"waves of 50", "burst" = one wave of all N (2 × N datagrams at once). Fresh server per row; ` +
      `${CONFIG.pairingWarmup} warm-up sessions pair and disconnect before the measurement. A lost ` +
      `datagram is resent (RTO 250 ms doubling, jittered, at most 6 times) and its latency includes the ` +
      `wait; "STUN drops" = datagrams the kernel dropped at the server's STUN socket (receive buffer ` +
      `full; /proc/net/udp). CPU ` +
      `columns: on-CPU time of the server's main thread (/proc schedstat) and of the load generator ` +
      `over the measured phase, per pairing.`,
  );
  say();
  say(
    mdTable(
      [
        'sessions',
        'mode',
        'paired',
        'p50 ms',
        'p95 ms',
        'p99 ms',
        'max ms',
        'sessions resent',
        'STUN drops',
        'pairings/s',
        'server CPU µs/pairing',
        'loadgen CPU µs/pairing',
      ],
      results.pairing.map((r) => [
        r.size.toLocaleString('en-US'),
        r.waveSize === 1
          ? '1 at a time'
          : r.mode === 'burst'
            ? `burst (all ${r.measured})`
            : `waves of ${r.waveSize}`,
        `${r.paired}/${r.measured}`,
        fmt(r.latency.p50, 2),
        fmt(r.latency.p95, 2),
        `${fmt(r.latency.p99, 2)}${r.size === 1000 ? (r.latency.p99 < 5 ? ' ✓' : ' ✗') : ''}`,
        fmt(r.latency.max, 2),
        r.sessionsRetransmitted,
        r.stunSocketDrops,
        fmt(r.paired / (r.pairMs / 1000), 0),
        fmt((r.serverCpuMs * 1000) / r.paired, 0),
        fmt((r.loadgenCpuMs * 1000) / r.paired, 0),
      ]),
      'llrrrrrrrrrr',
    ),
  );
  say();

  say(
    `## 3. Session creations per second (Punch)\n\n` +
      `Target: ≥ 2,000/s. ${CONFIG.creations.toLocaleString('en-US')} \`POST /api/session\` ` +
      `\`{"streams":["cam-1"]}\` over keep-alive (http.Agent, concurrency ${CONFIG.creationConcurrency}) ` +
      `against a fresh server after ${CONFIG.creationWarmup} warm-up creations; each creation is ` +
      `persisted to SQLite (WAL) before the 201. Server CPU = on-CPU time of its main thread ` +
      `during the run, per creation.`,
  );
  say();
  say(
    mdTable(
      [
        'creations',
        'concurrency',
        'TCP conns',
        '201s',
        'seconds',
        'creations/s',
        'p50 ms',
        'p99 ms',
        'max ms',
        'server CPU µs/creation',
      ],
      [
        [
          CONFIG.creations.toLocaleString('en-US'),
          CONFIG.creationConcurrency,
          c.tcpConnections,
          c.ok,
          fmt(c.elapsedMs / 1000, 2),
          `${fmt(c.perSecond, 0)}${c.perSecond >= 2000 ? ' ✓' : ' ✗'}`,
          fmt(c.latency.p50, 2),
          fmt(c.latency.p99, 2),
          fmt(c.latency.max, 2),
          fmt((c.serverCpuMs * 1000) / c.ok, 0),
        ],
      ],
      'rrrrrrrrrr',
    ),
  );
  say();

  say(idleScaleSection(idle, '## 4. Idle sessions at scale (Punch)'));

  // Anything odd the servers said or did.
  const notes = [];
  for (const r of results.idle) {
    if (r.failed > 0)
      notes.push(
        `idle ${r.kind} ${r.size}: ${r.failed} connections failed: ${JSON.stringify(r.errors)}`,
      );
    if (r.openAtReading !== r.opened)
      notes.push(
        `idle ${r.kind} ${r.size}: ${r.opened - r.openAtReading} connections closed before the reading`,
      );
  }
  for (const r of results.pairing) {
    if (r.failed + r.setupFailed > 0)
      notes.push(
        `pairing ${r.size} ${r.mode}: ${r.setupFailed} setup failures, ${r.failed} unpaired: ${JSON.stringify(r.errors)}`,
      );
  }
  if (idle.healthz.errors > 0)
    notes.push(`idle at scale: /healthz answered ${idle.healthz.errors} non-200s`);
  if (c.ok !== CONFIG.creations)
    notes.push(`creations: statuses ${JSON.stringify(c.statuses)} ${JSON.stringify(c.errors)}`);
  const warned = [...results.idle, ...results.pairing, c].filter((r) => r.serverWarnings > 0);
  for (const r of warned)
    notes.push(
      `server logged ${r.serverWarnings} warn/error lines, e.g. ${r.serverWarnSamples[0]}`,
    );
  reportFooter(clock, notes, opts.json, results);
}

await runBench('bench', reaper, main);
