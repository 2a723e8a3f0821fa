#!/usr/bin/env node
// Signal relay throughput and latency: Punch's /api/signal (peer tokens, policy checks on) vs
// the PeerJS server's OFFER relay vs a bare `ws` relay, in one run.
// `npm run bench:signal` (builds first), `node bench/signal.mjs [--quick] [--json FILE]`.
//
// For each payload (an SDP offer, ~4 KB; an ICE candidate, ~250 B) and each relay, a fresh
// server process; its clients (bench/signal-load.mjs, a separate process) connect as pairs,
// then
//   1. throughput: every pair keeps a window of messages in flight (half each way), a warm-up
//      then a measured span: delivered messages/s, send → delivery latency, CPU of both sides;
//   2. latency: one pair alone, then every pair at once, each pair doing ping-pong round trips
//      one after another (A → B, B → A);
//   3. the server's RSS, with every client still connected.
// Rows repeat (--repeat, default 3) and the tables show medians. Everything is on 127.0.0.1.
// All children are killed and the temp dir removed at the end, on error and on SIGINT/SIGTERM.
// `--cpu-prof DIR` writes a V8 CPU profile of every server process (node --cpu-prof).
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { CompactSign, SignJWT, exportJWK, generateKeyPair } from 'jose';
import {
  PUNCH_BIN,
  ROOT,
  apiRequest,
  assertAlive,
  benchOptions,
  createLog,
  createReaper,
  fmt,
  machineInfo,
  machineTable,
  mib,
  reportFooter,
  runBench,
  say,
  stableRss,
  withServer,
} from './lib.mjs';
import { PAYLOADS, payloadBytes } from './signal-payloads.mjs';
import { combine, describe, runNotes, tables, verdict } from './signal-report.mjs';

const SYSTEMS = ['punch', 'peerjs', 'bare-relay'];

const opts = benchOptions(
  'bench/signal.mjs',
  'smoke run (< 60 s): 1,000 round trips, 0.5 s warm-up + 2 s of load per row',
  {
    systems: {
      type: 'string',
      arg: 'LIST',
      usage: `comma-separated subset of ${SYSTEMS.join(',')}`,
    },
    payloads: {
      type: 'string',
      arg: 'LIST',
      usage: `comma-separated subset of ${Object.keys(PAYLOADS).join(',')}`,
    },
    repeat: {
      type: 'string',
      arg: 'N',
      usage: 'runs per row (fresh server each); tables show medians (default 3, --quick 1)',
    },
    'cpu-prof': {
      type: 'string',
      arg: 'DIR',
      usage: 'write a V8 CPU profile of every server process into this directory',
    },
  },
);
const pick = (text, all, what) => {
  if (text === undefined) return all;
  const list = text.split(',').filter((x) => x !== '');
  for (const x of list) if (!all.includes(x)) throw new Error(`unknown ${what} "${x}"`);
  return list;
};

const CONFIG = {
  quick: opts.quick,
  systems: pick(opts.systems, SYSTEMS, 'system'),
  payloads: pick(opts.payloads, Object.keys(PAYLOADS), 'payload'),
  repeat: Number(opts.repeat ?? (opts.quick ? 1 : 3)),
  pairs: 50,
  /** The latency phase runs once per entry: 1 pair alone, then every pair at once. */
  latencyPairs: [1, 50],
  latencyRoundTrips: opts.quick ? 1000 : 5000,
  latencyWarmupPerPair: 10,
  latencyDeadlineMs: opts.quick ? 10_000 : 30_000,
  window: 16,
  warmupMs: opts.quick ? 500 : 1000,
  measureMs: opts.quick ? 2000 : 5000,
  drainMs: 5000,
};
if (!(Number.isInteger(CONFIG.repeat) && CONFIG.repeat >= 1 && CONFIG.repeat <= 20))
  throw new Error('--repeat is a whole number from 1 to 20');
const PUNCH_ARGS = ['connect=100000', 'message=100000/1'].flatMap((r) => ['--rate-limit', r]);

const reaper = createReaper();
const clock = createLog('bench:signal');
const { log } = clock;

// ---- Punch: account, project, key, peer tokens ------------------------------------------

const api = (srv, method, path, options) => apiRequest(srv.url, method, path, options);

/**
 * An account (the operator CLI on the server's data dir, so after the server made it), a
 * project, an uploaded EdDSA key, and one peer token per client: group "bench", peer
 * "peer-N", allowed to reach every "peer-*" of "bench" (each side's policy matches the other).
 */
async function punchPeers(srv, ids) {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [PUNCH_BIN, 'account', 'create', 'bench', '--data-dir', srv.dataDir, '--json'],
    { cwd: ROOT, timeout: 20_000 },
  );
  const { key: accountKey } = JSON.parse(stdout);
  const { id: project } = await api(srv, 'POST', '/api/projects', {
    token: accountKey,
    body: { name: 'bench' },
  });
  const pair = await generateKeyPair('EdDSA', { extractable: true });
  const iat = Math.floor(Date.now() / 1000);
  // Proof of possession for the upload: a JWS by the key over {project, iat}.
  const proof = await new CompactSign(new TextEncoder().encode(JSON.stringify({ project, iat })))
    .setProtectedHeader({ alg: 'EdDSA', typ: 'punch-key-proof+jwt' })
    .sign(pair.privateKey);
  const { kid } = await api(srv, 'POST', `/api/projects/${project}/keys`, {
    token: accountKey,
    body: { publicJwk: await exportJWK(pair.publicKey), proof },
  });
  return Promise.all(
    ids.map(async (id) => ({
      id,
      token: await new SignJWT({ gid: 'bench', pid: id, ap: [{ group: 'bench', peer: 'peer-*' }] })
        .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'JWT' })
        .setAudience(project)
        .setIssuedAt(iat)
        .setExpirationTime(iat + 3600)
        .sign(pair.privateKey),
    })),
  );
}

// ---- one row: a fresh server, its clients, both phases, RSS ------------------------------

async function row(kind, payload) {
  const nodeArgs =
    opts['cpu-prof'] !== undefined
      ? ['--cpu-prof', '--cpu-prof-dir', resolve(opts['cpu-prof'])]
      : [];
  const options = { punchArgs: PUNCH_ARGS, nodeArgs, loadgen: join(ROOT, 'bench/signal-load.mjs') };
  return withServer(reaper, kind, options, async (srv, lg) => {
    const ids = Array.from({ length: 2 * CONFIG.pairs }, (_, i) => `peer-${i}`);
    const peers = kind === 'punch' ? await punchPeers(srv, ids) : ids.map((id) => ({ id }));
    const conn = await lg.call('connect', { kind, port: srv.port, peers });
    assertAlive(srv, 'connect');
    // Throughput first: its warm-up also warms the JIT of both processes for the latency runs.
    const tp = await lg.call(
      'throughput',
      {
        payload,
        window: CONFIG.window,
        warmupMs: CONFIG.warmupMs,
        measureMs: CONFIG.measureMs,
        drainMs: CONFIG.drainMs,
        serverPid: srv.pid,
      },
      CONFIG.warmupMs + CONFIG.measureMs + CONFIG.drainMs + 10_000,
    );
    assertAlive(srv, 'throughput');
    const latency = {};
    for (const pairs of CONFIG.latencyPairs) {
      latency[pairs] = await lg.call(
        'latency',
        {
          payload,
          pairs,
          roundTrips: CONFIG.latencyRoundTrips,
          warmup: CONFIG.latencyWarmupPerPair,
          deadlineMs: CONFIG.latencyDeadlineMs,
        },
        CONFIG.latencyDeadlineMs + 10_000,
      );
      assertAlive(srv, `latency (${pairs} pairs)`);
    }
    const rss = await stableRss(srv.pid, { settleMs: 300, samples: 3, gapMs: 200 });
    const r = {
      kind,
      payload,
      connectMs: conn.elapsedMs,
      throughput: tp,
      latency,
      rssKiB: rss.kib,
      serverWarnings: srv.warnings,
      serverWarnSamples: srv.warnSamples,
    };
    log(
      `${payload} ${kind}: ${fmt(tp.perSecond, 0)} msg/s, p99 ${fmt(tp.latency.p99, 2)} ms, ` +
        `server CPU ${fmt(tp.serverCpuPct, 0)}%, client CPU ${fmt(tp.clientCpuPct, 0)}%; pairs×RTT p50/p99 ` +
        CONFIG.latencyPairs
          .map((n) => `${n}×${fmt(latency[n].rtt.p50, 2)}/${fmt(latency[n].rtt.p99, 2)} ms`)
          .join(', ') +
        `; RSS ${mib(rss.kib)} MiB`,
    );
    return r;
  });
}

// ---- main ---------------------------------------------------------------------------------

async function main() {
  reaper.tmpRoot = mkdtempSync(join(os.tmpdir(), 'punch-bench-signal-'));
  if (opts['cpu-prof'] !== undefined) mkdirSync(resolve(opts['cpu-prof']), { recursive: true });
  const m = machineInfo();
  say(`# Signal relay: Punch vs PeerJS server vs bare ws${CONFIG.quick ? ' (--quick)' : ''}`);
  say();
  say(machineTable(m));
  say();

  // Runs interleave (every row once, then again) and the system order rotates, so a slow
  // patch of the machine does not land on one system's runs only.
  const results = [];
  for (let rep = 0; rep < CONFIG.repeat; rep++) {
    const order = CONFIG.systems.map((_, i) => CONFIG.systems[(i + rep) % CONFIG.systems.length]);
    for (const payload of CONFIG.payloads) {
      for (const kind of order) results.push({ rep, ...(await row(kind, payload)) });
    }
  }
  const summary = CONFIG.payloads.flatMap((payload) =>
    CONFIG.systems.map((kind) =>
      combine(
        CONFIG,
        results.filter((r) => r.kind === kind && r.payload === payload),
      ),
    ),
  );

  say(describe(CONFIG, m, PUNCH_ARGS));
  say();

  const verdicts = [];
  for (const payload of CONFIG.payloads) {
    const t = tables(CONFIG, summary, payload);
    say(
      `## ${PAYLOADS[payload].label} (${payloadBytes(payload).toLocaleString('en-US')} B payload)`,
    );
    say();
    say('Sustained throughput:');
    say();
    say(t.load);
    say();
    say('Ping-pong round trips:');
    say();
    say(t.ping);
    say();
    const v = verdict(CONFIG, t);
    if (v !== undefined) verdicts.push(`${PAYLOADS[payload].label}: ${v}`);
  }
  say(
    "Targets (issue): Punch at least PeerJS's sustained rate and p99, and within 20% of bare ws " +
      '(informational; speed is never asserted).',
  );
  for (const v of verdicts) say(`- ${v}`);
  say();

  reportFooter(clock, runNotes(CONFIG, results), opts.json, {
    machine: m,
    config: CONFIG,
    summary,
    results,
    verdicts,
  });
  // A wrong delivery means the numbers measure something else: fail the run.
  const broken = results.filter(
    (r) => r.throughput.bad + Object.values(r.latency).reduce((a, l) => a + l.bad, 0) > 0,
  );
  if (broken.length > 0)
    throw new Error(
      `wrong deliveries in ${broken.map((r) => `${r.payload} ${r.kind}`).join(', ')}`,
    );
}

await runBench('bench:signal', reaper, main);
