#!/usr/bin/env node
// The `punch peer` data path: throughput and added latency of the agent pair against plain
// srt-live-transmit rendezvous, on loopback, in one run.
//
//   npm run bench:agent                       (builds first)
//   node bench/agent.mjs [--quick] [--json FILE]
//
//   plain  UDP gen → srt-live-transmit ─SRT rendezvous (127.0.0.2 ⇄ 127.0.0.3)→ srt-live-transmit → UDP sink
//   Punch  UDP gen → srt-live-transmit (caller) → agent --send ─punched UDP path→ agent --receive
//          → srt-live-transmit (listener) → UDP sink; the agents pair through a local Punch server
//
// Both paths carry the same load (1316-byte datagrams at a fixed rate, each with a sequence
// number and a CLOCK_MONOTONIC send time; generator and sink are worker threads of this
// process), with the same SRT settings (AES-256, latency 120 ms). Both stacks stay up for the
// whole run and the rates alternate plain/Punch. Every datagram stays on 127.0.0.0/8; every
// wait and loop is bounded; every child is killed and the temp dir removed at the end, on error
// and on SIGINT/SIGTERM.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { fmt, mdTable, sleep, summarize, udpCounters, udpSocketDrops } from './lib.mjs';
import { encodeHeader } from './udp-flow.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PUNCH_BIN = join(ROOT, 'packages/cli/bin/punch.js');
const FLOW = new URL('./udp-flow.mjs', import.meta.url);
const LOOPBACK_ONLY = pathToFileURL(join(ROOT, 'bench/loopback-only.mjs')).href;
const SLT = 'srt-live-transmit';

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});
if (opts.help) {
  process.stdout.write(
    'usage: node bench/agent.mjs [--quick] [--json FILE]\n' +
      '  --quick      10 Mbit/s only\n' +
      '  --json FILE  also write the results as JSON\n',
  );
  process.exit(0);
}

const CONFIG = {
  quick: opts.quick,
  ratesMbps: opts.quick ? [10] : [10, 50, 100],
  warmupS: 2,
  measureS: 10,
  /** After the last datagram is sent: SRT holds packets for `latency` ms, then a margin. */
  drainMs: 1000,
  size: 1316,
  stream: 'cam-1',
  /** Targets (caption and ✓/✗): CPU per agent per 10 Mbit/s, added latency per percentile. */
  targetCpuPctPer10: 5,
  targetAddedMs: 1,
};

// ---- process bookkeeping -------------------------------------------------------------------

const children = new Set();
const workers = new Set();
let tmpRoot;

function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function trackWorker(w) {
  workers.add(w);
  w.once('exit', () => workers.delete(w));
  return w;
}

function cleanupSync() {
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
  if (tmpRoot !== undefined) {
    rmSync(tmpRoot, { recursive: true, force: true });
    tmpRoot = undefined;
  }
}
process.on('exit', cleanupSync);
for (const [sig, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
  ['SIGHUP', 129],
]) {
  process.on(sig, () => {
    process.stderr.write(
      `\n${sig}: stopping every process and removing ${tmpRoot ?? 'temp dirs'}\n`,
    );
    cleanupSync();
    process.exit(code);
  });
}

const exited = (child) => child.exitCode !== null || child.signalCode !== null;

function waitExit(child, ms) {
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

async function stopProc(child, graceMs = 3000) {
  if (exited(child)) return;
  child.kill('SIGTERM');
  if (await waitExit(child, graceMs)) return;
  child.kill('SIGKILL');
  await waitExit(child, 2000);
}

const T0 = Date.now();
const elapsed = () => `${((Date.now() - T0) / 1000).toFixed(1)}s`;
const log = (text) => process.stderr.write(`[bench:agent ${elapsed()}] ${text}\n`);

/**
 * Spawns a process whose stdout and stderr are drained for its whole life (an unread pipe
 * would stall it); keeps the last lines for error reports and hands stdout lines to `onLine`.
 */
function startProc(name, cmd, args, { env = process.env, onLine } = {}) {
  const child = track(spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] }));
  const p = { name, child, pid: child.pid, tail: [], waiters: new Set() };
  const keep = (src, line) => {
    p.tail.push(`${src}: ${line.slice(0, 300)}`);
    if (p.tail.length > 40) p.tail.shift();
  };
  child.on('error', (err) => keep('spawn', err.message));
  createInterface({ input: child.stdout }).on('line', (line) => {
    keep('out', line);
    onLine?.(line);
    for (const w of [...p.waiters]) w(line);
  });
  createInterface({ input: child.stderr }).on('line', (line) => keep('err', line));
  return p;
}

const describeExit = (p) =>
  `${p.name} (pid ${p.pid}) exited (${p.child.exitCode ?? p.child.signalCode}); last output:\n  ${p.tail.join('\n  ')}`;

function assertAlive(p, what) {
  if (exited(p.child)) throw new Error(`${describeExit(p)}\n(during ${what})`);
}

/** Resolves with `test(line)`'s first non-undefined result on stdout, within `ms`. */
function waitLine(p, test, ms, what) {
  return new Promise((res, rej) => {
    const done = () => {
      clearTimeout(timer);
      p.waiters.delete(onLine);
      p.child.off('exit', onExit);
    };
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
      rej(new Error(`${p.name}: no ${what} within ${ms / 1000} s; last output:\n  ${p.tail.join('\n  ')}`));
    }, ms);
    p.waiters.add(onLine);
    p.child.once('exit', onExit);
    if (exited(p.child)) onExit();
  });
}

const parseJson = (line) => {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
};

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

let CLK_TCK = 100;
try {
  CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  // keep 100
}

/** utime + stime of a process (all its threads), in seconds, from /proc/<pid>/stat. */
function cpuSeconds(pid) {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields 14 and 15 (utime, stime); f[0] is field 3
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

function sampleCpu(procs) {
  const out = { at: process.hrtime.bigint() };
  for (const [k, p] of Object.entries(procs)) out[k] = cpuSeconds(p.pid);
  return out;
}

// ---- Punch server, session, agents ---------------------------------------------------------

async function startPunch() {
  const dataDir = mkdtempSync(join(tmpRoot, 'punch-data-'));
  const srv = { warnings: 0, warnSamples: [] };
  srv.proc = startProc(
    'punch serve',
    process.execPath,
    [
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
    ],
    {
      env: { ...process.env, PUNCH_SECRET: randomBytes(32).toString('hex') },
      onLine: (line) => {
        const j = parseJson(line);
        if (typeof j?.level === 'number' && j.level >= 40) {
          srv.warnings++;
          if (srv.warnSamples.length < 5) srv.warnSamples.push(line.slice(0, 300));
        }
      },
    },
  );
  const l = await waitLine(
    srv.proc,
    (line) => {
      const j = parseJson(line);
      return j?.msg === 'listening' ? j : undefined;
    },
    20_000,
    '"listening" line',
  );
  srv.port = l.port;
  srv.stunPort = l.stunPort;
  srv.url = `http://127.0.0.1:${l.port}`;
  return srv;
}

async function api(srv, method, path, { token, body } = {}) {
  const res = await fetch(`${srv.url}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

function startAgent(srv, token, role, srtArgs) {
  const a = { role, events: {}, pathEvents: [], errors: [], health: undefined };
  a.proc = startProc(
    `agent --${role === 'sender' ? 'send' : 'receive'}`,
    process.execPath,
    [
      '--import',
      LOOPBACK_ONLY,
      PUNCH_BIN,
      'peer',
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
  return a;
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

const startSlt = (name, input, output) => startProc(name, SLT, [input, output]);

// ---- stacks --------------------------------------------------------------------------------

function startSink(port) {
  const w = trackWorker(new Worker(FLOW, { workerData: { role: 'sink', port } }));
  const sink = { worker: w, port, errors: [] };
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
  sink.request = (cmd, wantType, ms) =>
    new Promise((res, rej) => {
      const t = setTimeout(() => {
        w.off('message', on);
        rej(new Error(`UDP sink: no ${wantType} within ${ms / 1000} s`));
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
  return ready.then(() => sink);
}

let nextRunId = 1;

/**
 * Sends one datagram every 100 ms into the stack's input until one reaches its sink (at most
 * `ms`): the SRT connection is up end to end.
 */
async function probeStack(stack, ms = 20_000) {
  const runId = nextRunId++;
  const sock = dgram.createSocket('udp4');
  sock.on('error', () => undefined);
  const ok = stack.sink.request({ cmd: 'probe', runId }, 'probe-ok', ms);
  let seq = 0;
  const timer = setInterval(() => {
    const buf = Buffer.alloc(CONFIG.size);
    encodeHeader(buf, runId, seq++, process.hrtime.bigint());
    sock.send(buf, stack.inPort, '127.0.0.1');
  }, 100);
  try {
    await ok;
  } catch (err) {
    throw new Error(
      `${stack.name}: no datagram got through within ${ms / 1000} s (${err.message}); ` +
        `last output:\n${stack.procs().map((p) => `${p.name}:\n  ${p.tail.join('\n  ')}`).join('\n')}`,
    );
  } finally {
    clearInterval(timer);
    sock.close();
  }
  return seq;
}

async function startPlain(passphrase, latencyMs) {
  const inPort = await freePort();
  const outPort = await freePort();
  // srt-live-transmit 1.5 binds local port = remote port in rendezvous: one port, two addresses.
  const rv = await freePort(['127.0.0.2', '127.0.0.3']);
  const q = `passphrase=${passphrase}&pbkeylen=32&latency=${latencyMs}`;
  const stack = { name: 'plain', inPort, outPort };
  stack.sink = await startSink(outPort);
  stack.sltIn = startSlt(
    'srt-live-transmit (plain, sending)',
    `udp://127.0.0.1:${inPort}`,
    `srt://127.0.0.3:${rv}?mode=rendezvous&adapter=127.0.0.2&${q}`,
  );
  stack.sltOut = startSlt(
    'srt-live-transmit (plain, receiving)',
    `srt://127.0.0.2:${rv}?mode=rendezvous&adapter=127.0.0.3&${q}`,
    `udp://127.0.0.1:${outPort}`,
  );
  stack.procs = () => [stack.sltIn, stack.sltOut];
  stack.cpuProcs = { sltIn: stack.sltIn, sltOut: stack.sltOut };
  stack.uris = {
    send: `udp://127.0.0.1:${inPort} → srt://127.0.0.3:${rv}?mode=rendezvous&adapter=127.0.0.2&…`,
    receive: `srt://127.0.0.2:${rv}?mode=rendezvous&adapter=127.0.0.3&… → udp://127.0.0.1:${outPort}`,
  };
  const probes = await probeStack(stack);
  log(`plain: rendezvous up (${probes} probe datagram(s))`);
  return stack;
}

async function startPunchStack(srv, token, passphrase, latencyMs) {
  const p1 = await freePort();
  // the receiving agent talks to the listener from --srt-target's port + 1
  const p2 = await freePort(['127.0.0.1'], 2);
  const inPort = await freePort();
  const outPort = await freePort();
  const q = `passphrase=${passphrase}&pbkeylen=32&latency=${latencyMs}`;
  const stack = { name: 'Punch', inPort, outPort };
  stack.sink = await startSink(outPort);
  stack.sender = startAgent(srv, token, 'sender', ['--srt-listen', `127.0.0.1:${p1}`]);
  stack.receiver = startAgent(srv, token, 'receiver', ['--srt-target', `127.0.0.1:${p2}`]);
  const [ps, pr] = await Promise.all([waitDirect(stack.sender), waitDirect(stack.receiver)]);
  for (const [a, e] of [
    [stack.sender, ps],
    [stack.receiver, pr],
  ]) {
    if (!String(e.remote?.ip ?? '').startsWith('127.'))
      throw new Error(`${a.proc.name}: direct path to ${JSON.stringify(e.remote)}, not on 127.0.0.0/8`);
  }
  log(
    `Punch: direct path up (sender → ${ps.remote.ip}:${ps.remote.port} via ${ps.via}, ` +
      `receiver → ${pr.remote.ip}:${pr.remote.port} via ${pr.via})`,
  );
  stack.sltOut = startSlt(
    'srt-live-transmit (Punch, listener)',
    `srt://127.0.0.1:${p2}?mode=listener&${q}`,
    `udp://127.0.0.1:${outPort}`,
  );
  await sleep(200);
  stack.sltIn = startSlt(
    'srt-live-transmit (Punch, caller)',
    `udp://127.0.0.1:${inPort}`,
    `srt://127.0.0.1:${p1}?mode=caller&${q}`,
  );
  stack.procs = () => [stack.sender.proc, stack.receiver.proc, stack.sltIn, stack.sltOut];
  stack.cpuProcs = {
    agentSend: stack.sender.proc,
    agentRecv: stack.receiver.proc,
    sltIn: stack.sltIn,
    sltOut: stack.sltOut,
  };
  stack.uris = {
    send: `udp://127.0.0.1:${inPort} → srt://127.0.0.1:${p1}?mode=caller&… (agent --send --srt-listen 127.0.0.1:${p1})`,
    receive: `srt://127.0.0.1:${p2}?mode=listener&… → udp://127.0.0.1:${outPort} (agent --receive --srt-target 127.0.0.1:${p2})`,
  };
  const probes = await probeStack(stack);
  log(`Punch: SRT through the agents up (${probes} probe datagram(s))`);
  return stack;
}

// ---- one measurement -----------------------------------------------------------------------

async function measure(stack, rateMbps) {
  const pps = (rateMbps * 1e6) / (CONFIG.size * 8);
  const warmup = Math.round(CONFIG.warmupS * pps);
  const count = Math.round(CONFIG.measureS * pps);
  const runId = nextRunId++;
  stack.sink.worker.postMessage({ cmd: 'arm', runId, warmup, measure: count });
  const pathEventsBefore = stack.sender
    ? stack.sender.pathEvents.length + stack.receiver.pathEvents.length
    : 0;
  const udp0 = udpCounters();
  const drops0 = { in: udpSocketDrops(stack.inPort), out: udpSocketDrops(stack.outPort) };
  const deadlineMs = (CONFIG.warmupS + CONFIG.measureS) * 1500 + 5000;
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
  let cpu0;
  let cpu1;
  const done = await new Promise((res, rej) => {
    let result;
    const t = setTimeout(() => {
      void gen.terminate();
      rej(new Error(`${stack.name} ${rateMbps} Mbit/s: the generator did not finish in time`));
    }, deadlineMs + 10_000);
    gen.on('message', (m) => {
      if (m.type === 'measure-start') cpu0 = sampleCpu(stack.cpuProcs);
      else if (m.type === 'done') {
        cpu1 = sampleCpu(stack.cpuProcs);
        result = m;
        clearTimeout(t);
        res(m);
      }
    });
    gen.once('error', (err) => {
      clearTimeout(t);
      rej(err);
    });
    gen.once('exit', (code) => {
      if (result === undefined) {
        clearTimeout(t);
        rej(new Error(`generator exited (${code}) before finishing`));
      }
    });
  });
  await sleep(CONFIG.drainMs);
  const r = await stack.sink.request({ cmd: 'collect' }, 'result', 10_000);
  const udp1 = udpCounters();
  for (const p of stack.procs()) assertAlive(p, `${stack.name} at ${rateMbps} Mbit/s`);

  const windowS = Number(cpu1.at - cpu0.at) / 1e9;
  const cpuPct = {};
  for (const k of Object.keys(stack.cpuProcs)) cpuPct[k] = (100 * (cpu1[k] - cpu0[k])) / windowS;
  const sendSpanS = Number(done.endNs - done.measureStartNs) / 1e9 + 1 / pps;
  const lat = summarize(r.latMs);
  const row = {
    path: stack.name,
    rateMbps,
    datagramsMeasured: done.measuredSent,
    received: r.received,
    deliveredPct: (100 * r.received) / Math.max(1, done.measuredSent),
    mbps: (r.bytes * 8) / sendSpanS / 1e6,
    latencyMs: lat,
    cpuWindowS: windowS,
    cpuPct,
    genWhy: done.why,
    genMaxLagMs: done.maxLagMs,
    genSendErrors: done.sendErrors,
    genLastError: done.lastError,
    duplicates: r.duplicates,
    reordered: r.reordered,
    beyond: r.beyond,
    staleDatagrams: r.stale,
    udpRcvbufErrors: (udp1.RcvbufErrors ?? 0) - (udp0.RcvbufErrors ?? 0),
    inSocketDrops: udpSocketDrops(stack.inPort) - drops0.in,
    outSocketDrops: udpSocketDrops(stack.outPort) - drops0.out,
    pathEvents: stack.sender
      ? stack.sender.pathEvents.length + stack.receiver.pathEvents.length - pathEventsBefore
      : 0,
  };
  log(
    `${stack.name} ${rateMbps} Mbit/s: delivered ${fmt(row.deliveredPct, 2)} % ` +
      `(${r.received}/${done.measuredSent}), ${fmt(row.mbps, 1)} Mbit/s, latency p50 ${fmt(lat.p50, 3)} / ` +
      `p99 ${fmt(lat.p99, 3)} ms` +
      (stack.sender
        ? `, agents ${fmt(cpuPct.agentSend, 1)} % + ${fmt(cpuPct.agentRecv, 1)} % of a core`
        : ''),
  );
  return row;
}

// ---- machine -------------------------------------------------------------------------------

function sltVersion() {
  const r = spawnSync(SLT, ['-version'], { encoding: 'utf8', timeout: 5000 });
  if (r.error !== undefined) {
    throw new Error(
      `${SLT} not found (${r.error.code ?? r.error.message}): install SRT's tools (e.g. apt-get install srt-tools)`,
    );
  }
  const text = `${r.stdout}\n${r.stderr}`;
  return /SRT Library version:\s*([^\s,]+)/.exec(text)?.[1] ?? 'unknown';
}

function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model =
    /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'packages'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    if (dirty.trim() !== '') commit += ' + uncommitted changes in packages/';
  } catch {
    // not a git checkout
  }
  return {
    cpu: model,
    cores: os.availableParallelism?.() ?? os.cpus().length,
    node: process.version,
    srtLiveTransmit: sltVersion(),
    kernel: `${os.type()} ${os.release()}`,
    commit,
  };
}

// ---- main ----------------------------------------------------------------------------------

async function main() {
  const m = machine();
  tmpRoot = mkdtempSync(join(os.tmpdir(), 'punch-bench-agent-'));
  const out = [];
  const say = (s = '') => {
    out.push(s);
    process.stdout.write(`${s}\n`);
  };

  say(`# Punch agent benchmark: \`punch peer\` vs plain SRT rendezvous${CONFIG.quick ? ' (--quick)' : ''}`);
  say();
  say(
    mdTable(
      ['machine', ''],
      [
        ['CPU', m.cpu],
        ['cores', m.cores],
        ['Node', m.node],
        ['srt-live-transmit', `SRT library ${m.srtLiveTransmit}`],
        ['kernel', m.kernel],
        ['Punch commit', m.commit],
        ['date', new Date().toISOString()],
      ],
      'll',
    ),
  );
  say();

  // Punch server, session, passphrase
  const srv = await startPunch();
  log(`Punch on ${srv.url} (STUN ${srv.stunPort})`);
  const created = await api(srv, 'POST', '/api/session', { body: { streams: [CONFIG.stream] } });
  const conn = await api(srv, 'GET', `/api/session/${encodeURIComponent(created.session)}/connect`, {
    token: created.token,
  });
  const { passphrase, latencyMs } = conn;
  if (conn.pbkeylen !== 32) throw new Error(`session pbkeylen ${conn.pbkeylen}, expected 32`);

  const plain = await startPlain(passphrase, latencyMs);
  const punch = await startPunchStack(srv, created.token, passphrase, latencyMs);

  const results = { machine: m, config: { ...CONFIG, latencyMs, clkTck: CLK_TCK }, runs: [] };
  for (const rate of CONFIG.ratesMbps) {
    for (const stack of [plain, punch]) results.runs.push(await measure(stack, rate));
  }
  assertAlive(srv.proc, 'the run');

  const agentsSummary = [punch.sender, punch.receiver].map((a) => ({
    role: a.role,
    events: a.events,
    pathEvents: a.pathEvents,
    errors: a.errors,
    lastHealth: a.health,
  }));
  results.agents = agentsSummary;
  results.uris = { plain: plain.uris, punch: punch.uris };

  // ---- tables ----
  const run = (path, rate) => results.runs.find((r) => r.path === path && r.rateMbps === rate);
  say(
    `## Throughput and one-way latency\n\n` +
      `Load: ${CONFIG.size}-byte UDP datagrams at a fixed rate, ${CONFIG.warmupS} s warm-up then ` +
      `${CONFIG.measureS} s measured, into the sending srt-live-transmit; one-way latency = sink ` +
      `arrival − send time (same clock), of the measured datagrams that arrived. Both paths: SRT ` +
      `AES-256 (pbkeylen=32), latency=${latencyMs} ms — srt-live-transmit's receiver releases each ` +
      `packet at its SRT timestamp + ${latencyMs} ms (TSBPD), so the latency is ~${latencyMs} ms plus ` +
      `what the path delays beyond that. **plain**: two srt-live-transmit in rendezvous ` +
      `(127.0.0.2 ⇄ 127.0.0.3). **Punch**: srt-live-transmit caller → \`punch peer --send\` → ` +
      `punched UDP path (127.0.0.1) → \`punch peer --receive\` → srt-live-transmit listener. ` +
      `Mbit/s = datagram bytes received ÷ the measured send window.`,
  );
  say();
  say(
    mdTable(
      ['offered Mbit/s', 'path', 'datagrams', 'delivered %', 'Mbit/s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms'],
      results.runs.map((r) => [
        r.rateMbps,
        r.path,
        r.datagramsMeasured,
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

  const mark = (ok) => (ok ? ' ✓' : ' ✗');
  say(
    `## What the agents add\n\n` +
      `Targets: each agent < ${CONFIG.targetCpuPctPer10} % of one core per 10 Mbit/s; the agent pair ` +
      `adds < ${CONFIG.targetAddedMs} ms latency. Added = Punch − plain at the same percentile. ` +
      `Agent CPU = utime + stime of the agent process (all threads, /proc/<pid>/stat, ` +
      `${1000 / CLK_TCK} ms ticks) over the measured window, as % of one core, divided by ` +
      `(offered Mbit/s ÷ 10).`,
  );
  say();
  say(
    mdTable(
      [
        'offered Mbit/s',
        'added p50 ms',
        'added p95 ms',
        'added p99 ms',
        'agent --send %core/10 Mbit/s',
        'agent --receive %core/10 Mbit/s',
        'agents total %core/10 Mbit/s',
        'agents total %core',
      ],
      CONFIG.ratesMbps.map((rate) => {
        const p = run('plain', rate);
        const u = run('Punch', rate);
        const add = (k) => u.latencyMs[k] - p.latencyMs[k];
        const per10 = (x) => x / (rate / 10);
        const s = per10(u.cpuPct.agentSend);
        const rc = per10(u.cpuPct.agentRecv);
        const row = {
          rate,
          addedMs: { p50: add('p50'), p95: add('p95'), p99: add('p99') },
          agentSendPer10: s,
          agentRecvPer10: rc,
        };
        (results.added ??= []).push(row);
        return [
          rate,
          `${fmt(row.addedMs.p50, 3)}${mark(row.addedMs.p50 < CONFIG.targetAddedMs)}`,
          `${fmt(row.addedMs.p95, 3)}${mark(row.addedMs.p95 < CONFIG.targetAddedMs)}`,
          `${fmt(row.addedMs.p99, 3)}${mark(row.addedMs.p99 < CONFIG.targetAddedMs)}`,
          `${fmt(s, 2)}${mark(s < CONFIG.targetCpuPctPer10)}`,
          `${fmt(rc, 2)}${mark(rc < CONFIG.targetCpuPctPer10)}`,
          fmt(s + rc, 2),
          fmt(u.cpuPct.agentSend + u.cpuPct.agentRecv, 1),
        ];
      }),
      'rrrrrrrr',
    ),
  );
  say();

  say(
    `## Details\n\n` +
      `srt-live-transmit CPU (% of one core, sending + receiving side) for scale; generator lag = ` +
      `how late the most delayed datagram left (1 ms timer, catch-up bursts); kernel drops = UDP ` +
      `RcvbufErrors in this network namespace during the run; reordered = datagrams arriving after ` +
      `a later one.`,
  );
  say();
  say(
    mdTable(
      [
        'offered Mbit/s',
        'path',
        'srt-live-transmit %core (send + recv)',
        'generator lag max ms',
        'kernel UDP drops',
        'reordered',
        'duplicates',
        'path events',
      ],
      results.runs.map((r) => [
        r.rateMbps,
        r.path,
        `${fmt(r.cpuPct.sltIn, 1)} + ${fmt(r.cpuPct.sltOut, 1)}`,
        fmt(r.genMaxLagMs, 2),
        r.udpRcvbufErrors,
        r.reordered,
        r.duplicates,
        r.path === 'Punch' ? r.pathEvents : '—',
      ]),
      'rlrrrrrr',
    ),
  );
  say();

  const notes = [];
  for (const r of results.runs) {
    if (r.genWhy !== 'complete')
      notes.push(`${r.path} ${r.rateMbps} Mbit/s: the generator stopped at its deadline (${r.genWhy})`);
    if (r.genSendErrors > 0)
      notes.push(`${r.path} ${r.rateMbps} Mbit/s: ${r.genSendErrors} send errors (${r.genLastError})`);
    if (r.staleDatagrams > 0)
      notes.push(`${r.path} ${r.rateMbps} Mbit/s: ${r.staleDatagrams} datagrams of earlier runs at the sink`);
  }
  for (const a of agentsSummary) {
    if (a.errors.length > 0) notes.push(`agent ${a.role}: ${a.errors.join('; ')}`);
    if (a.pathEvents.length > 1)
      notes.push(`agent ${a.role}: path changed ${a.pathEvents.length - 1} time(s): ${JSON.stringify(a.pathEvents)}`);
  }
  if (srv.warnings > 0)
    notes.push(`Punch server logged ${srv.warnings} warn/error lines, e.g. ${srv.warnSamples[0]}`);
  if (notes.length > 0) {
    say('Notes:');
    for (const n of notes) say(`- ${n}`);
    say();
  }
  results.runtimeSeconds = (Date.now() - T0) / 1000;
  say(`Total runtime: ${fmt(results.runtimeSeconds, 1)} s`);

  if (opts.json !== undefined) {
    writeFileSync(resolve(opts.json), `${JSON.stringify(results, (_, v) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
    log(`results written to ${resolve(opts.json)}`);
  }

  // orderly stop: SRT tools, agents, then Punch
  for (const s of [punch, plain]) {
    await Promise.all([s.sltIn, s.sltOut].map((p) => stopProc(p.child)));
    await s.sink.worker.terminate();
  }
  await Promise.all([punch.sender.proc, punch.receiver.proc].map((p) => stopProc(p.child)));
  await stopProc(srv.proc.child);
}

try {
  await main();
} catch (err) {
  process.stderr.write(`bench:agent failed: ${err?.stack ?? err}\n`);
  process.exitCode = 1;
} finally {
  for (const c of [...children]) await stopProc(c, 2000);
  cleanupSync();
}
