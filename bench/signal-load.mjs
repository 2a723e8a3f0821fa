// The signal-relay load generator: a separate process (forked by bench/signal.mjs, talking over
// IPC) holding every client WebSocket, so that client work never runs in the server's process.
// Clients come in pairs (2p, 2p+1) that only talk to each other; both ends of a pair live here,
// so one monotonic clock stamps the send and the delivery. Every loop is bounded by a count
// AND a deadline.
//
// Commands (process.send({id, cmd, args}) → {id, ok, result | error}):
//   connect    {kind, port, peers: [{id, token?}], concurrency, timeoutMs, deadlineMs}
//   latency    {payload, pairs, roundTrips, warmup, deadlineMs}          sequential ping-pong
//   throughput {payload, window, warmupMs, measureMs, drainMs, serverPid} closed-loop windows
//   closeAll   {}
//
// The hot path never JSON.parses a whole frame: the stamps sit first in the payload
// (`"payload":{"t":T,"s":S,…`) and are read from the raw bytes; every 32nd delivery (and every
// frame without stamps) is parsed in full and checked: sender, and payload byte for byte.
import WebSocket from 'ws';
import {
  addError,
  cpuSeconds,
  machineCpuSeconds,
  parseJson,
  percentile,
  pool,
  serveIpc,
  whenReady,
} from './lib.mjs';
import { PAYLOADS, payloadText } from './signal-payloads.mjs';

const HOST = '127.0.0.1';
const STAMP = Buffer.from('"payload":{"t":');
const SEQ = Buffer.from(',"s":');
/** Every this many deliveries per receiver, one is parsed and checked in full. */
const CHECK_EVERY = 32;
/** Most latency samples kept per run (Float64Array, 8 bytes each). */
const MAX_SAMPLES = 4_000_000;

/** @type {Client[]} */
let clients = [];
/** The relay the clients talk to: 'punch', 'peerjs' or 'bare-relay' (set by `connect`). */
let kind = '';
/**
 * The current phase's handler of a delivery to `receiver` stamped `t` and `s`.
 * @type {(receiver: Client, t: number, s: number) => void}
 */
let onPayload = () => {};
const stats = {
  checked: 0,
  bad: 0,
  /** @type {string[]} */
  badSamples: [],
  /** @type {Record<string, number>} */
  unexpected: {},
};

/** Nanoseconds since this process started: small enough to stay exact as a JSON number. */
const ORIGIN = process.hrtime.bigint();
const now = () => Number(process.hrtime.bigint() - ORIGIN);

// ---- wire shapes per relay --------------------------------------------------------------

/** The frame a client sends to relay `payload` (JSON text) to peer `to`. */
const FRAME = {
  punch: (to, p) => `{"type":"signal","to":{"group":"bench","peer":"${to}"},"payload":${p}}`,
  peerjs: (to, p) => `{"type":"OFFER","dst":"${to}","payload":${p}}`,
  'bare-relay': (to, p) => `{"to":"${to}","payload":${p}}`,
};

/** The sender a relayed frame names, or undefined when it is not a relayed payload. */
const SENDER = {
  punch: (m) =>
    m.type === 'signal' && m.from?.group === 'bench' && typeof m.from.peer === 'string'
      ? m.from.peer
      : undefined,
  peerjs: (m) => (m.type === 'OFFER' && typeof m.src === 'string' ? m.src : undefined),
  'bare-relay': (m) => (typeof m.from === 'string' ? m.from : undefined),
};

/**
 * @param {number} port
 * @param {{id: string, token?: string}} peer
 * @returns {{url: string, protocols: string[], options: WebSocket.ClientOptions, ready: string}}
 */
function target(port, peer) {
  const base = { perMessageDeflate: false, handshakeTimeout: 10_000 };
  switch (kind) {
    case 'punch':
      return {
        url: `ws://${HOST}:${port}/api/signal`,
        protocols: ['punch.v1', `punch.token.${peer.token}`],
        options: base,
        ready: 'welcome',
      };
    case 'peerjs':
      return {
        url: `ws://${HOST}:${port}/peerjs?key=peerjs&id=${peer.id}&token=${peer.id}-t`,
        protocols: [],
        options: base,
        ready: 'OPEN',
      };
    case 'bare-relay':
      return {
        url: `ws://${HOST}:${port}/?id=${peer.id}`,
        protocols: [],
        options: base,
        ready: 'open',
      };
    default:
      throw new Error(`unknown kind ${kind}`);
  }
}

// ---- clients ------------------------------------------------------------------------------

/**
 * @typedef {object} Client
 * @property {number} index
 * @property {string} id
 * @property {WebSocket} ws
 * @property {import('node:net').Socket | undefined} socket  the TCP socket under `ws`
 * @property {boolean} corked
 * @property {number} received  payload deliveries to this client (for CHECK_EVERY)
 * @property {number} inflight  sent by this client, not yet delivered (throughput)
 * @property {number} seq
 * @property {number} done      completed round trips (latency, side A)
 */

/** Reads the unsigned integer at `buf[i…]`; returns [value, index after it]. */
function readUint(buf, i) {
  let v = 0;
  let c = buf[i];
  while (c >= 48 && c <= 57) {
    v = v * 10 + (c - 48);
    c = buf[++i];
  }
  return [v, i];
}

function check(receiver, text, t, s) {
  stats.checked++;
  const m = parseJson(text);
  const partner = clients[receiver.index ^ 1];
  const from = m === undefined ? undefined : SENDER[kind](m);
  const want = payloadText(bodyJson, t, s);
  const got = m?.payload === undefined ? undefined : JSON.stringify(m.payload);
  if (from !== partner.id || got !== want) {
    stats.bad++;
    if (stats.badSamples.length < 3) stats.badSamples.push(text.slice(0, 300));
  }
}

function onFrame(client, data) {
  const k = data.indexOf(STAMP);
  if (k === -1) {
    // Not a relayed payload: an error, a PeerJS EXPIRE, …: counted by its type and code.
    const m = parseJson(data.toString()) ?? { type: 'non-JSON' };
    addError(stats.unexpected, `${m.type}${m.code === undefined ? '' : ` ${m.code}`}`);
    return;
  }
  const [t, i] = readUint(data, k + STAMP.length);
  const s = data.indexOf(SEQ, i) === i ? readUint(data, i + SEQ.length)[0] : -1;
  if (++client.received % CHECK_EVERY === 0) check(client, data.toString(), t, s);
  onPayload(client, t, s);
}

/** Opens one WebSocket and waits until the relay says it is registered. */
async function openOne(port, peer, index, timeoutMs) {
  const t = target(port, peer);
  const ws = new WebSocket(t.url, t.protocols, t.options);
  /** @type {Client} */
  const client = {
    index,
    id: peer.id,
    ws,
    socket: undefined,
    corked: false,
    received: 0,
    inflight: 0,
    seq: 0,
    done: 0,
  };
  // The TCP socket under the WebSocket, to cork it (see `send`).
  ws.once('upgrade', (res) => {
    client.socket = res.socket;
  });
  const r = await whenReady(ws, t.ready, timeoutMs, () => {
    ws.on('message', (data) => {
      onFrame(client, data);
    });
    ws.on('close', (code) => {
      addError(stats.unexpected, `closed ${code}`);
    });
  });
  return { ...r, client };
}

async function connect({
  kind: k,
  port,
  peers,
  concurrency = 20,
  timeoutMs = 10_000,
  deadlineMs = 30_000,
}) {
  if (peers.length % 2 !== 0) throw new Error('peers come in pairs');
  kind = k;
  clients = new Array(peers.length);
  const errors = {};
  let opened = 0;
  const t0 = performance.now();
  await pool(peers.length, concurrency, Date.now() + deadlineMs, async (i) => {
    const r = await openOne(port, peers[i], i, timeoutMs);
    if (r.ok) {
      opened++;
      clients[i] = r.client;
    } else addError(errors, r.error);
  });
  if (opened !== peers.length) {
    throw new Error(`${opened}/${peers.length} clients connected: ${JSON.stringify(errors)}`);
  }
  return { opened, elapsedMs: performance.now() - t0 };
}

// ---- phases -------------------------------------------------------------------------------

let bodyJson = '';
/**
 * frameTo[sender](t, s): the JSON text `sender` sends to its partner.
 * @type {((t: number, s: number) => string)[]}
 */
let frameTo = [];

function preparePayload(name) {
  const p = PAYLOADS[name];
  if (p === undefined) throw new Error(`unknown payload ${name}`);
  bodyJson = JSON.stringify(p.body);
  const build = FRAME[kind];
  frameTo = clients.map((c) => {
    const to = clients[c.index ^ 1].id;
    return (t, s) => build(to, payloadText(bodyJson, t, s));
  });
}

const uncork = (c) => {
  c.corked = false;
  c.socket.uncork();
};

/**
 * Sends one frame. The frames a client sends in one turn of the event loop (a burst of
 * deliveries releases a burst of sends) leave in one write: on loopback each write() costs
 * the sending process the whole TCP path, and the clients must stay cheaper than the relays.
 */
const send = (c, t, s) => {
  if (!c.corked) {
    c.corked = true;
    c.socket.cork();
    process.nextTick(uncork, c);
  }
  c.ws.send(frameTo[c.index](t, s));
};

function resetStats() {
  stats.checked = 0;
  stats.bad = 0;
  stats.badSamples = [];
  stats.unexpected = {};
}

function summarizeNs(samples, n) {
  const sorted = samples.subarray(0, n).sort();
  const ms = (x) => x / 1e6;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i];
  return {
    count: n,
    mean: n === 0 ? NaN : ms(sum / n),
    p50: ms(percentile(sorted, 50)),
    p90: ms(percentile(sorted, 90)),
    p99: ms(percentile(sorted, 99)),
    max: n === 0 ? NaN : ms(sorted[n - 1]),
  };
}

/**
 * `pairs` pairs at once, each doing round trips one after another: A sends the payload to B,
 * B sends a payload of the same size back, A records the round trip. `warmup` round trips per
 * pair first, not recorded.
 */
function latency({ payload, pairs, roundTrips, warmup = 5, deadlineMs = 30_000 }) {
  preparePayload(payload);
  resetStats();
  const nPairs = Math.min(pairs, clients.length / 2);
  const perPair = Math.ceil(roundTrips / nPairs);
  const samples = new Float64Array(Math.min(nPairs * perPair, MAX_SAMPLES));
  let n = 0;
  let finished = 0;
  const deadline = now() + deadlineMs * 1e6;
  return new Promise((resolve) => {
    let timer;
    const end = (timedOut) => {
      clearTimeout(timer);
      onPayload = () => {};
      resolve({
        pairs: nPairs,
        requested: nPairs * perPair,
        timedOut,
        rtt: summarizeNs(samples, n),
        checked: stats.checked,
        bad: stats.bad,
        badSamples: stats.badSamples,
        unexpected: stats.unexpected,
      });
    };
    onPayload = (c, t, s) => {
      const a = (c.index & 1) === 0;
      if (!a) {
        send(c, t, s); // B answers with the same stamps
        return;
      }
      const at = now();
      if (c.done >= warmup && n < samples.length) samples[n++] = at - t;
      c.done++;
      if (c.done < warmup + perPair && at < deadline) send(c, now(), c.done);
      else if (++finished === nPairs) end(at >= deadline);
    };
    timer = setTimeout(() => end(true), deadlineMs + 2000);
    for (let p = 0; p < nPairs; p++) {
      const a = clients[2 * p];
      a.done = 0;
      send(a, now(), 0);
    }
  });
}

/**
 * Every pair keeps `window` messages in flight, half each way: a delivery lets its sender send
 * the next one. After `warmupMs` the delivery count, the latency samples and both processes'
 * CPU clocks start; after `measureMs` more they stop, sending stops, and what is in flight
 * drains (at most `drainMs`).
 */
function throughput({
  payload,
  window = 16,
  warmupMs = 1000,
  measureMs = 5000,
  drainMs = 5000,
  serverPid,
}) {
  preparePayload(payload);
  resetStats();
  const perSender = Math.max(1, Math.floor(window / 2));
  const samples = new Float64Array(MAX_SAMPLES);
  let n = 0;
  let delivered = 0;
  let deliveredTotal = 0;
  let sent = 0;
  let running = true;
  let measuring = false;
  const win = {};
  for (const c of clients) {
    c.inflight = 0;
    c.seq = 0;
  }
  const pump = (c) => {
    while (running && c.inflight < perSender) {
      c.inflight++;
      sent++;
      send(c, now(), c.seq++);
    }
  };
  return new Promise((resolve) => {
    let drainTimer;
    let poll;
    const finish = (drained) => {
      clearTimeout(drainTimer);
      clearInterval(poll);
      onPayload = () => {};
      const seconds = (win.end - win.start) / 1e9;
      resolve({
        senders: clients.length,
        window: perSender * 2,
        measuredSeconds: seconds,
        delivered,
        perSecond: delivered / seconds,
        latency: summarizeNs(samples, n),
        sent,
        deliveredTotal,
        lost: sent - deliveredTotal,
        drained,
        clientCpuPct: (100 * win.clientCpuUs) / 1e6 / seconds,
        serverCpuPct: (100 * win.serverCpuS) / seconds,
        serverCpuUsPerMsg: delivered > 0 ? (win.serverCpuS * 1e6) / delivered : NaN,
        // Everything else the machine ran meanwhile (another job, the kernel's own threads),
        // in % of one core, and what the hypervisor gave other guests.
        otherCpuPct:
          (100 * (win.machineBusyS - win.stealS - win.serverCpuS - win.clientCpuUs / 1e6)) /
          seconds,
        stealPct: (100 * win.stealS) / seconds,
        checked: stats.checked,
        bad: stats.bad,
        badSamples: stats.badSamples,
        unexpected: stats.unexpected,
      });
    };
    onPayload = (c, t) => {
      deliveredTotal++;
      if (measuring) {
        delivered++;
        if (n < samples.length) samples[n++] = now() - t;
      }
      const sender = clients[c.index ^ 1];
      sender.inflight--;
      pump(sender);
    };
    setTimeout(() => {
      win.start = now();
      win.cpu0 = process.cpuUsage();
      win.server0 = cpuSeconds(serverPid);
      win.machine0 = machineCpuSeconds();
      measuring = true;
      setTimeout(() => {
        measuring = false;
        win.end = now();
        win.clientCpuUs = ((u) => u.user + u.system)(process.cpuUsage(win.cpu0));
        win.serverCpuS = cpuSeconds(serverPid) - win.server0;
        const m1 = machineCpuSeconds();
        win.machineBusyS = m1.busy - win.machine0.busy;
        win.stealS = m1.steal - win.machine0.steal;
        running = false;
        const until = Date.now() + drainMs;
        poll = setInterval(() => {
          if (deliveredTotal === sent) finish(true);
          else if (Date.now() >= until) finish(false);
        }, 20);
        drainTimer = setTimeout(() => finish(false), drainMs + 1000);
      }, measureMs);
    }, warmupMs);
    for (const c of clients) pump(c);
  });
}

function closeAll() {
  for (const c of clients) c?.ws.terminate();
  const n = clients.length;
  clients = [];
  return { closed: n };
}

serveIpc({ connect, latency, throughput, closeAll });
