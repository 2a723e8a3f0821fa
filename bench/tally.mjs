#!/usr/bin/env node
// Tally latency: from a switch on the source to the operator page turning red, through
// `punch tally bridge`, per source, on loopback; and, beside it, to the operator's WebSocket
// receiving `tally` (the message the page turns red on).
// `npm run bench:tally` (builds first), `node bench/tally.mjs [--quick] [--json FILE]`.
//
// One `punch serve`, one session with two streams, a peer token for cam-wide, and with it both
// an operator socket (ws) and the real operator page (`/s/:id?t=TOKEN`) in headless Chromium
// (/usr/bin/chromium through playwright-core; without Chromium the page column is skipped, loudly,
// and under CI=true the bench fails). For each source a bridge runs (`--map 1=cam-wide`) and the
// bench switches input 1 between program and preview, one change at a time, timing each from
// the moment it sends the switch to the moment the operator's socket has the new tally, and to
// the moment the page's `<main data-tally>` takes it (a MutationObserver in the page notes
// Date.now(), the same machine clock as the bench's Date.now() before the switch):
//   - tsl5+udp: tsl-umd-v5 builds each TSL UMD v5.0 packet, sent over one UDP socket;
//   - tsl5+tcp: the same packets DLE/STX-wrapped by tsl-umd-v5, over one TCP connection (as a
//     router keeps one open);
//   - vmix: a fake vMix TCP API server (vMix runs only on Windows) writes `TALLY OK …`;
//   - obs: a fake obs-websocket v5 server sends CurrentProgramSceneChanged (studio mode on, so
//     the scene cut away from stays on preview);
//   - atem: a fake ATEM (no simulator exists) sends the ATEM protocol's TlSr over UDP to the
//     bridge's atem-connection client.
// The bridge's own figure (frame in → Punch's answer) is reported beside it. Target: p95 < 100 ms.
import { createSocket } from 'node:dgram';
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect, createServer } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import WebSocket, { WebSocketServer } from 'ws';
import {
  PUNCH_BIN,
  apiRequest,
  benchOptions,
  createLog,
  createReaper,
  fmt,
  freeUdpPort,
  mdTable,
  parseJson,
  reportFooter,
  runBench,
  say,
  startProc,
  startServer,
  stopProc,
  summarize,
  waitLine,
} from './lib.mjs';
import { chromiumSupport, launchChromium } from './chromium.mjs';

const require = createRequire(import.meta.url);
/** @type {any} tsl-umd-v5 is CommonJS without types. */
const TSL5 = require('tsl-umd-v5');

const opts = benchOptions('tally.mjs', '10 changes per source instead of 100');
const CHANGES = opts.quick ? 10 : 100;
const reaper = createReaper();
const clock = createLog('tally');
const support = chromiumSupport();
if (!support.ok) {
  process.stderr.write(
    `\n!!! ${support.why}: SKIPPING the "operator page turns red" column (the socket column still runs)\n\n`,
  );
  if (process.env.CI === 'true') {
    process.stderr.write('CI=true: the tally bench needs Chromium\n');
    process.exit(1);
  }
}

/**
 * In the operator page: notes the time each change of `<main data-tally>` (program, preview,
 * none) reaches the DOM, in `globalThis.__benchTally` as { state, at } with at = Date.now().
 * Runs in Chromium (serialised by playwright), so it reaches the page's globals through `any`.
 */
function watchTally() {
  /** @type {any} */
  const page = globalThis;
  const read = () => page.document.querySelector('main[data-tally]')?.getAttribute('data-tally');
  page.__benchTally = { state: read(), at: Date.now() };
  // The main element can be re-rendered whole (connecting → connected), so watch the subtree.
  new page.MutationObserver(() => {
    const state = read();
    if (state !== page.__benchTally.state) page.__benchTally = { state, at: Date.now() };
  }).observe(page.document.documentElement, {
    subtree: true,
    childList: true,
    attributes: true,
    attributeFilter: ['data-tally'],
  });
}

/**
 * In the operator page: the time `mark` reached the DOM, once it has at or after `since`.
 * @param {{ mark: string, since: number }} args
 */
function tallyAt({ mark, since }) {
  /** @type {any} */
  const page = globalThis;
  const t = page.__benchTally;
  return t !== undefined && t.state === mark && t.at >= since ? t.at : false;
}

/** In the operator page: connected, with its tally light on screen. */
function pageReady() {
  /** @type {any} */
  const page = globalThis;
  const state = page.document.querySelector('[data-testid="op-state"]')?.textContent ?? '';
  return page.document.querySelector('main[data-tally]') !== null && !/connecting/i.test(state);
}

/** A minimal fake vMix TCP API: SUBSCRIBE TALLY, TALLY, and `TALLY OK …` pushed on `set`. */
async function fakeVmix() {
  /** @type {Set<import('node:net').Socket>} */
  const subscribed = new Set();
  let state = '0000';
  const server = createServer((s) => {
    s.setEncoding('utf8');
    s.setNoDelay(true);
    s.write('VERSION OK 27.0.0.49\r\n');
    s.on('error', () => {});
    s.on('close', () => subscribed.delete(s));
    let buf = '';
    s.on('data', (chunk) => {
      buf += chunk;
      for (let nl = buf.indexOf('\r\n'); nl >= 0; nl = buf.indexOf('\r\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        if (line === 'SUBSCRIBE TALLY') {
          subscribed.add(s);
          s.write('SUBSCRIBE OK TALLY\r\n');
        } else if (line === 'TALLY') s.write(`TALLY OK ${state}\r\n`);
        else s.write(`${line.split(' ')[0]} ER Unknown command\r\n`);
      }
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', () => r(undefined)));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `vmix://127.0.0.1:${port}`,
    ready: async () => {},
    /** @param {'program' | 'preview'} mark */
    set(mark) {
      state = `${mark === 'program' ? 1 : 2}000`;
      for (const s of subscribed) s.write(`TALLY OK ${state}\r\n`);
    },
    close: () => {
      for (const s of subscribed) s.destroy();
      server.close();
    },
  };
}

/**
 * A minimal fake obs-websocket v5 server (no password): Hello, Identified, the program scene on
 * request, and CurrentProgramSceneChanged on `set` (program: scene "Cam Wide", preview: studio
 * mode's preview scene "Cam Wide" with "Slides" on program).
 */
async function fakeObs() {
  const server = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    handleProtocols: () => 'obswebsocket.json',
  });
  await new Promise((r) => server.once('listening', () => r(undefined)));
  /** @type {Set<WebSocket>} */
  const clients = new Set();
  let program = 'Slides';
  let preview = 'Cam Wide';
  /** @param {WebSocket} ws @param {string} eventType @param {object} eventData */
  const event = (ws, eventType, eventData) =>
    ws.send(JSON.stringify({ op: 5, d: { eventType, eventIntent: 4, eventData } }));
  server.on('connection', (ws) => {
    ws.send(JSON.stringify({ op: 0, d: { obsWebSocketVersion: '5.5.4', rpcVersion: 1 } }));
    ws.on('message', (data) => {
      const m = JSON.parse(String(data));
      if (m.op === 1) {
        clients.add(ws);
        ws.send(JSON.stringify({ op: 2, d: { negotiatedRpcVersion: 1 } }));
        return;
      }
      const d = m.d;
      const ok = { result: true, code: 100 };
      const data2 =
        d.requestType === 'GetStudioModeEnabled'
          ? { studioModeEnabled: true }
          : d.requestType === 'GetCurrentProgramScene'
            ? { currentProgramSceneName: program }
            : { currentPreviewSceneName: preview };
      ws.send(
        JSON.stringify({
          op: 7,
          d: {
            requestType: d.requestType,
            requestId: d.requestId,
            requestStatus: ok,
            responseData: data2,
          },
        }),
      );
    });
    ws.on('close', () => clients.delete(ws));
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `obs://127.0.0.1:${port}`,
    ready: async () => {},
    /** @param {'program' | 'preview'} mark */
    set(mark) {
      // Program: Cam Wide cut to air. Preview: Slides cut to air, Cam Wide back on preview.
      program = mark === 'program' ? 'Cam Wide' : 'Slides';
      for (const ws of clients) event(ws, 'CurrentProgramSceneChanged', { sceneName: program });
    },
    close: () => {
      for (const ws of clients) ws.terminate();
      server.close();
    },
  };
}

/** @param {'program' | 'preview'} mark */
const tslTally = (mark) => ({
  screen: 0,
  index: 1,
  display: {
    rh_tally: mark === 'program' ? 1 : 2,
    text_tally: 0,
    lh_tally: 0,
    brightness: 3,
    text: 'CAM 1',
  },
});

/**
 * A minimal fake ATEM (no simulator exists; tests/integration/fake-atem.ts is the full one): the
 * UDP hello answered, `_ver`, `TlSr` and `InCm` after the client's ack, an empty packet every
 * 500 ms to keep atem-connection's 5 s silence timer quiet, and a `TlSr` on `set`.
 */
async function fakeAtem() {
  const socket = createSocket('udp4');
  await new Promise((r) => socket.bind(0, '127.0.0.1', () => r(undefined)));
  /** @type {import('node:dgram').RemoteInfo | undefined} */
  let client;
  /** @type {import('node:dgram').RemoteInfo | undefined} */
  let hello;
  let nextId = 1;
  let bits = 0;
  /** @param {string} name @param {Buffer} payload */
  const command = (name, payload) => {
    const head = Buffer.alloc(8);
    head.writeUInt16BE(8 + payload.length, 0);
    head.write(name, 4, 4, 'ascii');
    return Buffer.concat([head, payload]);
  };
  const tlsr = () => command('TlSr', Buffer.from([0, 1, 0, 1, bits]));
  /** @param {Buffer} commands */
  const send = (commands) => {
    if (client === undefined) return;
    const head = Buffer.alloc(12);
    head.writeUInt16BE((0x01 << 11) | (12 + commands.length), 0);
    head.writeUInt16BE(0x8001, 2);
    head.writeUInt16BE(nextId++, 10);
    socket.send(Buffer.concat([head, commands]), client.port, client.address);
  };
  socket.on('message', (packet, from) => {
    const flags = packet.readUInt8(0) >> 3;
    if (flags & 0x02) {
      const answer = Buffer.alloc(20);
      answer.writeUInt16BE((0x02 << 11) | 20, 0);
      answer.writeUInt16BE(packet.readUInt16BE(2), 2);
      answer.writeUInt8(0x02, 12);
      socket.send(answer, from.port, from.address);
      hello = from;
      client = undefined;
    } else if (flags & 0x10 && hello !== undefined && client === undefined) {
      client = hello;
      nextId = 1;
      send(command('_ver', Buffer.from([0, 2, 0, 30])));
      send(tlsr());
      send(command('InCm', Buffer.alloc(4)));
    }
  });
  const keepalive = setInterval(() => send(Buffer.alloc(0)), 500);
  return {
    url: `atem://127.0.0.1:${socket.address().port}`,
    ready: async () => {},
    /** @param {'program' | 'preview'} mark */
    set(mark) {
      bits = mark === 'program' ? 1 : 2;
      send(tlsr());
    },
    close: () => {
      clearInterval(keepalive);
      socket.close();
    },
  };
}

async function tslUdp() {
  const port = await freeUdpPort();
  const umd = new TSL5();
  const socket = createSocket('udp4');
  return {
    url: `tsl5+udp://127.0.0.1:${port}`,
    ready: async () => {},
    /** @param {'program' | 'preview'} mark */
    set(mark) {
      socket.send(umd.constructPacket(tslTally(mark), false), port, '127.0.0.1');
    },
    close: () => socket.close(),
  };
}

async function tslTcp() {
  const probe = createServer();
  await new Promise((r) => probe.listen(0, '127.0.0.1', () => r(undefined)));
  const address = probe.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await new Promise((r) => probe.close(() => r(undefined)));
  const umd = new TSL5();
  /** @type {import('node:net').Socket | undefined} */
  let socket;
  return {
    url: `tsl5+tcp://127.0.0.1:${port}`,
    async ready() {
      const s = connect(port, '127.0.0.1');
      s.setNoDelay(true);
      await new Promise((r, j) => {
        s.once('connect', () => r(undefined));
        s.once('error', j);
      });
      socket = s;
    },
    /** @param {'program' | 'preview'} mark */
    set(mark) {
      socket?.write(umd.constructPacket(tslTally(mark), true));
    },
    close: () => socket?.destroy(),
  };
}

await runBench('tally', reaper, async () => {
  reaper.tmpRoot = mkdtempSync(join(os.tmpdir(), 'punch-bench-tally-'));
  // The bench sends hundreds of changes in seconds; a show's cuts stay far below `write`'s
  // 120 per minute per IP, which would otherwise pace the later sources.
  const server = await startServer(reaper, 'punch', {
    punchArgs: ['--rate-limit', 'write=100000'],
  });
  const created = await apiRequest(server.url, 'POST', '/api/session', {
    body: { name: 'bench-tally', streams: ['cam-wide', 'cam-close'] },
  });
  const peer = await apiRequest(server.url, 'POST', `/api/session/${created.session}/tokens`, {
    token: created.token,
    body: { stream: 'cam-wide' },
  });
  const ws = new WebSocket(
    `${server.url.replace('http', 'ws')}/api/session/${created.session}/ws`,
    ['punch.v1'],
    {
      headers: { authorization: `Bearer ${peer.token}` },
    },
  );
  /** @type {((mark: string) => void) | undefined} */
  let onTally;
  ws.on('message', (data) => {
    const m = parseJson(String(data));
    if (m?.type !== 'tally') return;
    onTally?.(
      m.program.includes('cam-wide')
        ? 'program'
        : m.preview.includes('cam-wide')
          ? 'preview'
          : 'none',
    );
  });
  await new Promise((r, j) => {
    ws.once('open', () => r(undefined));
    ws.once('error', j);
  });

  // The operator page from the producer's link, in Chromium.
  const browser = support.ok ? await launchChromium() : undefined;
  /** @type {string[]} */
  const pageErrors = [];
  const page = await browser?.context.newPage();
  if (page !== undefined) {
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${server.url}/s/${created.session}?t=${peer.token}`);
    await page
      .waitForFunction(pageReady, undefined, { timeout: 15_000 })
      .catch((/** @type {unknown} */ err) => {
        throw new Error(`the operator page did not connect (${pageErrors.join('; ')})`, {
          cause: err,
        });
      });
    await page.evaluate(watchTally);
  }

  const rows = [];
  const results = {};
  for (const [name, make] of /** @type {const} */ ([
    ['tsl5+udp', tslUdp],
    ['tsl5+tcp', tslTcp],
    ['vmix', fakeVmix],
    ['obs', fakeObs],
    ['atem', fakeAtem],
  ])) {
    const source = await make();
    /** @type {number[]} */
    const bridgeMs = [];
    const bridge = startProc(
      reaper,
      `bridge ${name}`,
      process.execPath,
      [
        PUNCH_BIN,
        'tally',
        'bridge',
        source.url,
        '--map',
        name === 'obs' ? 'Cam Wide=cam-wide' : '1=cam-wide',
        '--json',
      ],
      {
        env: { ...process.env, PUNCH_SERVER: server.url, PUNCH_TOKEN: created.token },
        onLine: (line) => {
          const e = parseJson(line);
          if (e?.event === 'tally') bridgeMs.push(e.latencyMs);
        },
      },
    );
    await waitLine(
      bridge,
      (l) => (parseJson(l)?.event === 'connected' ? true : undefined),
      10_000,
      'connected',
    );
    // TCP: the router's connection, opened once the bridge listens.
    await source.ready();
    /** @type {number[]} */
    const lightMs = [];
    /** @type {number[]} */
    const pageMs = [];
    for (let i = 0; i < CHANGES; i++) {
      const mark = i % 2 === 0 ? 'program' : 'preview';
      const seen = new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `${name}: no ${mark} within 5 s (change ${i}); bridge:\n${bridge.tail.join('\n')}`,
              ),
            ),
          5000,
        );
        onTally = (m) => {
          if (m !== mark) return;
          clearTimeout(timer);
          resolve(undefined);
        };
      });
      const wall0 = Date.now();
      const t0 = performance.now();
      source.set(mark);
      await seen;
      lightMs.push(performance.now() - t0);
      if (page !== undefined) {
        // The page's own Date.now() at the DOM change: the polling here adds nothing to it.
        const at = await page
          .waitForFunction(tallyAt, { mark, since: wall0 }, { timeout: 5000 })
          .then((h) => h.jsonValue())
          .catch((/** @type {unknown} */ err) => {
            throw new Error(`${name}: the page did not show ${mark} within 5 s (change ${i})`, {
              cause: err,
            });
          });
        pageMs.push(Number(at) - wall0);
      }
    }
    source.close();
    await stopProc(bridge.child);
    const light = summarize(lightMs);
    const red = summarize(pageMs);
    const own = summarize(bridgeMs);
    results[name] = { socket: light, page: page === undefined ? null : red, bridge: own };
    // The target is the page's; without Chromium the socket's figure stands in for it.
    const judged = page === undefined ? light : red;
    rows.push([
      name,
      String(light.count),
      fmt(light.p50),
      fmt(light.p95),
      fmt(light.max),
      ...(page === undefined ? ['skipped', '', ''] : [fmt(red.p50), fmt(red.p95), fmt(red.max)]),
      fmt(own.p50),
      fmt(own.p95),
      judged.p95 < 100 ? 'yes' : 'NO',
    ]);
    clock.log(
      `${name}: socket p95 ${fmt(light.p95)} ms, page p95 ${page === undefined ? 'skipped' : fmt(red.p95)} ms`,
    );
  }
  ws.close();
  await browser?.close();
  say(
    '## Tally: switch on the source → the operator socket has it / the page turns red (ms, loopback)',
  );
  say();
  say(
    mdTable(
      [
        'source',
        'changes',
        'socket p50',
        'socket p95',
        'socket max',
        'page p50',
        'page p95',
        'page max',
        'bridge p50',
        'bridge p95',
        'p95 < 100 ms',
      ],
      rows,
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
    ),
  );
  say();
  reportFooter(
    clock,
    [
      '"socket": to the operator\'s WebSocket receiving `tally`; "page": to the operator page\'s ' +
        '`<main data-tally>` turning to the new state in headless Chromium (MutationObserver, ' +
        'Date.now() on both sides: 1 ms resolution).',
      page === undefined
        ? `page: SKIPPED (${support.ok ? '' : support.why}); "p95 < 100 ms" judges the socket.`
        : '"p95 < 100 ms" judges the page.',
      '"bridge": the bridge\'s own figure, from the frame arriving to Punch\'s answer (the tally push on its admin socket).',
    ],
    opts.json,
    results,
  );
});
