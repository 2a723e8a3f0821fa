// The sending side of bench/relay.mjs, run as a worker thread (one event loop per sender, so
// pacing never waits behind the receiving sink or the main thread):
//
//   via a relay   a minimal TURN client over UDP (RFC 8656, @punch/core's codec): the 401
//                 challenge, an authenticated Allocate, a ChannelBind to the peer (the UDP sink
//                 of bench/udp-flow.mjs), then ChannelData datagrams carrying the payloads.
//   direct        the same payloads sent straight to the peer: the no-relay baseline.
//
// Each payload is `size` bytes with bench/udp-flow.mjs's header (run id, sequence number,
// CLOCK_MONOTONIC send time), so the sink measures loss and one-way latency for both. Main
// posts {cmd:'run', …}; the sender paces `warmup + measure` payloads at `rateMbps` (every
// payload due by now, per 1 ms timer tick, at most `BURST_MAX` a tick), bounded by the count
// and a deadline, posts {type:'measure-start'} as the first measured payload goes out, and
// answers {type:'done', …} with what it achieved. {cmd:'close'} ends it.
// Sequence numbers are `offset + i * stride`, so several senders can feed one sink run.
import dgram from 'node:dgram';
import { parentPort, workerData } from 'node:worker_threads';
import {
  STUN_METHOD,
  encodeMessage,
  encodeSignedMessage,
  findAttribute,
  longTermKey,
  parseMessage,
} from '../packages/core/dist/index.js';
import { encodeHeader } from './udp-flow.mjs';

/** @typedef {import('../packages/core/dist/index.js').ParsedStunMessage} ParsedStunMessage */
/** @typedef {import('../packages/core/dist/index.js').StunMessage} StunMessage */
/** @typedef {import('../packages/core/dist/index.js').TurnAttribute} TurnAttribute */

/** ChannelData header: channel number (u16) and payload length (u16), RFC 8656 §12.4. */
const CD_HEADER = 4;
/** Payloads sent in one timer tick at most: a sender far behind catches up in bounded bursts. */
const BURST_MAX = 1000;
/** How long one TURN request waits for its answer, and how often it is sent (UDP may drop it). */
const REQUEST_TIMEOUT_MS = 5000;
const REQUEST_RETRY_MS = 500;
/** Before a run, the allocation and channel are renewed when the last renewal is this old. */
const RENEW_MS = 120_000;

/**
 * What the worker is given.
 * @typedef {object} FlowOptions
 * @property {{host: string, port: number} | undefined} relay  undefined: direct to the peer
 * @property {{host: string, port: number}} peer
 * @property {string} [username]  TURN REST username
 * @property {string} [password]
 * @property {number} [channel]  0x4000..0x4FFF
 */

/**
 * One STUN request on the (connected) socket, retried every REQUEST_RETRY_MS until answered or
 * REQUEST_TIMEOUT_MS; resolves with the answer of the same transaction id.
 * @param {dgram.Socket} socket
 * @param {Map<string, (m: ParsedStunMessage) => void>} waiting
 * @param {StunMessage} message
 * @param {Uint8Array | undefined} key  long-term key: signs the request when given
 * @returns {Promise<ParsedStunMessage>}
 */
async function request(socket, waiting, message, key) {
  const bytes =
    key === undefined
      ? encodeMessage(message, { fingerprint: true })
      : await encodeSignedMessage(message, key, { fingerprint: true });
  const id = Buffer.from(message.transactionId).toString('hex');
  return new Promise((resolve, reject) => {
    const send = () => socket.send(bytes);
    const retry = setInterval(send, REQUEST_RETRY_MS);
    const timer = setTimeout(() => {
      clearInterval(retry);
      waiting.delete(id);
      reject(new Error(`TURN: no answer to method 0x${message.method.toString(16)}`));
    }, REQUEST_TIMEOUT_MS);
    waiting.set(id, (m) => {
      clearInterval(retry);
      clearTimeout(timer);
      waiting.delete(id);
      resolve(m);
    });
    send();
  });
}

/**
 * Throws unless `m` is a success, with the error code and reason when there is one.
 * @param {ParsedStunMessage} m
 * @param {string} what
 */
function expectSuccess(m, what) {
  if (m.class === 'success') return;
  const e = findAttribute(m.attributes, 'ERROR-CODE');
  throw new Error(`TURN ${what}: ${e === undefined ? m.class : `${e.code} ${e.reason}`}`);
}

/**
 * Allocates on the relay the socket is connected to and binds `channel` to `peer`; resolves
 * with the relayed address and `refresh()`, which renews the allocation, the channel and its
 * permission (they expire after 10, 10 and 5 minutes, RFC 8656 §7, §9, §12).
 * @param {dgram.Socket} socket
 * @param {FlowOptions} o
 */
async function allocateAndBind(socket, o) {
  /** @type {Map<string, (m: ParsedStunMessage) => void>} */
  const waiting = new Map();
  socket.on('message', (msg) => {
    const parsed = parseMessage(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength));
    if (!parsed.ok || parsed.message.class === 'indication') return; // not an answer
    waiting.get(Buffer.from(parsed.message.transactionId).toString('hex'))?.(parsed.message);
  });
  /** @type {TurnAttribute} */
  const transport = { type: 'REQUESTED-TRANSPORT', protocol: 17 };
  const challenge = await request(
    socket,
    waiting,
    {
      method: STUN_METHOD.allocate,
      class: 'request',
      transactionId: crypto.getRandomValues(new Uint8Array(12)),
      attributes: [transport],
    },
    undefined,
  );
  const realm = findAttribute(challenge.attributes, 'REALM')?.value;
  let nonce = findAttribute(challenge.attributes, 'NONCE')?.value;
  if (realm === undefined || nonce === undefined)
    throw new Error(`TURN: the unauthenticated Allocate was not challenged (${challenge.class})`);
  const username = o.username ?? '';
  const key = longTermKey(username, realm, o.password ?? '');
  /**
   * One signed request; a 438 (Stale Nonce) is retried once with the nonce it carries.
   * @param {number} method
   * @param {TurnAttribute[]} attributes
   * @param {string} what
   */
  const signed = async (method, attributes, what) => {
    for (let attempt = 0; ; attempt++) {
      const auth = /** @type {TurnAttribute[]} */ ([
        { type: 'USERNAME', value: username },
        { type: 'REALM', value: realm },
        { type: 'NONCE', value: nonce ?? '' },
      ]);
      const m = await request(
        socket,
        waiting,
        {
          method,
          class: 'request',
          transactionId: crypto.getRandomValues(new Uint8Array(12)),
          attributes: [...attributes, ...auth],
        },
        key,
      );
      const fresh = findAttribute(m.attributes, 'NONCE')?.value;
      if (attempt === 0 && findAttribute(m.attributes, 'ERROR-CODE')?.code === 438 && fresh) {
        nonce = fresh;
        continue;
      }
      expectSuccess(m, what);
      return m;
    }
  };
  const allocated = await signed(STUN_METHOD.allocate, [transport], 'Allocate');
  const relayed = findAttribute(allocated.attributes, 'XOR-RELAYED-ADDRESS')?.address;
  const bind = () =>
    signed(
      STUN_METHOD.channelBind,
      [
        { type: 'CHANNEL-NUMBER', channel: o.channel ?? 0x4000 },
        { type: 'XOR-PEER-ADDRESS', address: { ip: o.peer.host, port: o.peer.port, family: 4 } },
      ],
      'ChannelBind',
    );
  await bind();
  const refresh = async () => {
    await signed(STUN_METHOD.refresh, [{ type: 'LIFETIME', seconds: 600 }], 'Refresh');
    await bind();
  };
  return { relayed, refresh };
}

/**
 * A paced run: `warmup + measure` payloads of `size` bytes at `rateMbps` (payload bits, the
 * ChannelData header aside).
 * @typedef {object} RunCommand
 * @property {number} runId
 * @property {number} rateMbps
 * @property {number} size
 * @property {number} warmup
 * @property {number} measure
 * @property {number} offset  this sender's first sequence number
 * @property {number} stride  the number of senders
 * @property {number} deadlineMs
 */

/**
 * @param {dgram.Socket} socket
 * @param {boolean} viaRelay
 * @param {number} channel
 * @param {RunCommand} r
 * @param {(message: object) => void} done  gets {type:'measure-start'}, then {type:'done', …}
 */
function run(socket, viaRelay, channel, r, done) {
  const total = r.warmup + r.measure;
  const intervalNs = (r.size * 8 * 1e9) / (r.rateMbps * 1e6);
  const head = viaRelay ? CD_HEADER : 0;
  let i = 0;
  let sendErrors = 0;
  let lastError = '';
  let maxLagMs = 0;
  let ticks = 0;
  const onError = (/** @type {NodeJS.ErrnoException} */ err) => {
    sendErrors++;
    lastError = err.code ?? err.message;
  };
  socket.on('error', onError);
  const startNs = process.hrtime.bigint();
  let measureStartNs = 0n;
  let lastSendNs = startNs;
  const deadline = Date.now() + r.deadlineMs;
  const finish = (/** @type {string} */ why) => {
    socket.off('error', onError);
    done({
      type: 'done',
      why,
      sent: i,
      measuredSent: Math.max(0, i - r.warmup),
      sendErrors,
      lastError,
      maxLagMs,
      ticks,
      startNs,
      measureStartNs,
      lastSendNs,
    });
  };
  const tick = () => {
    ticks++;
    const now = process.hrtime.bigint();
    const elapsedNs = Number(now - startNs);
    const due = Math.min(total, Math.floor(elapsedNs / intervalNs) + 1);
    if (i < due) maxLagMs = Math.max(maxLagMs, (elapsedNs - i * intervalNs) / 1e6);
    let burst = 0;
    while (i < due && burst < BURST_MAX) {
      if (i === r.warmup) {
        measureStartNs = process.hrtime.bigint();
        done({ type: 'measure-start' });
      }
      const buf = Buffer.allocUnsafe(head + r.size).fill(0);
      if (viaRelay) {
        buf.writeUInt16BE(channel, 0);
        buf.writeUInt16BE(r.size, 2);
      }
      lastSendNs = process.hrtime.bigint();
      encodeHeader(buf.subarray(head), r.runId, r.offset + i * r.stride, lastSendNs);
      socket.send(buf);
      i++;
      burst++;
    }
    if (i >= total) finish('complete');
    else if (Date.now() > deadline) finish('deadline');
    else setTimeout(tick, 1);
  };
  tick();
}

/**
 * @param {import('node:worker_threads').MessagePort} parent
 * @param {FlowOptions} o
 */
async function main(parent, o) {
  const socket = dgram.createSocket({ type: 'udp4', sendBufferSize: 4 * 1024 * 1024 });
  const target = o.relay ?? o.peer;
  await new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => socket.connect(target.port, target.host, () => resolve(0)));
  });
  // Errors while idle (ICMP unreachable surfacing on a connected socket) are counted by `run`;
  // between runs nothing is sent, so nothing is lost by ignoring them here.
  socket.on('error', () => undefined);
  const turn = o.relay === undefined ? undefined : await allocateAndBind(socket, o);
  let renewedAt = Date.now();
  /** @param {RunCommand} m */
  const start = async (m) => {
    if (turn !== undefined && Date.now() - renewedAt > RENEW_MS) {
      await turn.refresh();
      renewedAt = Date.now();
    }
    run(socket, turn !== undefined, o.channel ?? 0x4000, m, (res) => parent.postMessage(res));
  };
  parent.on('message', (/** @type {{cmd: string} & RunCommand} */ m) => {
    if (m.cmd === 'run')
      start(m).catch((/** @type {unknown} */ err) => {
        parent.postMessage({
          type: 'error',
          message: err instanceof Error ? err.message : String(err),
        });
      });
    else if (m.cmd === 'close') socket.close(() => parent.close());
  });
  parent.postMessage({ type: 'ready', relayed: turn?.relayed });
}

if (parentPort !== null) {
  const parent = parentPort;
  main(parent, workerData).catch((/** @type {unknown} */ err) => {
    parent.postMessage({
      type: 'error',
      message: err instanceof Error ? (err.stack ?? err.message) : String(err),
    });
  });
}
