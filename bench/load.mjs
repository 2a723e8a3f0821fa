// The load generator: a separate process (forked by bench/run.mjs, talking over IPC) so that
// the client sockets, their memory and their CPU never share a process with the server being
// measured. Every loop here is bounded by a count AND a deadline.
//
// Commands (process.send({id, cmd, args}) → {id, ok, result | error}):
//   create   {port, count, concurrency, body, collect, deadlineMs}   POST /api/session, keep-alive
//   connect  {kind, port, n, concurrency, sessions?, idPrefix?, timeoutMs, deadlineMs}
//   count    {}                                                      sockets still open
//   closeAll {}                                                      terminate every socket
//   pairing  {port, sessions, wave, warmup, timeoutMs, deadlineMs, retransmitMs, maxRetransmits}
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { encodeBindingRequest } from '../packages/core/dist/index.js';
import { addError, parseJson, pool, serveIpc, sleep, summarize, whenReady } from './lib.mjs';

const HOST = '127.0.0.1';
/**
 * Sockets opened by `connect`, kept open until `closeAll`.
 * @type {WebSocket[]}
 */
let held = [];
/**
 * UDP sockets and WebSockets of a pairing run.
 * @type {(WebSocket | dgram.Socket)[]}
 */
let pairingSockets = [];

// ---- create ------------------------------------------------------------------------------

/**
 * One POST; `sockets` collects the TCP connections the agent used. Never rejects.
 * @param {http.Agent} agent
 * @param {Set<import('node:net').Socket>} sockets
 * @param {number} port
 * @param {string} path
 * @param {unknown} payload
 * @returns {Promise<{status: number, text?: string, error?: string}>}
 */
function post(agent, sockets, port, path, payload) {
  return new Promise((resolve) => {
    const body = Buffer.from(JSON.stringify(payload));
    const req = http.request(
      {
        agent,
        host: HOST,
        port,
        path,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': body.length },
        timeout: 10_000,
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', (e) => resolve({ status: 0, error: e.message }));
      },
    );
    req.on('socket', (s) => sockets.add(s));
    req.on('timeout', () => req.destroy(new Error('request timeout')));
    req.on('error', (e) => resolve({ status: 0, error: e.message }));
    req.end(body);
  });
}

async function create({
  port,
  count,
  concurrency,
  body = {},
  collect = false,
  deadlineMs = 60_000,
}) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  /** @type {Set<import('node:net').Socket>} */
  const sockets = new Set();
  /** @type {Record<number, number>} */
  const statuses = {};
  /** @type {Record<string, number>} */
  const errors = {};
  /** @type {number[]} */
  const latencies = [];
  /** @type {{session: string, token: string}[]} */
  const sessions = [];
  const t0 = performance.now();
  const started = await pool(count, concurrency, Date.now() + deadlineMs, async (i) => {
    const s = performance.now();
    const r = await post(agent, sockets, port, '/api/session', body);
    latencies.push(performance.now() - s);
    statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    if (r.status !== 201) {
      addError(errors, r.error ?? `${r.status} ${r.text?.slice(0, 100)}`);
      return;
    }
    if (collect) {
      const j = JSON.parse(r.text ?? '');
      sessions[i] = { session: j.session, token: j.token };
    }
  });
  const elapsedMs = performance.now() - t0;
  const tcpConnections = sockets.size;
  agent.destroy();
  return {
    started,
    ok: statuses[201] ?? 0,
    statuses,
    errors,
    elapsedMs,
    tcpConnections,
    latency: summarize(latencies),
    sessions: collect ? sessions.filter(Boolean) : undefined,
  };
}

// ---- connect (idle connections) -----------------------------------------------------------

const counters = { closedAfterReady: 0, messagesAfterReady: 0 };

/** Opens one WebSocket and waits for `ready` ('open', or the `type` of the first message). */
async function openOne(url, options, ready, timeoutMs) {
  const ws = new WebSocket(url, options);
  const r = await whenReady(ws, ready, timeoutMs, () => {
    ws.on('message', () => counters.messagesAfterReady++);
    ws.on('close', () => counters.closedAfterReady++);
  });
  return { ...r, ws };
}

function target(kind, port, i, sessions, idPrefix) {
  const base = { perMessageDeflate: false, handshakeTimeout: 10_000 };
  switch (kind) {
    case 'punch': {
      const s = sessions[i % sessions.length];
      return {
        url: `ws://${HOST}:${port}/api/session/${s.session}/ws`,
        options: { ...base, headers: { Authorization: `Bearer ${s.token}` } },
        ready: 'welcome',
      };
    }
    case 'peerjs':
      return {
        url: `ws://${HOST}:${port}/peerjs?key=peerjs&id=${idPrefix}${i}&token=${randomBytes(6).toString('hex')}`,
        options: base,
        ready: 'OPEN',
      };
    case 'bare':
      return { url: `ws://${HOST}:${port}/`, options: base, ready: 'open' };
    default:
      throw new Error(`unknown kind ${kind}`);
  }
}

async function connect({
  kind,
  port,
  n,
  concurrency = 200,
  sessions = [],
  idPrefix = 'c',
  timeoutMs = 10_000,
  deadlineMs = 90_000,
}) {
  const errors = {};
  let opened = 0;
  const t0 = performance.now();
  const started = await pool(n, concurrency, Date.now() + deadlineMs, async (i) => {
    const t = target(kind, port, i, sessions, idPrefix);
    const r = await openOne(t.url, t.options, t.ready, timeoutMs);
    if (r.ok) {
      opened++;
      held.push(r.ws);
    } else addError(errors, r.error);
  });
  return { started, opened, failed: started - opened, errors, elapsedMs: performance.now() - t0 };
}

function count() {
  return {
    held: held.length,
    open: held.filter((ws) => ws.readyState === WebSocket.OPEN).length,
    ...counters,
  };
}

async function closeAll() {
  const all = held;
  held = [];
  for (const ws of all) ws.terminate();
  for (const s of pairingSockets) {
    try {
      if (s instanceof WebSocket) s.terminate();
      else s.close();
    } catch {
      // already closed
    }
  }
  pairingSockets = [];
  await sleep(200);
  return { closed: all.length };
}

// ---- pairing -----------------------------------------------------------------------------

/**
 * One side of a session: a WebSocket registered on "cam-1" and its own UDP socket, connected
 * to the STUN address from `registered.bind`. Resolves when both are ready.
 */
function setupPeer(port, s, role, timeoutMs) {
  return new Promise((resolve) => {
    /** @type {{role: string, session: object, peerAt: number | undefined, error: string | undefined, ws?: WebSocket, udp?: dgram.Socket, req?: Buffer}} */
    const peer = { role, session: s, peerAt: undefined, error: undefined };
    const ws = new WebSocket(`ws://${HOST}:${port}/api/session/${s.session}/ws`, {
      perMessageDeflate: false,
      handshakeTimeout: 10_000,
      headers: { Authorization: `Bearer ${s.token}` },
    });
    pairingSockets.push(ws);
    peer.ws = ws;
    let settled = false;
    const done = (ok, error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ok, peer, error });
    };
    const timer = setTimeout(() => done(false, `not registered within ${timeoutMs} ms`), timeoutMs);
    ws.on('error', (e) => done(false, e.message));
    ws.on('close', (code) => done(false, `closed ${code}`));
    ws.on('message', (data) => {
      const m = parseJson(data.toString());
      if (m === undefined) return;
      if (m.type === 'peer') {
        if (peer.peerAt === undefined) {
          peer.peerAt = performance.now();
          s.onPeer?.();
        }
      } else if (m.type === 'welcome') {
        ws.send(JSON.stringify({ type: 'register', stream: 'cam-1', role }));
      } else if (m.type === 'registered') {
        const udp = dgram.createSocket('udp4');
        pairingSockets.push(udp);
        udp.on('error', (e) => done(false, `udp: ${e.message}`));
        udp.on('message', () => {}); // the Binding success answers; not needed here
        udp.bind(0, HOST, () => {
          udp.connect(m.bind.port, m.bind.host, () => {
            peer.udp = udp;
            peer.req = Buffer.from(encodeBindingRequest(randomBytes(12), m.bind.username));
            done(true);
          });
        });
      } else if (m.type === 'error') {
        peer.error = `${m.code}: ${m.message}`;
        done(false, peer.error);
      }
    });
  });
}

async function pairing({
  port,
  sessions,
  wave,
  warmup = 0,
  setupConcurrency = 128,
  timeoutMs = 10_000,
  deadlineMs = 120_000,
  retransmitMs = 250,
  maxRetransmits = 6,
}) {
  const deadline = Date.now() + deadlineMs;
  const errors = {};
  const all = sessions.map((s) => ({ ...s }));
  // Set up every session's two sides (bounded concurrency), then pair.
  const tSetup = performance.now();
  let setupFailed = 0;
  await pool(all.length * 2, setupConcurrency, deadline, async (k) => {
    const s = all[k >> 1];
    const role = k % 2 === 0 ? 'sender' : 'receiver';
    const r = await setupPeer(port, s, role, timeoutMs);
    if (r.ok) s[role] = r.peer;
    else {
      setupFailed++;
      addError(errors, r.error);
    }
  });
  const setupMs = performance.now() - tSetup;
  const ready = all.filter((s) => s.sender !== undefined && s.receiver !== undefined);
  const warm = ready.slice(0, warmup);
  const measured = ready.slice(warmup);

  /**
   * @param {any[]} batch
   * @returns {Promise<void>}
   */
  const runBatch = (batch) =>
    new Promise((resolve) => {
      let pending = batch.length;
      const finishOne = (s) => {
        if (s.finished) return;
        s.finished = true;
        if (--pending === 0) {
          clearInterval(retx);
          resolve();
        }
      };
      for (const s of batch) {
        s.retransmits = 0;
        s.onPeer = () => {
          if (s.sender.peerAt !== undefined && s.receiver.peerAt !== undefined) {
            s.latencyMs = Math.max(s.sender.peerAt, s.receiver.peerAt) - s.t0;
            finishOne(s);
          }
        };
      }
      // The measured moment: sender's STUN, then receiver's STUN, t0 = right after the second
      // datagram is handed to the kernel (the sockets are bound and connected beforehand, so
      // send() needs no lookup).
      for (const s of batch) {
        s.sender.udp.send(s.sender.req);
        s.receiver.udp.send(s.receiver.req);
        s.t0 = performance.now();
      }
      // UDP may drop (a burst overflows the server's receive buffer): resend like a STUN
      // client would (RFC 8489: RTO doubling), with jitter so that retransmits do not arrive
      // as one burst again. Bounded in count (maxRetransmits) and time (deadline).
      for (const s of batch) {
        s.rto = retransmitMs;
        s.nextAt = s.t0 + s.rto * (1 + Math.random() * 0.5);
      }
      const retx = setInterval(() => {
        const now = performance.now();
        for (const s of batch) {
          if (s.finished || now < s.nextAt) continue;
          if (s.retransmits >= maxRetransmits || Date.now() > deadline) {
            s.failed = true;
            finishOne(s);
            continue;
          }
          s.retransmits++;
          s.sender.udp.send(s.sender.req);
          s.receiver.udp.send(s.receiver.req);
          s.rto = Math.min(s.rto * 2, 2000);
          s.nextAt = now + s.rto * (1 + Math.random() * 0.5);
        }
      }, 25);
      if (pending === 0) {
        clearInterval(retx);
        resolve();
      }
    });

  // Warm-up sessions pair first (JIT), then their sockets close before the measurement.
  if (warm.length > 0) {
    await runBatch(warm);
    for (const s of warm) {
      s.sender.ws.terminate();
      s.receiver.ws.terminate();
      s.sender.udp.close();
      s.receiver.udp.close();
    }
    await sleep(300);
  }

  const size = wave > 0 ? wave : measured.length;
  // Tell the parent when the measured phase starts and ends (it reads the server's CPU time
  // then), and measure our own CPU time over the same phase.
  await new Promise((r) =>
    process.send?.(
      { event: 'phase', phase: 'pair-start', hrtimeUs: Number(process.hrtime.bigint() / 1000n) },
      r,
    ),
  );
  await sleep(20);
  const cpu0 = process.cpuUsage();
  const tPair = performance.now();
  let waves = 0;
  for (let i = 0; i < measured.length && Date.now() < deadline; i += size) {
    await runBatch(measured.slice(i, i + size));
    waves++;
  }
  const pairMs = performance.now() - tPair;
  const cpu = process.cpuUsage(cpu0);
  process.send?.({
    event: 'phase',
    phase: 'pair-end',
    hrtimeUs: Number(process.hrtime.bigint() / 1000n),
  });
  const done = measured.filter((s) => s.latencyMs !== undefined);
  return {
    sessions: sessions.length,
    setupFailed,
    setupMs,
    measured: measured.length,
    paired: done.length,
    failed: measured.length - done.length,
    waves,
    waveSize: size,
    pairMs,
    loadgenCpuMs: (cpu.user + cpu.system) / 1000,
    retransmits: measured.reduce((a, s) => a + (s.retransmits ?? 0), 0),
    sessionsRetransmitted: measured.filter((s) => (s.retransmits ?? 0) > 0).length,
    latency: summarize(done.map((s) => s.latencyMs)),
    errors,
  };
}

// ---- IPC ---------------------------------------------------------------------------------

serveIpc({ create, connect, count, closeAll, pairing });
