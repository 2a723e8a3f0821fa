// The UDP load of bench/agent.mjs, run as two worker threads of the bench process (one event
// loop each, so sending never delays a receive timestamp):
//
//   gen   sends `warmup + measure` datagrams of `size` bytes to 127.0.0.1:`port` at a fixed
//         rate, each carrying a run id, a sequence number and its send time
//         (process.hrtime.bigint(): CLOCK_MONOTONIC, the same clock in every thread and process
//         of this machine). Posts {type:'measure-start'} when the first measured datagram goes
//         out and {type:'done', …} at the end. Bounded by the count and a deadline.
//   sink  binds 127.0.0.1:`port`; main arms it with {cmd:'arm', runId, warmup, measure} before a
//         run and collects with {cmd:'collect'} → {type:'result', …} (one-way latency in ms of
//         every measured datagram received, first copy only). {cmd:'probe', runId} asks for a
//         {type:'probe-ok'} as soon as a datagram of that run id arrives.
//
// Datagram header (big-endian): 'PNCH' | runId u32 | seq u32 | sendNs u64, then zeros.
import dgram from 'node:dgram';
import { parentPort, workerData } from 'node:worker_threads';

const MAGIC = 0x504e4348; // 'PNCH'
const HEADER = 20;
const HOST = '127.0.0.1';

/**
 * @param {Buffer} buf
 * @param {number} runId
 * @param {number} seq
 * @param {bigint} ns
 */
export function encodeHeader(buf, runId, seq, ns) {
  buf.writeUInt32BE(MAGIC, 0);
  buf.writeUInt32BE(runId >>> 0, 4);
  buf.writeUInt32BE(seq >>> 0, 8);
  buf.writeBigUInt64BE(ns, 12);
}

/**
 * @param {import('node:worker_threads').MessagePort} parent
 * @param {{port: number, rateMbps: number, size: number, warmup: number, measure: number, runId: number, deadlineMs: number}} options
 */
function gen(parent, { port, rateMbps, size, warmup, measure, runId, deadlineMs }) {
  const total = warmup + measure;
  const intervalNs = BigInt(Math.round((size * 8 * 1e9) / (rateMbps * 1e6)));
  const socket = dgram.createSocket('udp4');
  let seq = 0;
  let sendErrors = 0;
  let lastError = '';
  let maxLagMs = 0;
  let startNs = 0n;
  let measureStartNs = 0n;
  const deadline = Date.now() + deadlineMs;
  /** @param {NodeJS.ErrnoException | null} err */
  const onSent = (err) => {
    if (err) {
      sendErrors++;
      lastError = err.code ?? err.message;
    }
  };
  const finish = (why) => {
    const endNs = process.hrtime.bigint();
    parent.postMessage({
      type: 'done',
      why,
      sent: seq,
      measuredSent: Math.max(0, seq - warmup),
      sendErrors,
      lastError,
      maxLagMs,
      startNs,
      measureStartNs,
      endNs,
    });
    // Let the last sends complete before closing (the worker then exits).
    setTimeout(() => socket.close(), 50);
  };
  const tick = () => {
    const now = process.hrtime.bigint();
    // Every datagram due by now (bounded: at most 1,000 in one go).
    const due = Number((now - startNs) / intervalNs) + 1;
    const lag = Number(now - startNs - BigInt(seq) * intervalNs) / 1e6;
    if (seq < due && lag > maxLagMs) maxLagMs = lag;
    let burst = 0;
    while (seq < due && seq < total && burst < 1000) {
      if (seq === warmup) {
        measureStartNs = process.hrtime.bigint();
        parent.postMessage({ type: 'measure-start', ns: measureStartNs });
      }
      const buf = Buffer.alloc(size);
      encodeHeader(buf, runId, seq, process.hrtime.bigint());
      socket.send(buf, onSent);
      seq++;
      burst++;
    }
    if (seq >= total) finish('complete');
    else if (Date.now() > deadline) finish('deadline');
    else setTimeout(tick, 1);
  };
  socket.on('error', (/** @type {NodeJS.ErrnoException} */ err) => {
    sendErrors++;
    lastError = err.code ?? err.message;
  });
  socket.connect(port, HOST, () => {
    startNs = process.hrtime.bigint();
    tick();
  });
}

/**
 * @param {import('node:worker_threads').MessagePort} parent
 * @param {{port: number}} options
 */
function sink(parent, { port }) {
  const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
  let run;
  let probeRunId;
  /** Probes keep coming for a moment after the first got through: not stale. */
  const probeIds = new Set();
  const fresh = (runId, warmup, measure) => ({
    runId,
    warmup,
    measure,
    seen: new Uint8Array(measure),
    latMs: new Float64Array(measure),
    received: 0,
    bytes: 0,
    duplicates: 0,
    warmupReceived: 0,
    beyond: 0,
    reordered: 0,
    lastSeq: -1,
    firstArrNs: 0n,
    lastArrNs: 0n,
  });
  let stale = 0;
  let foreign = 0;
  socket.on('message', (msg) => {
    const now = process.hrtime.bigint();
    if (msg.length < HEADER || msg.readUInt32BE(0) !== MAGIC) {
      foreign++;
      return;
    }
    const runId = msg.readUInt32BE(4);
    if (probeIds.has(runId)) {
      if (runId === probeRunId) {
        probeRunId = undefined;
        parent.postMessage({ type: 'probe-ok' });
      }
      return;
    }
    const r = run;
    if (r === undefined || runId !== r.runId) {
      stale++;
      return;
    }
    const seq = msg.readUInt32BE(8);
    if (seq < r.lastSeq) r.reordered++;
    else r.lastSeq = seq;
    if (seq < r.warmup) {
      r.warmupReceived++;
      return;
    }
    const i = seq - r.warmup;
    if (i >= r.measure) {
      r.beyond++;
      return;
    }
    if (r.seen[i] === 1) {
      r.duplicates++;
      return;
    }
    r.seen[i] = 1;
    r.latMs[r.received] = Number(now - msg.readBigUInt64BE(12)) / 1e6;
    r.received++;
    r.bytes += msg.length;
    if (r.firstArrNs === 0n) r.firstArrNs = now;
    r.lastArrNs = now;
  });
  socket.on('error', (err) => {
    parent.postMessage({ type: 'error', message: err.message });
  });
  parent.on('message', (m) => {
    if (m.cmd === 'arm') {
      run = fresh(m.runId, m.warmup, m.measure);
    } else if (m.cmd === 'probe') {
      probeRunId = m.runId;
      probeIds.add(m.runId);
    } else if (m.cmd === 'collect') {
      const r = run;
      run = undefined;
      const lat = r.latMs.slice(0, r.received);
      parent.postMessage(
        {
          type: 'result',
          received: r.received,
          bytes: r.bytes,
          duplicates: r.duplicates,
          warmupReceived: r.warmupReceived,
          beyond: r.beyond,
          reordered: r.reordered,
          arrivalSpanNs: r.lastArrNs - r.firstArrNs,
          stale,
          foreign,
          latMs: lat,
        },
        [lat.buffer],
      );
    } else if (m.cmd === 'close') {
      socket.close(() => parent.close());
    }
  });
  socket.bind(port, HOST, () => parent.postMessage({ type: 'ready' }));
}

if (parentPort !== null && workerData?.role === 'gen') gen(parentPort, workerData);
else if (parentPort !== null && workerData?.role === 'sink') sink(parentPort, workerData);
