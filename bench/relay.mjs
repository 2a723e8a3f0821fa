#!/usr/bin/env node
// Punch's TURN relay against coturn, on loopback, in one run.
//
//   npm run build --silent && npm run bench:relay
//   node bench/relay.mjs [--quick] [--senders N] [--cpu-prof DIR] [--json FILE]
//
// One direction, client → peer: a TURN client (bench/turn-flow.mjs, a worker thread) allocates
// on the relay, binds a channel to a plain UDP sink on 127.0.0.1 (bench/udp-flow.mjs, another
// worker thread) and sends ChannelData with SRT-sized payloads (1,316 bytes), paced at a fixed
// rate. The same sender also sends the same payloads straight to the sink (no relay): the
// baseline that "added" latency is measured against. Per rate: what the sender achieved,
// packets/s delivered, loss, one-way latency p50/p99 (a CLOCK_MONOTONIC send time in every
// payload), the relay's CPU (/proc/<pid>/stat utime + stime over the run). Then each relay's
// max loss-free rate: doubling from the highest loss-free fixed rate, then bisection, bounded
// in steps and time. Punch runs with --relay-max-bps raised to 10 Gbit/s (its default caps an
// allocation at 50 Mbit/s); coturn with its defaults (no bandwidth cap, one relay thread per
// core). Client, sink and relay share this machine's cores. Every wait and loop is bounded;
// both servers and every worker are stopped and the temp dir removed at the end, on error and
// on SIGINT/SIGTERM.
import { spawnSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  PUNCH_BIN,
  ROOT,
  assertAlive,
  benchOptions,
  cpuSeconds,
  createLog,
  createReaper,
  fmt,
  freeUdpPort,
  machineCpuSeconds,
  median,
  machineInfo,
  machineTable,
  mdTable,
  reportFooter,
  runBench,
  say,
  sleep,
  startProc,
  startServer,
  stopProc,
  summarize,
  udpSocketDrops,
  waitLine,
} from './lib.mjs';

/** @typedef {import('./lib.mjs').Proc} Proc */

const FLOW = new URL('./udp-flow.mjs', import.meta.url);
const TURN_FLOW = new URL('./turn-flow.mjs', import.meta.url);

const opts = benchOptions('bench/relay.mjs', '10 Mbit/s only, short search', {
  senders: {
    type: 'string',
    default: '1',
    arg: 'N',
    usage: 'sender threads per path, each with its own allocation (default 1)',
  },
  'cpu-prof': {
    type: 'string',
    arg: 'DIR',
    usage: 'run punch serve under node --cpu-prof and write its profile to DIR',
  },
});

const CONFIG = {
  quick: opts.quick,
  ratesMbps: opts.quick ? [10] : [10, 50, 100],
  /** Payload bytes: an SRT packet (7 × 188-byte TS packets + 16-byte SRT header). */
  size: 1316,
  warmupS: 0.5,
  measureS: 3,
  /** After the last datagram, before the sink is read. */
  drainMs: 300,
  /** The max loss-free search: steps and wall time at most, and when a bracket is close enough. */
  searchSteps: opts.quick ? 3 : 8,
  searchBudgetS: opts.quick ? 60 : 240,
  /** The fixed rates are run this many times, alternating the paths; medians are reported. */
  rounds: opts.quick ? 1 : 3,
  searchPrecision: 0.1,
  /** Doubling never goes beyond this (2 × 1316-byte payloads at ~1.5 Gbit/s is ~140k pkt/s). */
  searchCeilingMbps: 3200,
  /** A sender that achieves less than this share of the rate asked is the limit, not the relay. */
  senderShortfall: 0.97,
  senders: Number(opts.senders ?? '1'),
  /** Punch's per-allocation cap, raised so the cap is not what is measured. */
  punchMaxBps: 10_000_000_000,
  punchRelayPorts: '20000-20999',
  coturnRelayPorts: [21000, 21999],
  /** Targets (issue): Punch's max loss-free packet rate ≥ this × coturn's; added p99 at 50 Mbit/s. */
  targetPpsRatio: 0.5,
  targetAddedP99Ms: 1,
  targetAtMbps: 50,
};
if (!Number.isInteger(CONFIG.senders) || CONFIG.senders < 1 || CONFIG.senders > 4)
  throw new Error('--senders must be 1 to 4');

const reaper = createReaper();
const { trackWorker } = reaper;
const clock = createLog('bench:relay');
const { log } = clock;

// ---- the UDP sink (the TURN peer) --------------------------------------------------------

/**
 * A worker and a request/answer helper: posts `cmd`, resolves with the worker's first message
 * of type `want` within `ms`; rejects on a message of type 'error'.
 * @param {Worker} w
 * @param {string} name
 */
function workerChannel(w, name) {
  /**
   * @param {object | undefined} cmd
   * @param {string} want
   * @param {number} ms
   * @returns {Promise<any>}
   */
  const request = (cmd, want, ms) =>
    new Promise((res, rej) => {
      const done = () => {
        clearTimeout(t);
        w.off('message', on);
        w.off('exit', onExit);
      };
      const t = setTimeout(() => {
        done();
        rej(new Error(`${name}: no ${want} within ${ms / 1000} s`));
      }, ms);
      const on = (/** @type {any} */ m) => {
        if (m.type === 'error') {
          done();
          rej(new Error(`${name}: ${m.message}`));
        } else if (m.type === want) {
          done();
          res(m);
        }
      };
      const onExit = () => {
        done();
        rej(new Error(`${name}: worker exited`));
      };
      w.on('message', on);
      w.once('exit', onExit);
      if (cmd !== undefined) w.postMessage(cmd);
    });
  /** Asks the worker to close its socket; terminates it after 3 s. */
  const close = async () => {
    /** @type {Promise<void>} */
    const gone = new Promise((r) => {
      const t = setTimeout(() => {
        void w.terminate();
        r();
      }, 3000);
      w.once('exit', () => {
        clearTimeout(t);
        r();
      });
    });
    w.postMessage({ cmd: 'close' });
    await gone;
  };
  return { worker: w, request, close };
}

async function startSink() {
  const port = await freeUdpPort();
  const w = trackWorker(new Worker(FLOW, { workerData: { role: 'sink', port } }));
  const ch = workerChannel(w, `UDP sink on ${port}`);
  await ch.request(undefined, 'ready', 5000);
  return { ...ch, port };
}

// ---- senders -------------------------------------------------------------------------------

let user = 0;

/** TURN REST credentials (coturn's --use-auth-secret form), valid for an hour. */
function credentials(secret) {
  const username = `${Math.floor(Date.now() / 1000) + 3600}:bench${++user}`;
  return { username, password: createHmac('sha1', secret).update(username).digest('base64') };
}

/**
 * `CONFIG.senders` sender workers for one path: each allocates on `relay` (its own
 * allocation, channel 0x4000 bound to the sink) or, with no relay, sends straight to the sink.
 * @param {string} name
 * @param {{host: string, port: number} | undefined} relay
 * @param {number} sinkPort
 * @param {string} secret
 */
async function startSenders(name, relay, sinkPort, secret) {
  const senders = [];
  for (let k = 0; k < CONFIG.senders; k++) {
    const { username, password } = relay === undefined ? {} : credentials(secret);
    const w = trackWorker(
      new Worker(TURN_FLOW, {
        workerData: {
          relay,
          peer: { host: '127.0.0.1', port: sinkPort },
          username,
          password,
          channel: 0x4000,
        },
      }),
    );
    const ch = workerChannel(w, `${name} sender ${k + 1}`);
    const ready = await ch.request(undefined, 'ready', 15_000);
    if (ready.relayed !== undefined)
      log(`${name}: allocated ${ready.relayed.ip}:${ready.relayed.port}, channel bound`);
    senders.push(ch);
  }
  return senders;
}

// ---- servers -------------------------------------------------------------------------------

/**
 * `punch serve` with its TURN relay on the STUN port: the secret in PUNCH_TURN_SECRET (argv is
 * visible to every user), loopback peers allowed, the bandwidth cap raised.
 * @param {string} secret
 */
async function startPunch(secret) {
  process.env.PUNCH_TURN_SECRET = secret;
  const profDir = opts['cpu-prof'];
  if (profDir !== undefined) mkdirSync(resolve(profDir), { recursive: true });
  const srv = await startServer(reaper, 'punch', {
    punchArgs: [
      '--relay-allow-private',
      '--relay-ip',
      '127.0.0.1',
      '--relay-ports',
      CONFIG.punchRelayPorts,
      '--relay-max-bps',
      String(CONFIG.punchMaxBps),
    ],
    nodeArgs: profDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', resolve(profDir)],
  }).finally(() => {
    delete process.env.PUNCH_TURN_SECRET;
  });
  if (srv.stunPort === undefined) throw new Error('punch serve: no STUN port in its "listening"');
  log(`punch serve: pid ${srv.pid}, TURN on 127.0.0.1:${srv.stunPort}`);
  return { proc: srv, port: srv.stunPort };
}

/**
 * coturn on 127.0.0.1 with TURN REST credentials; the secret in a config file of the temp dir
 * (argv is visible to every user).
 * @param {string} secret
 * @param {string} dir
 */
async function startCoturn(secret, dir) {
  const port = await freeUdpPort();
  const conf = join(dir, 'turnserver.conf');
  const [min, max] = CONFIG.coturnRelayPorts;
  writeFileSync(
    conf,
    [
      'listening-ip=127.0.0.1',
      'relay-ip=127.0.0.1',
      `listening-port=${port}`,
      `min-port=${min}`,
      `max-port=${max}`,
      'use-auth-secret',
      `static-auth-secret=${secret}`,
      'realm=bench.punch',
      'allow-loopback-peers',
      'no-tls',
      'no-dtls',
      'no-cli',
      'no-multicast-peers',
      `pidfile=${join(dir, 'turnserver.pid')}`,
      'log-file=stdout',
      'simple-log',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  const proc = startProc(reaper, 'coturn', 'turnserver', ['-c', conf]);
  await waitLine(
    proc,
    (l) => (/IPv4\. UDP listener opened|Total General servers/i.test(l) ? true : undefined),
    15_000,
    'coturn listener line',
  );
  log(`coturn: pid ${proc.pid}, TURN on 127.0.0.1:${port}`);
  return { proc, port };
}

function coturnVersion() {
  const r = spawnSync('turnserver', ['--version'], { encoding: 'utf8', timeout: 5000 });
  if (r.error !== undefined) return undefined;
  return `${r.stdout}${r.stderr}`.trim().split('\n')[0] ?? 'unknown';
}

// ---- one step ------------------------------------------------------------------------------

let nextRunId = 1;

/**
 * What one paced run through one path measured.
 * @typedef {object} Step
 * @property {string} path
 * @property {number} rateMbps  asked for
 * @property {number} achievedMbps  what the senders sent, over the measured window
 * @property {boolean} senderLimited  the senders fell short of the rate (or hit the deadline)
 * @property {number} sent
 * @property {number} received
 * @property {number} lossPct
 * @property {number} deliveredPps
 * @property {number} p50  one-way latency, ms
 * @property {number} p99
 * @property {number} cpuPct  the relay's CPU, % of one core, over the run
 * @property {number} cpuPer10  cpuPct per 10 Mbit/s achieved
 * @property {number} otherPct  CPU other programs on the machine used meanwhile, % of one core
 * @property {number} benchPct  CPU of this process (sender and sink threads), % of one core
 * @property {number} sendErrors
 * @property {number} relayDrops  dropped at the relay's listening socket(s) (receive buffer full)
 * @property {number} sinkDrops  dropped at the sink's socket
 * @property {number} [addedP50]  relay minus direct at the same rate (medians over rounds), ms
 * @property {number} [addedP99]
 * @property {number} [rounds]  how many runs the figures are the median of
 */

/**
 * Sends `rateMbps` for warmupS + measureS through one path and reads the sink.
 * @param {{name: string, senders: Awaited<ReturnType<typeof startSenders>>, server?: {proc: Proc, port: number}}} path
 * @param {Awaited<ReturnType<typeof startSink>>} sink
 * @param {number} rateMbps
 * @returns {Promise<Step>}
 */
async function runStep(path, sink, rateMbps) {
  const n = path.senders.length;
  const pps = (rateMbps * 1e6) / (CONFIG.size * 8);
  const warmup = Math.ceil((pps * CONFIG.warmupS) / n);
  const measure = Math.ceil((pps * CONFIG.measureS) / n);
  const runId = nextRunId++;
  const deadlineMs = (CONFIG.warmupS + CONFIG.measureS) * 1500 + 1000;
  sink.worker.postMessage({ cmd: 'arm', runId, warmup: warmup * n, measure: measure * n });
  const pid = path.server?.proc.pid;
  const relayPort = path.server?.port;
  const readDrops = () => ({
    relay: relayPort === undefined ? 0 : udpSocketDrops(relayPort),
    sink: udpSocketDrops(sink.port),
  });
  // Socket drops are counted from the first measured datagram (the warm-up's are not the
  // measured loss): the first sender says when it goes out.
  let drops0 = readDrops();
  const first = path.senders[0].worker;
  const onMeasureStart = (/** @type {any} */ m) => {
    if (m.type !== 'measure-start') return;
    drops0 = readDrops();
    first.off('message', onMeasureStart);
  };
  first.on('message', onMeasureStart);
  const cpu0 = pid === undefined ? 0 : cpuSeconds(pid);
  const own0 = process.cpuUsage();
  const machine0 = machineCpuSeconds();
  const t0 = process.hrtime.bigint();
  const results = await Promise.all(
    path.senders.map((s, k) =>
      s.request(
        {
          cmd: 'run',
          runId,
          rateMbps: rateMbps / n,
          size: CONFIG.size,
          warmup,
          measure,
          offset: k,
          stride: n,
          deadlineMs,
        },
        'done',
        deadlineMs + 20_000,
      ),
    ),
  );
  first.off('message', onMeasureStart);
  const cpu1 = pid === undefined ? 0 : cpuSeconds(pid);
  const own = process.cpuUsage(own0);
  const machine1 = machineCpuSeconds();
  const t1 = process.hrtime.bigint();
  await sleep(CONFIG.drainMs);
  if (path.server !== undefined) assertAlive(path.server.proc, `${path.name} at ${rateMbps}`);
  const r = await sink.request({ cmd: 'collect' }, 'result', 10_000);
  const drops1 = readDrops();
  const relayDrops = drops1.relay - drops0.relay;
  const sinkDrops = drops1.sink - drops0.sink;
  const measuredSent = results.reduce((a, x) => a + x.measuredSent, 0);
  const from = results.reduce((a, x) => (x.measureStartNs < a ? x.measureStartNs : a), t1);
  const to = results.reduce((a, x) => (x.lastSendNs > a ? x.lastSendNs : a), 0n);
  const spanS = Math.max(1e-9, Number(to - from) / 1e9);
  const achievedMbps = (measuredSent * CONFIG.size * 8) / spanS / 1e6;
  const senderLimited =
    results.some((x) => x.why !== 'complete') || achievedMbps < rateMbps * CONFIG.senderShortfall;
  const lat = summarize(Array.from(r.latMs));
  const wallS = Number(t1 - t0) / 1e9;
  const cpuPct = ((cpu1 - cpu0) / wallS) * 100;
  // Everything else the machine ran meanwhile (other programs on it), % of one core: all
  // busy time, less the relay's and this process's (sender and sink threads).
  const otherPct =
    ((machine1.busy - machine0.busy - (cpu1 - cpu0) - (own.user + own.system) / 1e6) / wallS) * 100;
  const step = {
    path: path.name,
    rateMbps,
    achievedMbps,
    senderLimited,
    sent: measuredSent,
    received: r.received,
    lossPct: measuredSent === 0 ? NaN : (1 - r.received / measuredSent) * 100,
    deliveredPps: r.received / spanS,
    p50: lat.p50,
    p99: lat.p99,
    cpuPct,
    cpuPer10: cpuPct / (achievedMbps / 10),
    otherPct: Math.max(0, otherPct),
    benchPct: ((own.user + own.system) / 1e6 / wallS) * 100,
    sendErrors: results.reduce((a, x) => a + x.sendErrors, 0),
    relayDrops,
    sinkDrops,
  };
  log(
    `${path.name} @ ${rateMbps} Mbit/s: sent ${fmt(achievedMbps, 0)} Mbit/s` +
      `${senderLimited ? ' (sender short)' : ''}, loss ${fmt(step.lossPct, 3)} % ` +
      `(dropped at relay ${relayDrops}, at sink ${sinkDrops}), ` +
      `p50/p99 ${fmt(step.p50, 3)}/${fmt(step.p99, 3)} ms, relay CPU ${fmt(cpuPct, 0)} %, ` +
      `sender + sink ${fmt(step.benchPct, 0)} %, ` +
      `other programs ${fmt(step.otherPct, 0)} %`,
  );
  return step;
}

/**
 * What limited a step: 'ok' (every datagram delivered at the rate asked), 'sender short' (none
 * lost, but the client could not send that fast), 'sink drops' (every datagram lost was dropped
 * at the sink's full receive buffer and none at the relay's: the relay delivered them, the
 * bench's receiver fell behind), or 'relay loss' (datagrams lost at or in the relay).
 * @param {Step} s
 */
function outcome(s) {
  const lost = s.sent - s.received;
  // Datagrams lost although the sender fell short: the relay lost them at a lower rate still.
  if (lost > 0 || s.sendErrors > 0)
    return s.relayDrops === 0 && s.sinkDrops >= lost && s.sendErrors === 0
      ? 'sink drops'
      : 'relay loss';
  return s.senderLimited ? 'sender short' : 'ok';
}

const BENCH_LIMITS = ['sender short', 'sink drops'];

/**
 * The median of every figure of one path's steps at one rate over the rounds, with the
 * latency added over `direct`'s step of the same round.
 * @param {Step[]} steps  one per round
 * @param {Step[]} direct  one per round, the same rate
 * @returns {Step}
 */
function aggregate(steps, direct) {
  /** @param {(s: Step, i: number) => number} f */
  const med = (f) => median(steps.map(f));
  const first = steps[0];
  return {
    path: first.path,
    rateMbps: first.rateMbps,
    achievedMbps: med((s) => s.achievedMbps),
    senderLimited: steps.filter((s) => s.senderLimited).length * 2 > steps.length,
    sent: med((s) => s.sent),
    received: med((s) => s.received),
    lossPct: med((s) => s.lossPct),
    deliveredPps: med((s) => s.deliveredPps),
    p50: med((s) => s.p50),
    p99: med((s) => s.p99),
    cpuPct: med((s) => s.cpuPct),
    cpuPer10: med((s) => s.cpuPer10),
    otherPct: med((s) => s.otherPct),
    benchPct: med((s) => s.benchPct),
    sendErrors: med((s) => s.sendErrors),
    relayDrops: med((s) => s.relayDrops),
    sinkDrops: med((s) => s.sinkDrops),
    addedP50: med((s, i) => s.p50 - direct[i].p50),
    addedP99: med((s, i) => s.p99 - direct[i].p99),
    rounds: steps.length,
  };
}

/**
 * The max loss-free rate search of one path: from its highest loss-free fixed rate, doubling
 * until a step is not 'ok', then bisecting the bracket to `searchPrecision`; at most
 * `searchSteps` rates. A 'relay loss' step is run once more and counts only when the repeat is
 * not 'ok' either (other programs on a shared machine can take the relay's core for a moment);
 * both runs are kept. `next()` is the rate to run (undefined: done), `record` takes its step.
 * @param {Step[]} fixed  this path's fixed-rate steps
 */
function createSearch(fixed) {
  /** @type {Step | undefined} */
  let best = [...fixed].reverse().find((s) => outcome(s) === 'ok');
  /** @type {Step | undefined} */
  let bad = fixed.find((s) => outcome(s) !== 'ok');
  /** @type {Step[]} */
  const steps = [];
  /** @type {Step | undefined} a 'relay loss' step waiting for its repeat */
  let pending;
  let rates = 0;
  let done = false;
  const stop = () => {
    done = true;
    return undefined;
  };
  return {
    steps,
    best: () => best,
    bad: () => bad,
    /** @returns {number | undefined} */
    next() {
      if (done) return undefined;
      if (pending !== undefined) return pending.rateMbps;
      if (rates >= CONFIG.searchSteps) return stop();
      const lo = best?.rateMbps ?? 0;
      let rate;
      if (bad === undefined) rate = lo * 2;
      else if (lo > 0 && (bad.rateMbps - lo) / lo <= CONFIG.searchPrecision) return stop();
      else rate = (lo + bad.rateMbps) / 2;
      rate = Math.round(rate);
      if (rate < 1 || rate > CONFIG.searchCeilingMbps) return stop();
      rates++;
      return rate;
    },
    /** @param {Step} s */
    record(s) {
      steps.push(s);
      const o = outcome(s);
      if (o === 'ok') best = s;
      else if (o === 'relay loss' && pending === undefined) {
        pending = s;
        return;
      } else bad = s;
      pending = undefined;
    },
  };
}

// ---- report --------------------------------------------------------------------------------

const ms = (x) => fmt(x, 3);
const signedMs = (x) => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${x.toFixed(3)}` : 'n/a');

/** @param {Step} s */
function stepRow(s) {
  return [
    s.path,
    fmt(s.rateMbps, 0),
    `${fmt(s.achievedMbps, 1)}${s.senderLimited ? ' (sender short)' : ''}`,
    fmt(s.deliveredPps, 0),
    fmt(s.lossPct, 3),
    s.path === 'direct' ? `${ms(s.p50)} (abs)` : signedMs(s.addedP50 ?? NaN),
    s.path === 'direct' ? `${ms(s.p99)} (abs)` : signedMs(s.addedP99 ?? NaN),
    s.path === 'direct' ? '—' : fmt(s.cpuPct, 1),
    s.path === 'direct' ? '—' : fmt(s.cpuPer10, 2),
    fmt(s.otherPct, 0),
  ];
}

const HEAD = [
  'path',
  'rate Mbit/s',
  'sender achieved Mbit/s',
  'delivered pkt/s',
  'loss %',
  'added p50 ms',
  'added p99 ms',
  'relay CPU %',
  'relay CPU % per 10 Mbit/s',
  'other programs CPU %',
];

// ---- main ----------------------------------------------------------------------------------

async function main() {
  const version = coturnVersion();
  if (version === undefined) {
    process.stderr.write(
      '\n*** turnserver (coturn) is NOT installed: bench:relay compares Punch with it and ' +
        'cannot run without it. Install coturn (apt-get install coturn). ***\n\n',
    );
    throw new Error('turnserver not found');
  }
  // The TURN client and `punch serve` run from the build (packages/*/dist); a stale one would
  // measure old code, a missing one cannot run.
  if (!existsSync(PUNCH_BIN) || !existsSync(join(ROOT, 'packages/core/dist/index.js')))
    throw new Error('no build: run `npm run build --silent` first');
  const machine = machineInfo();
  reaper.tmpRoot = mkdtempSync(join(os.tmpdir(), 'punch-bench-relay-'));
  const secret = randomBytes(24).toString('hex');
  const punch = await startPunch(secret);
  const coturn = await startCoturn(secret, reaper.tmpRoot);
  const sink = await startSink();
  const relay = (port) => ({ host: '127.0.0.1', port });
  const paths = [
    { name: 'direct', senders: await startSenders('direct', undefined, sink.port, secret) },
    {
      name: 'Punch',
      server: punch,
      senders: await startSenders('Punch', relay(punch.port), sink.port, secret),
    },
    {
      name: 'coturn',
      server: coturn,
      senders: await startSenders('coturn', relay(coturn.port), sink.port, secret),
    },
  ];
  // A first run per path, not reported: JIT compilation, first allocations, caches.
  for (const p of paths) await runStep(p, sink, CONFIG.ratesMbps[0]);
  // Rounds of every rate, the paths alternating at each rate: a drift of the machine's load
  // (other programs on it) touches all three alike, and the median of the rounds is reported.
  /** @type {Record<string, Step[]>[]} */
  const rounds = [];
  for (let r = 0; r < CONFIG.rounds; r++) {
    /** @type {Record<string, Step[]>} */
    const round = { direct: [], Punch: [], coturn: [] };
    for (const rate of CONFIG.ratesMbps) {
      for (const p of paths) round[p.name].push(await runStep(p, sink, rate));
    }
    rounds.push(round);
  }
  /** @type {Record<string, Step[]>} */
  const fixed = {};
  for (const p of paths) {
    fixed[p.name] = CONFIG.ratesMbps.map((_, i) =>
      aggregate(
        rounds.map((round) => round[p.name][i]),
        rounds.map((round) => round.direct[i]),
      ),
    );
  }
  // The searches run in lockstep, one step of each path in turn, for the same reason.
  log('max loss-free rate search');
  /** @type {Record<string, ReturnType<typeof createSearch>>} */
  const search = {};
  for (const p of paths) search[p.name] = createSearch(fixed[p.name]);
  const until = Date.now() + CONFIG.searchBudgetS * 1000;
  for (let turn = 0; turn < 2 * CONFIG.searchSteps && Date.now() < until; turn++) {
    let ran = false;
    for (const p of paths) {
      const rate = search[p.name].next();
      if (rate === undefined || Date.now() >= until) continue;
      search[p.name].record(await runStep(p, sink, rate));
      ran = true;
    }
    if (!ran) break;
  }
  for (const p of paths) await Promise.all(p.senders.map((s) => s.close()));
  await sink.close();
  // Stopped before the report, so a --cpu-prof profile is written.
  await stopProc(punch.proc.child);
  await stopProc(coturn.proc.child);

  say('# bench:relay: Punch TURN relay vs coturn');
  say();
  say(
    machineTable(machine, [
      ['coturn', version],
      ['senders per path', String(CONFIG.senders)],
    ]),
  );
  say();
  say(
    `One direction, client → peer: ChannelData with ${CONFIG.size}-byte payloads, paced at a ` +
      `fixed rate for ${CONFIG.warmupS} s warm-up + ${CONFIG.measureS} s measured, to a plain ` +
      `UDP socket on 127.0.0.1. Client, sink and relay share this machine's ` +
      `${machine.cores} cores. Punch: --relay-max-bps ${CONFIG.punchMaxBps / 1e9} Gbit/s ` +
      `(default 50 Mbit/s per allocation); coturn: defaults. Each figure is the median of ` +
      `${CONFIG.rounds} round(s) (every rate, the three paths alternating); "added" = relay ` +
      `minus direct (no relay: the same sender straight to the sink) at the same rate in the ` +
      `same round, per percentile. "other programs": CPU the rest of the machine used ` +
      `meanwhile (% of one core), which on a shared machine is what the p99 mostly follows.`,
  );
  say();
  const rows = [];
  for (const rate of CONFIG.ratesMbps) {
    for (const p of paths) {
      const s = fixed[p.name].find((x) => x.rateMbps === rate);
      if (s !== undefined) rows.push(stepRow(s));
    }
  }
  say(mdTable(HEAD, rows, 'lrrrrrrrrr'));
  say();
  // What one whole core of each relay could forward: packets/s per CPU share at its max
  // loss-free rate (the closest to saturation it ran cleanly), scaled to 100 %. It depends on
  // the CPU the relay itself spent, not on how much of the machine other programs left it; a
  // linear estimate (the cost per packet still falls a little as the rate grows).
  /** @type {Record<string, number>} */
  const perCore = {};
  for (const p of paths) {
    const at = search[p.name].best() ?? fixed[p.name].at(-1);
    perCore[p.name] = at === undefined ? NaN : at.deliveredPps / (at.cpuPct / 100);
  }
  const maxRows = paths.map((p) => {
    const best = search[p.name].best();
    const bad = search[p.name].bad();
    let limit = 'search bound reached';
    if (bad !== undefined) {
      const o = outcome(bad);
      const what =
        o === 'sender short'
          ? `sender short (achieved ${fmt(bad.achievedMbps, 0)})`
          : o === 'sink drops'
            ? `${fmt(bad.lossPct, 3)} % dropped at the sink`
            : `${fmt(bad.lossPct, 3)} % lost at the relay`;
      limit = `${fmt(bad.rateMbps, 0)} Mbit/s: ${what}`;
    }
    return [
      p.name,
      best === undefined ? 'none' : fmt(best.rateMbps, 0),
      best === undefined ? 'n/a' : fmt(best.deliveredPps, 0),
      best === undefined || p.name === 'direct' ? '—' : fmt(best.cpuPct, 0),
      limit,
      p.name === 'direct' ? '—' : fmt(perCore[p.name], 0),
    ];
  });
  say('Max loss-free rate (no datagram lost in the measured window):');
  say();
  say(
    mdTable(
      [
        'path',
        'Mbit/s',
        'delivered pkt/s',
        'relay CPU %',
        'first step that was not',
        'est. pkt/s on one whole core (pkt/s ÷ relay CPU share)',
      ],
      maxRows,
      'lrrrlr',
    ),
  );
  say();
  const stepRows = paths.flatMap((p) =>
    search[p.name].steps.map((s) => [
      p.name,
      fmt(s.rateMbps, 0),
      fmt(s.achievedMbps, 1),
      fmt(s.lossPct, 3),
      p.name === 'direct' ? '—' : String(s.relayDrops),
      String(s.sinkDrops),
      outcome(s),
      p.name === 'direct' ? '—' : fmt(s.cpuPct, 0),
      fmt(s.benchPct, 0),
      fmt(s.otherPct, 0),
    ]),
  );
  say('Search steps (in the order run, the paths taking turns):');
  say();
  say(
    mdTable(
      [
        'path',
        'rate Mbit/s',
        'sender achieved Mbit/s',
        'loss %',
        'dropped at relay socket',
        'dropped at sink socket',
        'outcome',
        'relay CPU %',
        'sender + sink CPU %',
        'other programs CPU %',
      ],
      stepRows,
      'lrrrrrlrrr',
    ),
  );
  say();

  const pBest = search.Punch.best();
  const cBest = search.coturn.best();
  const ratio =
    pBest !== undefined && cBest !== undefined ? pBest.deliveredPps / cBest.deliveredPps : NaN;
  const estRatio = perCore.Punch / perCore.coturn;
  const cBad = search.coturn.bad();
  const coturnBenchLimited = cBad === undefined || BENCH_LIMITS.includes(outcome(cBad));
  const at = fixed.Punch.find((s) => s.rateMbps === CONFIG.targetAtMbps);
  const added99 = at?.addedP99 ?? NaN;
  const verdict = (ok) => (ok ? 'met' : 'missed');
  say(
    mdTable(
      ['target', 'measured', 'result'],
      [
        [
          `Punch max loss-free pkt/s ≥ ${CONFIG.targetPpsRatio} × coturn's`,
          `${fmt(ratio, 2)} × (${fmt(pBest?.deliveredPps ?? NaN, 0)} vs ` +
            `${coturnBenchLimited ? '≥ ' : ''}${fmt(cBest?.deliveredPps ?? NaN, 0)} pkt/s)`,
          Number.isFinite(ratio) ? verdict(ratio >= CONFIG.targetPpsRatio) : 'not measured',
        ],
        [
          `(the same, estimated: pkt/s on one whole core, from relay CPU)`,
          `${fmt(estRatio, 2)} × (${fmt(perCore.Punch, 0)} vs ${fmt(perCore.coturn, 0)} pkt/s)`,
          Number.isFinite(estRatio) ? verdict(estRatio >= CONFIG.targetPpsRatio) : 'not measured',
        ],
        [
          `Punch added p99 < ${CONFIG.targetAddedP99Ms} ms at ${CONFIG.targetAtMbps} Mbit/s`,
          `${signedMs(added99)} ms`,
          Number.isFinite(added99) ? verdict(added99 < CONFIG.targetAddedP99Ms) : 'not measured',
        ],
      ],
      'lll',
    ),
  );
  say();
  const notes = [
    'Loss-free: every datagram of the measured window reached the sink, at the rate asked. ' +
      "A step's outcome: 'sender short' (the sender reached less than " +
      `${CONFIG.senderShortfall * 100} % of the rate) and 'sink drops' (every lost datagram ` +
      "was dropped at the sink's full receive buffer, none at the relay's) are limits of the " +
      "bench's client on this machine; 'relay loss' is the relay's, and counts only when a " +
      'repeat of the step loses too (both runs are listed).',
    'Drops per socket: the kernel counter of each UDP socket (/proc/net/udp), from the first ' +
      'measured datagram to the end of the step.',
    'CPU: utime + stime of the server process (all its threads) over the whole run ' +
      '(warm-up included), % of one core.',
  ];
  if (coturnBenchLimited)
    notes.push(
      "coturn's max loss-free rate is a lower bound (what stopped the search was its bound " +
        "or the bench's client, not coturn), so the ratio may overstate Punch's share.",
    );
  reportFooter(clock, notes, opts.json, {
    machine,
    config: CONFIG,
    fixed,
    rounds,
    search: Object.fromEntries(
      Object.entries(search).map(([k, v]) => [k, { best: v.best(), bad: v.bad(), steps: v.steps }]),
    ),
  });
}

await runBench('bench:relay', reaper, main);
