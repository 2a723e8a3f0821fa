#!/usr/bin/env node
// The `punch peer` data path: throughput, added latency and CPU of the agent pair against plain
// srt-live-transmit, on loopback, in one run.
//
//   npm run bench:agent                       (builds first)
//   node bench/agent.mjs [--quick] [--json FILE]
//
// 1. The agents alone, no SRT: UDP generator → agent --send ─punched path→ agent --receive →
//    UDP sink, against generator → sink directly (the floor) and two bare Node relays in the
//    agents' place (bench/servers/udp-forward.mjs: what Node itself costs). Also the agents' idle CPU.
// 2. SRT end to end, UDP generator → srt-live-transmit → … → srt-live-transmit → UDP sink:
//      rendezvous        srt-live-transmit ⇄ srt-live-transmit (127.0.0.2 ⇄ 127.0.0.3)
//      caller→listener   the SRT modes the agents use, without them
//      Punch             caller → agent --send ─punched path→ agent --receive → listener
//    The agents pair through a local Punch server (session, STUN, punching) first.
//
// Load: 1316-byte datagrams at a fixed rate, each with a sequence number and a CLOCK_MONOTONIC
// send time (generator and sink are worker threads, bench/udp-flow.mjs); every path carries the
// same rates, SRT settings (AES-256, latency 120 ms), and the stacks stay up for the whole run
// while the rows alternate between them. Every datagram stays on 127.0.0.0/8 (the agents run
// with --no-lan --bind 127.0.0.1, so they offer no LAN candidates); every wait and loop
// is bounded; every child is killed and the temp dir removed at the end, on error and on
// SIGINT/SIGTERM.
import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import { mkdtempSync, readdirSync, readlinkSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  PUNCH_BIN,
  ROOT,
  apiRequest,
  assertAlive,
  benchOptions,
  clockTicks,
  cpuSeconds,
  createLog,
  createReaper,
  fmt,
  machineInfo,
  machineTable,
  mdTable,
  messageOf,
  parseJson,
  reportFooter,
  runBench,
  say,
  sleep,
  startProc,
  startServer,
  stopProc,
  summarize,
  udpSockets,
  waitLine,
} from './lib.mjs';
import { encodeHeader } from './udp-flow.mjs';

/** @typedef {import('./lib.mjs').Proc} Proc */

const FLOW = new URL('./udp-flow.mjs', import.meta.url);
const SLT = 'srt-live-transmit';

const opts = benchOptions('bench/agent.mjs', '10 Mbit/s only');

const CONFIG = {
  quick: opts.quick,
  ratesMbps: opts.quick ? [10] : [10, 50, 100],
  /** SRT end to end, per row. */
  warmupS: 2,
  measureS: 10,
  /** After the last datagram: SRT holds packets for `latency` ms, then a margin. */
  drainMs: 500,
  /** The agents alone, per row. */
  rawWarmupS: 1,
  rawMeasureS: 3,
  /** The agents' CPU with the path up and no traffic, measured over this long. */
  idleS: 3,
  /**
   * SO_RCVBUF of the sending srt-live-transmit's UDP input (every SRT path): it reads its input
   * in rounds of up to ~10 ms, and at 100 Mbit/s the default buffer (208 KiB) overflows between
   * rounds (~5 % lost before SRT, on every path alike). Capped by net.core.rmem_max.
   */
  sltInputRcvbuf: 4 * 1024 * 1024,
  size: 1316,
  stream: 'cam-1',
  /** Targets (✓/✗): CPU per agent per 10 Mbit/s, added latency at each percentile. */
  targetCpuPctPer10: 5,
  targetAddedMs: 1,
};

const PATHS = {
  rendezvous: 'plain rendezvous',
  callerListener: 'plain caller→listener',
  punch: 'Punch agents',
  loopback: 'loopback',
  relays: 'bare Node relays',
  agentsOnly: 'agents only',
};

// ---- process bookkeeping -------------------------------------------------------------------

const reaper = createReaper();
const { trackWorker } = reaper;
const clock = createLog('bench:agent');
const { elapsed, log } = clock;

// ---- ports ---------------------------------------------------------------------------------

const reserved = new Set();

function tryBind(host, port) {
  return new Promise((res) => {
    const s = dgram.createSocket('udp4');
    s.once('error', () => {
      s.close();
      res(undefined);
    });
    s.bind(port, host, () => res(s));
  });
}

/**
 * A UDP port P, outside the kernel's ephemeral range (so no port 0 socket of the run takes it
 * meanwhile), such that P..P+span-1 are free on every host. At most 50 attempts.
 */
async function freePort(hosts = ['127.0.0.1'], span = 1) {
  for (let attempt = 0; attempt < 50; attempt++) {
    const p = randomInt(20000, 29990);
    const ports = Array.from({ length: span }, (_, i) => p + i);
    if (ports.some((x) => reserved.has(x))) continue;
    const held = [];
    let ok = true;
    for (const host of hosts) {
      for (const port of ports) {
        const s = await tryBind(host, port);
        if (s === undefined) ok = false;
        else held.push(s);
        if (!ok) break;
      }
      if (!ok) break;
    }
    await Promise.all(held.map((s) => new Promise((r) => s.close(r))));
    if (ok) {
      for (const x of ports) reserved.add(x);
      return p;
    }
  }
  throw new Error(`no free UDP port on ${hosts.join(', ')} after 50 attempts`);
}

// ---- CPU -----------------------------------------------------------------------------------

/**
 * When (`at`, ns) and how many CPU seconds each process has used so far (`cpu`, by name).
 * @param {Record<string, Proc>} procs
 */
function sampleCpu(procs) {
  const at = process.hrtime.bigint();
  /** @type {Record<string, number>} */
  const cpu = {};
  for (const [k, p] of Object.entries(procs)) cpu[k] = cpuSeconds(p.pid);
  return { at, cpu };
}

// ---- UDP drops per process ------------------------------------------------------------------

/** Inodes of the sockets a process holds (/proc/<pid>/fd). */
function socketInodes(pid) {
  const out = [];
  let fds = [];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return out;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m !== null) out.push(m[1]);
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

/** inode → the kernel's drop counter of that UDP socket. */
function udpDropsByInode() {
  return new Map(udpSockets().map((r) => [r.inode, r.drops]));
}

/**
 * Datagrams the kernel dropped at each process's UDP sockets (receive buffer full), per
 * process: {name: {inode: drops}}. Only this run's processes, unlike the namespace-wide
 * counters, which other processes on the machine move too.
 */
function sampleDrops(procs) {
  const byInode = udpDropsByInode();
  const out = {};
  for (const [k, pid] of Object.entries(procs)) {
    out[k] = {};
    for (const inode of socketInodes(pid)) {
      if (byInode.has(inode)) out[k][inode] = byInode.get(inode);
    }
  }
  return out;
}

function dropsDelta(before, after) {
  const out = {};
  for (const [k, socks] of Object.entries(after)) {
    out[k] = Object.entries(socks).reduce((n, [inode, d]) => n + d - (before[k]?.[inode] ?? 0), 0);
  }
  return out;
}

// ---- Punch server, session, agents ---------------------------------------------------------

const api = (srv, method, path, options) => apiRequest(srv.url, method, path, options);

/**
 * A `punch peer` agent and what it reported: event counts, path changes, errors, last health.
 * @param {import('./lib.mjs').Server} srv
 * @param {string} token
 * @param {'sender' | 'receiver'} role
 * @param {string[]} srtArgs
 */
function startAgent(srv, token, role, srtArgs) {
  const a = {
    role,
    /** @type {Record<string, number>} */
    events: {},
    /** @type {object[]} */
    pathEvents: [],
    /** @type {string[]} */
    errors: [],
    /** @type {unknown} */
    health: undefined,
  };
  const proc = startProc(
    reaper,
    `agent --${role === 'sender' ? 'send' : 'receive'}`,
    process.execPath,
    [
      PUNCH_BIN,
      'peer',
      // Keep every datagram on loopback: no LAN candidates, media socket on 127.0.0.1.
      '--no-lan',
      '--bind',
      '127.0.0.1',
      '--server',
      srv.url,
      '--token',
      token,
      '--stream',
      CONFIG.stream,
      role === 'sender' ? '--send' : '--receive',
      '--json',
      '--punch-timeout',
      '20',
      ...srtArgs,
    ],
    {
      onLine: (line) => {
        const e = parseJson(line);
        if (e?.event === undefined) return;
        a.events[e.event] = (a.events[e.event] ?? 0) + 1;
        if (e.event === 'path') a.pathEvents.push({ at: elapsed(), ...e });
        else if (e.event === 'error' && a.errors.length < 10) a.errors.push(line.slice(0, 300));
        else if (e.event === 'health') a.health = e.stats;
      },
    },
  );
  return Object.assign(a, { proc });
}

const waitDirect = (a) =>
  waitLine(
    a.proc,
    (line) => {
      const e = parseJson(line);
      if (e?.event === 'error' && e.fatal) throw new Error(`${a.proc.name}: ${line}`);
      return e?.event === 'path' && e.path === 'direct' ? e : undefined;
    },
    30_000,
    '{"event":"path","path":"direct"}',
  );

// ---- srt-live-transmit ---------------------------------------------------------------------

const startSlt = (name, input, output) => startProc(reaper, name, SLT, [input, output]);

// ---- stacks --------------------------------------------------------------------------------
//
// A stack: where the generator sends (inPort), where the sink listens (outPort), the processes
// that must stay alive, and the processes whose CPU is measured.

function startSink(port) {
  const w = trackWorker(new Worker(FLOW, { workerData: { role: 'sink', port } }));
  const sink = { worker: w, port, errors: /** @type {string[]} */ ([]) };
  /** @type {Promise<void>} */
  const ready = new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error(`UDP sink on ${port}: not ready in 5 s`)), 5000);
    w.on('message', (m) => {
      if (m.type === 'ready') {
        clearTimeout(t);
        res();
      } else if (m.type === 'error') sink.errors.push(m.message);
    });
    w.once('error', (err) => {
      clearTimeout(t);
      rej(err);
    });
  });
  /**
   * Posts `cmd` and resolves with the sink's first message of type `wantType`, within `ms`.
   * @param {object} cmd
   * @param {string} wantType
   * @param {number} ms
   * @returns {Promise<any>}
   */
  sink.request = (cmd, wantType, ms) =>
    new Promise((res, rej) => {
      const t = setTimeout(() => {
        w.off('message', on);
        rej(new Error(`UDP sink on ${port}: no ${wantType} within ${ms / 1000} s`));
      }, ms);
      const on = (m) => {
        if (m.type !== wantType) return;
        clearTimeout(t);
        w.off('message', on);
        res(m);
      };
      w.on('message', on);
      w.postMessage(cmd);
    });
  /** Closes the socket and waits for the worker to exit (the port is free afterwards). */
  sink.close = async () => {
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
  return ready.then(() => sink);
}

let nextRunId = 1;

/**
 * Sends one datagram every 100 ms into the stack's input until one reaches its sink (at most
 * `ms`): the path is up end to end.
 */
async function probeStack(stack, ms = 20_000) {
  const runId = nextRunId++;
  const sock = dgram.createSocket('udp4');
  sock.on('error', () => undefined);
  const ok = stack.sink.request({ cmd: 'probe', runId }, 'probe-ok', ms);
  let seq = 0;
  const send = () => {
    const buf = Buffer.alloc(CONFIG.size);
    encodeHeader(buf, runId, seq++, process.hrtime.bigint());
    sock.send(buf, stack.inPort, '127.0.0.1');
  };
  send();
  const timer = setInterval(send, 100);
  try {
    await ok;
  } catch (err) {
    throw new Error(
      `${stack.name}: no datagram got through within ${ms / 1000} s (${messageOf(err)}); ` +
        `last output:\n${stack
          .procs()
          .map((p) => `${p.name}:\n  ${p.tail.join('\n  ')}`)
          .join('\n')}`,
    );
  } finally {
    clearInterval(timer);
    sock.close();
  }
  log(`${stack.name}: up (${seq} probe datagram(s))`);
}

const srtQuery = (s) => `passphrase=${s.passphrase}&pbkeylen=32&latency=${s.latencyMs}`;

/**
 * A srt-live-transmit listener on 127.0.0.1:`listenPort` writing to the stack's sink, then a
 * caller reading the stack's input and calling 127.0.0.1:`callPort`: the same port, or the
 * sending agent's --srt-listen when the agents sit between the two.
 */
async function startCallerListener(stack, label, listenPort, callPort, q) {
  stack.sltOut = startSlt(
    `srt-live-transmit (${label}, listener)`,
    `srt://127.0.0.1:${listenPort}?mode=listener&${q}`,
    `udp://127.0.0.1:${stack.outPort}`,
  );
  await sleep(200);
  stack.sltIn = startSlt(
    `srt-live-transmit (${label}, caller)`,
    `udp://127.0.0.1:${stack.inPort}?rcvbuf=${CONFIG.sltInputRcvbuf}`,
    `srt://127.0.0.1:${callPort}?mode=caller&${q}`,
  );
}

/** The reference: two srt-live-transmit in rendezvous, no agents. */
async function startPlainRendezvous(session) {
  const inPort = await freePort();
  const outPort = await freePort();
  // srt-live-transmit 1.5 binds local port = remote port in rendezvous: one port, two addresses.
  const rv = await freePort(['127.0.0.2', '127.0.0.3']);
  const q = srtQuery(session);
  const stack = { name: PATHS.rendezvous, inPort, outPort };
  stack.sink = await startSink(outPort);
  stack.sltIn = startSlt(
    'srt-live-transmit (rendezvous, sending)',
    `udp://127.0.0.1:${inPort}?rcvbuf=${CONFIG.sltInputRcvbuf}`,
    `srt://127.0.0.3:${rv}?mode=rendezvous&adapter=127.0.0.2&${q}`,
  );
  stack.sltOut = startSlt(
    'srt-live-transmit (rendezvous, receiving)',
    `srt://127.0.0.2:${rv}?mode=rendezvous&adapter=127.0.0.3&${q}`,
    `udp://127.0.0.1:${outPort}`,
  );
  stack.procs = () => [stack.sltIn, stack.sltOut];
  stack.cpuProcs = { sltIn: stack.sltIn, sltOut: stack.sltOut };
  await probeStack(stack);
  return stack;
}

/** The same SRT modes as through the agents (caller → listener), without the agents. */
async function startPlainCallerListener(session) {
  const inPort = await freePort();
  const outPort = await freePort();
  const srt = await freePort();
  const q = srtQuery(session);
  const stack = { name: PATHS.callerListener, inPort, outPort };
  stack.sink = await startSink(outPort);
  await startCallerListener(stack, 'caller→listener', srt, srt, q);
  stack.procs = () => [stack.sltIn, stack.sltOut];
  stack.cpuProcs = { sltIn: stack.sltIn, sltOut: stack.sltOut };
  await probeStack(stack);
  return stack;
}

/** The two agents, paired through Punch, with the direct path up. */
async function startAgents(srv, session) {
  const srtListen = await freePort();
  // the receiving agent talks to --srt-target from that port + 1
  const srtTarget = await freePort(['127.0.0.1'], 2);
  const sender = startAgent(srv, session.token, 'sender', [
    '--srt-listen',
    `127.0.0.1:${srtListen}`,
  ]);
  const receiver = startAgent(srv, session.token, 'receiver', [
    '--srt-target',
    `127.0.0.1:${srtTarget}`,
  ]);
  const [ps, pr] = await Promise.all([waitDirect(sender), waitDirect(receiver)]);
  for (const [a, e] of [
    [sender, ps],
    [receiver, pr],
  ]) {
    if (!String(e.remote?.ip ?? '').startsWith('127.'))
      throw new Error(
        `${a.proc.name}: direct path to ${JSON.stringify(e.remote)}, not on 127.0.0.0/8`,
      );
  }
  log(
    `agents: direct path up (sender → ${ps.remote.ip}:${ps.remote.port} via ${ps.via}, ` +
      `receiver → ${pr.remote.ip}:${pr.remote.port} via ${pr.via})`,
  );
  return { sender, receiver, srtListen, srtTarget };
}

/**
 * The agents alone, no SRT: the generator sends straight to the sending agent's --srt-listen
 * port and the sink listens on the receiving agent's --srt-target port (the agents forward
 * datagrams without reading them). Isolates the agents' own per-datagram delay and CPU.
 */
async function startAgentsOnly(agents) {
  const stack = { name: PATHS.agentsOnly, inPort: agents.srtListen, outPort: agents.srtTarget };
  stack.sink = await startSink(agents.srtTarget);
  stack.agents = agents;
  stack.procs = () => [agents.sender.proc, agents.receiver.proc];
  stack.cpuProcs = { agentSend: agents.sender.proc, agentRecv: agents.receiver.proc };
  await probeStack(stack);
  return stack;
}

/** The measurement floor: generator → sink, one loopback hop, nothing between. */
async function startLoopback() {
  const port = await freePort();
  const stack = { name: PATHS.loopback, inPort: port, outPort: port };
  stack.sink = await startSink(port);
  stack.procs = () => [];
  stack.cpuProcs = {};
  await probeStack(stack);
  return stack;
}

/** Two bare Node relays (bench/servers/udp-forward.mjs) in the agents' place: Node's own forwarding cost. */
async function startRelays() {
  const inPort = await freePort();
  const mid = await freePort();
  const outPort = await freePort();
  const stack = { name: PATHS.relays, inPort, outPort };
  stack.sink = await startSink(outPort);
  const relay = (name, listen, target) =>
    startProc(reaper, name, process.execPath, [
      join(ROOT, 'bench/servers/udp-forward.mjs'),
      listen,
      target,
    ]);
  stack.relayIn = relay('relay 1', String(inPort), String(mid));
  stack.relayOut = relay('relay 2', String(mid), String(outPort));
  await Promise.all(
    [stack.relayIn, stack.relayOut].map((p) =>
      waitLine(p, (l) => (l === 'ready' ? true : undefined), 10_000, '"ready"'),
    ),
  );
  stack.procs = () => [stack.relayIn, stack.relayOut];
  stack.cpuProcs = { relayIn: stack.relayIn, relayOut: stack.relayOut };
  await probeStack(stack);
  return stack;
}

/** srt-live-transmit caller → agent --send … agent --receive → srt-live-transmit listener. */
async function startPunchSrt(agents, session) {
  const inPort = await freePort();
  const outPort = await freePort();
  const q = srtQuery(session);
  const stack = { name: PATHS.punch, inPort, outPort, agents };
  stack.sink = await startSink(outPort);
  await startCallerListener(stack, 'Punch', agents.srtTarget, agents.srtListen, q);
  stack.procs = () => [agents.sender.proc, agents.receiver.proc, stack.sltIn, stack.sltOut];
  stack.cpuProcs = {
    agentSend: agents.sender.proc,
    agentRecv: agents.receiver.proc,
    sltIn: stack.sltIn,
    sltOut: stack.sltOut,
  };
  await probeStack(stack);
  return stack;
}

// ---- one measurement -----------------------------------------------------------------------

const pathEventCount = (stack) =>
  stack.agents === undefined
    ? 0
    : stack.agents.sender.pathEvents.length + stack.agents.receiver.pathEvents.length;

async function measure(stack, rateMbps, { warmupS, measureS, drainMs }) {
  const pps = (rateMbps * 1e6) / (CONFIG.size * 8);
  const warmup = Math.round(warmupS * pps);
  const count = Math.round(measureS * pps);
  const runId = nextRunId++;
  stack.sink.worker.postMessage({ cmd: 'arm', runId, warmup, measure: count });
  const pathEvents0 = pathEventCount(stack);
  const dropPids = {
    ...Object.fromEntries(Object.entries(stack.cpuProcs).map(([k, p]) => [k, p.pid])),
    bench: process.pid,
  };
  const drops0 = sampleDrops(dropPids);
  const deadlineMs = (warmupS + measureS) * 1500 + 5000;
  const gen = trackWorker(
    new Worker(FLOW, {
      workerData: {
        role: 'gen',
        port: stack.inPort,
        rateMbps,
        size: CONFIG.size,
        warmup,
        measure: count,
        runId,
        deadlineMs,
      },
    }),
  );
  /** @type {ReturnType<typeof sampleCpu> | undefined} */
  let cpu0;
  /** @type {ReturnType<typeof sampleCpu> | undefined} */
  let cpu1;
  /** @type {any} */
  const done = await new Promise((res, rej) => {
    let finished = false;
    const t = setTimeout(() => {
      void gen.terminate();
      rej(new Error(`${stack.name} ${rateMbps} Mbit/s: the generator did not finish in time`));
    }, deadlineMs + 10_000);
    gen.on('message', (m) => {
      if (m.type === 'measure-start') cpu0 = sampleCpu(stack.cpuProcs);
      else if (m.type === 'done') {
        cpu1 = sampleCpu(stack.cpuProcs);
        finished = true;
        clearTimeout(t);
        res(m);
      }
    });
    gen.once('error', (err) => {
      clearTimeout(t);
      rej(err);
    });
    gen.once('exit', (code) => {
      if (!finished) {
        clearTimeout(t);
        rej(new Error(`generator exited (${code}) before finishing`));
      }
    });
  });
  await sleep(drainMs);
  const r = await stack.sink.request({ cmd: 'collect' }, 'result', 10_000);
  const drops = dropsDelta(drops0, sampleDrops(dropPids));
  for (const p of stack.procs()) assertAlive(p, `${stack.name} at ${rateMbps} Mbit/s`);

  // No CPU figures (NaN) when the generator hit its deadline before the measured datagrams.
  const cpuWindowS =
    cpu0 === undefined || cpu1 === undefined ? NaN : Number(cpu1.at - cpu0.at) / 1e9;
  /** @type {Record<string, number>} */
  const cpuPct = {};
  for (const k of Object.keys(stack.cpuProcs))
    cpuPct[k] =
      cpu0 === undefined || cpu1 === undefined
        ? NaN
        : (100 * (cpu1.cpu[k] - cpu0.cpu[k])) / cpuWindowS;
  const sendSpanS = Number(done.endNs - done.measureStartNs) / 1e9 + 1 / pps;
  const lat = summarize(r.latMs);
  const row = {
    path: stack.name,
    rateMbps,
    datagrams: done.measuredSent,
    received: r.received,
    deliveredPct: (100 * r.received) / Math.max(1, done.measuredSent),
    mbps: (r.bytes * 8) / sendSpanS / 1e6,
    latencyMs: lat,
    cpuWindowS,
    cpuPct,
    genWhy: done.why,
    genMaxLagMs: done.maxLagMs,
    genSendErrors: done.sendErrors,
    genLastError: done.lastError,
    duplicates: r.duplicates,
    reordered: r.reordered,
    staleDatagrams: r.stale,
    udpDrops: drops,
    pathEvents: pathEventCount(stack) - pathEvents0,
  };
  log(
    `${stack.name} ${rateMbps} Mbit/s: delivered ${fmt(row.deliveredPct, 2)} % ` +
      `(${r.received}/${done.measuredSent}), ${fmt(row.mbps, 1)} Mbit/s, latency p50 ${fmt(lat.p50, 3)} / ` +
      `p99 ${fmt(lat.p99, 3)} ms` +
      (cpuPct.agentSend === undefined
        ? ''
        : `, agents ${fmt(cpuPct.agentSend, 1)} % + ${fmt(cpuPct.agentRecv, 1)} % of a core`),
  );
  return row;
}

/** @typedef {Awaited<ReturnType<typeof measure>>} Row */

// ---- machine -------------------------------------------------------------------------------

function sltVersion() {
  const r = spawnSync(SLT, ['-version'], { encoding: 'utf8', timeout: 5000 });
  if (r.error !== undefined) {
    throw new Error(
      `${SLT} not found (${r.error.message}): install SRT's tools (e.g. apt-get install srt-tools)`,
    );
  }
  const text = `${r.stdout}\n${r.stderr}`;
  return /SRT Library version:\s*([^\s,]+)/.exec(text)?.[1] ?? 'unknown';
}

// ---- main ----------------------------------------------------------------------------------

async function main() {
  const m = { ...machineInfo(), srtLiveTransmit: sltVersion() };
  reaper.tmpRoot = mkdtempSync(join(os.tmpdir(), 'punch-bench-agent-'));
  const srtPhase = { warmupS: CONFIG.warmupS, measureS: CONFIG.measureS, drainMs: CONFIG.drainMs };
  const rawPhase = { warmupS: CONFIG.rawWarmupS, measureS: CONFIG.rawMeasureS, drainMs: 300 };

  // Punch server, session, passphrase
  const srv = await startServer(reaper, 'punch');
  log(`Punch on ${srv.url} (STUN port ${srv.stunPort})`);
  const created = await api(srv, 'POST', '/api/session', { body: { streams: [CONFIG.stream] } });
  const conn = await api(
    srv,
    'GET',
    `/api/session/${encodeURIComponent(created.session)}/connect`,
    { token: created.token },
  );
  if (conn.pbkeylen !== 32) throw new Error(`session pbkeylen ${conn.pbkeylen}, expected 32`);
  const session = { token: created.token, passphrase: conn.passphrase, latencyMs: conn.latencyMs };

  const results = {
    machine: m,
    config: { ...CONFIG, latencyMs: session.latencyMs, clkTck: clockTicks() },
    /** @type {Row[]} */
    raw: [],
    /** @type {Row[]} */
    srt: [],
  };

  // 1. the agents alone (no SRT), against the measurement floor and two bare Node relays
  const agents = await startAgents(srv, session);
  // the agents' CPU with the path up and no traffic (pings, health, STUN refresh)
  const idleProcs = { agentSend: agents.sender.proc, agentRecv: agents.receiver.proc };
  const idle0 = sampleCpu(idleProcs);
  await sleep(CONFIG.idleS * 1000);
  const idle1 = sampleCpu(idleProcs);
  const idleWindowS = Number(idle1.at - idle0.at) / 1e9;
  results.agentIdlePct = Object.fromEntries(
    Object.keys(idleProcs).map((k) => [k, (100 * (idle1.cpu[k] - idle0.cpu[k])) / idleWindowS]),
  );
  const loopback = await startLoopback();
  const relays = await startRelays();
  const agentsOnly = await startAgentsOnly(agents);
  for (const rate of CONFIG.ratesMbps) {
    for (const stack of [loopback, relays, agentsOnly])
      results.raw.push(await measure(stack, rate, rawPhase));
  }
  // (closing agentsOnly's sink frees --srt-target's port for the SRT listener)
  await Promise.all([loopback, relays, agentsOnly].map((st) => st.sink.close()));
  await Promise.all([relays.relayIn, relays.relayOut].map((p) => stopProc(p.child)));

  // 2. SRT end to end: plain rendezvous, plain caller → listener, through the agents
  const stacks = [
    await startPlainRendezvous(session),
    await startPlainCallerListener(session),
    await startPunchSrt(agents, session),
  ];
  for (const rate of CONFIG.ratesMbps) {
    for (const stack of stacks) results.srt.push(await measure(stack, rate, srtPhase));
  }
  assertAlive(srv, 'the run');
  results.agents = [agents.sender, agents.receiver].map((a) => ({
    role: a.role,
    events: a.events,
    pathEvents: a.pathEvents,
    errors: a.errors,
    lastHealth: a.health,
  }));

  // ---- tables ----
  const L = session.latencyMs;
  /** The row of `path` at `rate` among `rows`. */
  const rowOf = (/** @type {Row[]} */ rows, /** @type {string} */ path, rate) => {
    const r = rows.find((x) => x.path === path && x.rateMbps === rate);
    if (r === undefined) throw new Error(`no row for ${path} at ${rate} Mbit/s`);
    return r;
  };
  const srtRun = (path, rate) => rowOf(results.srt, path, rate);
  const rawRun = (path, rate) => rowOf(results.raw, path, rate);
  const mark = (ok) => (ok ? ' ✓' : ' ✗');
  const addedCell = (x) => `${fmt(x, 3)}${mark(x < CONFIG.targetAddedMs)}`;
  const cpuCell = (x) => `${fmt(x, 2)}${mark(x < CONFIG.targetCpuPctPer10)}`;
  const per10 = (pct, rate) => pct / (rate / 10);

  say(`# Punch agent benchmark: \`punch peer\` vs plain SRT${CONFIG.quick ? ' (--quick)' : ''}`);
  say();
  say(machineTable(m, [['srt-live-transmit', `SRT library ${m.srtLiveTransmit}`]]));
  say();
  say(
    `Targets: each agent < ${CONFIG.targetCpuPctPer10} % of one core per 10 Mbit/s; the agent pair adds ` +
      `< ${CONFIG.targetAddedMs} ms of latency. Load: ${CONFIG.size}-byte UDP datagrams at a fixed rate ` +
      `(1 ms timer, catch-up bursts), each with a sequence number and its send time; latency = sink ` +
      `arrival − send time on the same monotonic clock, over the measured datagrams that arrived; ` +
      `Mbit/s = datagram bytes received ÷ the measured send window. Generator and sink are worker ` +
      `threads of the bench process. Everything on 127.0.0.0/8.`,
  );
  say();

  say(
    `## 1. SRT end to end (${CONFIG.warmupS} s warm-up, ${CONFIG.measureS} s measured per row)\n\n` +
      `UDP → srt-live-transmit → SRT (AES-256, latency=${L}) → srt-live-transmit → UDP. ` +
      `**${PATHS.rendezvous}**: the two in rendezvous (127.0.0.2 ⇄ 127.0.0.3), the way to go ` +
      `without an agent. **${PATHS.callerListener}**: caller straight to listener — the SRT modes ` +
      `the agents use, without them. **${PATHS.punch}**: caller → \`punch peer --send\` → punched UDP ` +
      `path → \`punch peer --receive\` → listener. The receiving srt-live-transmit releases each ` +
      `packet at its SRT timestamp + ${L} ms (TSBPD): latency is ~${L} ms plus a time-base offset ` +
      `SRT fixes at the handshake (it differs between rendezvous and caller→listener), and ` +
      `srt-live-transmit reads its UDP input in rounds of up to ~10 ms, which spreads every path's ` +
      `latency over ~10 ms; its UDP input has SO_RCVBUF ${CONFIG.sltInputRcvbuf / 1048576} MiB ` +
      `(\`?rcvbuf=\`; with the default, every path loses ~5 % at 100 Mbit/s before SRT).`,
  );
  say();
  say(
    mdTable(
      [
        'offered Mbit/s',
        'path',
        'datagrams',
        'delivered %',
        'Mbit/s',
        'p50 ms',
        'p95 ms',
        'p99 ms',
        'max ms',
      ],
      results.srt.map((r) => [
        r.rateMbps,
        r.path,
        r.datagrams,
        fmt(r.deliveredPct, 2),
        fmt(r.mbps, 1),
        fmt(r.latencyMs.p50, 3),
        fmt(r.latencyMs.p95, 3),
        fmt(r.latencyMs.p99, 3),
        fmt(r.latencyMs.max, 3),
      ]),
      'rlrrrrrrr',
    ),
  );
  say();

  results.added = [];
  say(
    `### Added latency: ${PATHS.punch} − reference, at each percentile\n\n` +
      `Against ${PATHS.rendezvous} (what the agents cost a user over plain rendezvous) and against ` +
      `${PATHS.callerListener} (the same SRT modes: the agents alone). ✓/✗: < ${CONFIG.targetAddedMs} ms.`,
  );
  say();
  const addedRows = [];
  for (const rate of CONFIG.ratesMbps) {
    const u = srtRun(PATHS.punch, rate);
    for (const ref of [PATHS.rendezvous, PATHS.callerListener]) {
      const p = srtRun(ref, rate);
      const a = Object.fromEntries(
        ['p50', 'p95', 'p99'].map((k) => [k, u.latencyMs[k] - p.latencyMs[k]]),
      );
      results.added.push({ rateMbps: rate, reference: ref, addedMs: a });
      addedRows.push([
        rate,
        `${PATHS.punch} − ${ref}`,
        addedCell(a.p50),
        addedCell(a.p95),
        addedCell(a.p99),
      ]);
    }
  }
  say(mdTable(['offered Mbit/s', 'difference', 'p50 ms', 'p95 ms', 'p99 ms'], addedRows, 'rlrrr'));
  say();

  say(
    `### Agent CPU\n\n` +
      `utime + stime of each agent process (all threads; /proc/<pid>/stat, ${1000 / clockTicks()} ms ticks) ` +
      `over the measured window, as % of one core, divided by (offered Mbit/s ÷ 10). ✓/✗: < ` +
      `${CONFIG.targetCpuPctPer10} % per agent. srt-live-transmit's own CPU (sending + receiving ` +
      `process, same window) for scale.`,
  );
  say();
  say(
    mdTable(
      [
        'offered Mbit/s',
        'agent --send %core / 10 Mbit/s',
        'agent --receive %core / 10 Mbit/s',
        'both agents %core / 10 Mbit/s',
        'both agents %core',
        'srt-live-transmit %core, Punch path',
        `srt-live-transmit %core, ${PATHS.rendezvous}`,
      ],
      CONFIG.ratesMbps.map((rate) => {
        const u = srtRun(PATHS.punch, rate);
        const p = srtRun(PATHS.rendezvous, rate);
        const s = per10(u.cpuPct.agentSend, rate);
        const rc = per10(u.cpuPct.agentRecv, rate);
        return [
          rate,
          cpuCell(s),
          cpuCell(rc),
          fmt(s + rc, 2),
          fmt(u.cpuPct.agentSend + u.cpuPct.agentRecv, 1),
          `${fmt(u.cpuPct.sltIn, 1)} + ${fmt(u.cpuPct.sltOut, 1)}`,
          `${fmt(p.cpuPct.sltIn, 1)} + ${fmt(p.cpuPct.sltOut, 1)}`,
        ];
      }),
      'rrrrrrr',
    ),
  );
  say();
  say(
    `Idle, path up and no traffic (pings, health reports, STUN refresh; ${CONFIG.idleS} s): ` +
      `agent --send ${fmt(results.agentIdlePct.agentSend, 2)} %, agent --receive ` +
      `${fmt(results.agentIdlePct.agentRecv, 2)} % of one core.`,
  );
  say();

  say(
    `## 2. The agents alone, no SRT (${CONFIG.rawWarmupS} s warm-up, ${CONFIG.rawMeasureS} s measured per row)\n\n` +
      `**${PATHS.agentsOnly}**: the generator sends straight to \`punch peer --send\`'s --srt-listen ` +
      `port and the sink listens on \`punch peer --receive\`'s --srt-target port (the agents forward ` +
      `datagrams without reading them), so nothing re-times the packets: the agents' own ` +
      `per-datagram delay, and their CPU when every datagram arrives on its own (SRT's sender ` +
      `sends in bursts, which costs the agents less per datagram). **${PATHS.relays}**: the same ` +
      `two-process, two-hop shape with bench/servers/udp-forward.mjs (receive → send, nothing else): Node's own ` +
      `cost. **${PATHS.loopback}**: generator → sink directly, the measurement floor. CPU: first / ` +
      `second process, % of one core per 10 Mbit/s.`,
  );
  say();
  say(
    mdTable(
      [
        'offered Mbit/s',
        'path',
        'delivered %',
        'p50 ms',
        'p95 ms',
        'p99 ms',
        'max ms',
        'added p50 ms (vs floor)',
        'added p99 ms (vs floor)',
        '%core / 10 Mbit/s',
      ],
      results.raw.map((r) => {
        const f = rawRun(PATHS.loopback, r.rateMbps);
        const floor = r.path === PATHS.loopback;
        const cpu = Object.values(r.cpuPct).map((x) => fmt(per10(x, r.rateMbps), 2));
        return [
          r.rateMbps,
          r.path,
          fmt(r.deliveredPct, 2),
          fmt(r.latencyMs.p50, 3),
          fmt(r.latencyMs.p95, 3),
          fmt(r.latencyMs.p99, 3),
          fmt(r.latencyMs.max, 3),
          floor ? '—' : fmt(r.latencyMs.p50 - f.latencyMs.p50, 3),
          floor ? '—' : fmt(r.latencyMs.p99 - f.latencyMs.p99, 3),
          cpu.length === 0 ? '—' : cpu.join(' / '),
        ];
      }),
      'rlrrrrrrrr',
    ),
  );
  say();

  const dropNames = {
    sltIn: 'srt-live-transmit in',
    sltOut: 'srt-live-transmit out',
    agentSend: 'agent --send',
    agentRecv: 'agent --receive',
    relayIn: 'relay 1',
    relayOut: 'relay 2',
    bench: 'sink',
  };
  const dropText = (d) => {
    const nz = Object.entries(d).filter(([, n]) => n > 0);
    return nz.length === 0 ? '0' : nz.map(([k, n]) => `${dropNames[k] ?? k} ${n}`).join(', ');
  };
  say(
    `## Details\n\n` +
      `generator lag = how late the most delayed datagram left (a stalled generator thread: CPU ` +
      `contention); UDP drops = datagrams the kernel dropped at this row's processes' sockets ` +
      `(receive buffer full; /proc/net/udp), by process (SRT retransmits what its path loses); ` +
      `reordered = datagrams arriving after a later one; path events = the agents' path changes.`,
  );
  say();
  say(
    mdTable(
      [
        'offered Mbit/s',
        'path',
        'generator lag max ms',
        'UDP drops',
        'reordered',
        'duplicates',
        'path events',
      ],
      [...results.raw, ...results.srt].map((r) => [
        r.rateMbps,
        r.path,
        fmt(r.genMaxLagMs, 2),
        dropText(r.udpDrops),
        r.reordered,
        r.duplicates,
        r.cpuPct.agentSend === undefined ? '—' : r.pathEvents,
      ]),
      'rlrlrrr',
    ),
  );
  say();

  const notes = [];
  for (const r of [...results.raw, ...results.srt]) {
    const what = `${r.path} at ${r.rateMbps} Mbit/s`;
    if (r.genWhy !== 'complete') notes.push(`${what}: the generator stopped at its deadline`);
    if (r.genSendErrors > 0)
      notes.push(`${what}: ${r.genSendErrors} send errors (${r.genLastError})`);
    if (r.staleDatagrams > 0)
      notes.push(`${what}: ${r.staleDatagrams} datagrams of earlier rows at the sink`);
  }
  for (const a of results.agents) {
    if (a.errors.length > 0) notes.push(`agent ${a.role}: ${a.errors.join('; ')}`);
    if (a.pathEvents.length > 1)
      notes.push(
        `agent ${a.role}: path changed ${a.pathEvents.length - 1} time(s): ${JSON.stringify(a.pathEvents)}`,
      );
  }
  if (srv.warnings > 0)
    notes.push(`Punch server logged ${srv.warnings} warn/error lines, e.g. ${srv.warnSamples[0]}`);
  const load1 = Number(m.loadavg.split(' / ')[0]);
  if (load1 > 0.5)
    notes.push(
      `the machine was not idle at the start (load average ${m.loadavg}): other processes share ` +
        `its ${m.cores} cores and add noise to latency and CPU figures`,
    );
  reportFooter(clock, notes, opts.json, results);

  // orderly stop: SRT tools, sinks, agents, then Punch
  for (const s of stacks) {
    await Promise.all([s.sltIn, s.sltOut].map((p) => stopProc(p.child)));
    await s.sink.close();
  }
  await Promise.all([agents.sender.proc, agents.receiver.proc].map((p) => stopProc(p.child)));
  await stopProc(srv.child);
}

await runBench('bench:agent', reaper, main);
