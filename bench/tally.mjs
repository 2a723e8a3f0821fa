#!/usr/bin/env node
// Tally latency: from a switch on the source to the operator's WebSocket receiving `tally` (what
// turns the operator page red), through `punch tally bridge`, per source, on loopback.
// `npm run bench:tally` (builds first), `node bench/tally.mjs [--quick] [--json FILE]`.
//
// One `punch serve`, one session with two streams, an operator socket with a peer token for
// cam-wide. For each source a bridge runs (`--map 1=cam-wide`) and the bench switches input 1
// between program and preview, one change at a time, timing each from the moment it sends the
// switch to the moment the operator's socket has the new tally:
//   - tsl5+udp: tsl-umd-v5 builds each TSL UMD v5.0 packet, sent over one UDP socket;
//   - tsl5+tcp: the same packets DLE/STX-wrapped by tsl-umd-v5, over one TCP connection (as a
//     router keeps one open);
//   - vmix: a fake vMix TCP API server (vMix runs only on Windows) writes `TALLY OK …`;
//   - obs: a fake obs-websocket v5 server sends CurrentProgramSceneChanged (studio mode on, so
//     the scene cut away from stays on preview).
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

const require = createRequire(import.meta.url);
/** @type {any} tsl-umd-v5 is CommonJS without types. */
const TSL5 = require('tsl-umd-v5');

const opts = benchOptions('tally.mjs', '10 changes per source instead of 100');
const CHANGES = opts.quick ? 10 : 100;
const reaper = createReaper();
const clock = createLog('tally');

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

  const rows = [];
  const results = {};
  for (const [name, make] of /** @type {const} */ ([
    ['tsl5+udp', tslUdp],
    ['tsl5+tcp', tslTcp],
    ['vmix', fakeVmix],
    ['obs', fakeObs],
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
      const t0 = performance.now();
      source.set(mark);
      await seen;
      lightMs.push(performance.now() - t0);
    }
    source.close();
    await stopProc(bridge.child);
    const light = summarize(lightMs);
    const own = summarize(bridgeMs);
    results[name] = { light, bridge: own };
    rows.push([
      name,
      String(light.count),
      fmt(light.p50),
      fmt(light.p95),
      fmt(light.max),
      fmt(own.p50),
      fmt(own.p95),
      light.p95 < 100 ? 'yes' : 'NO',
    ]);
    clock.log(`${name}: p95 ${fmt(light.p95)} ms`);
  }
  ws.close();
  say('## Tally: switch on the source → the operator socket has it (ms, loopback)');
  say();
  say(
    mdTable(
      ['source', 'changes', 'p50', 'p95', 'max', 'bridge p50', 'bridge p95', 'p95 < 100 ms'],
      rows,
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
    ),
  );
  say();
  reportFooter(
    clock,
    ['"bridge": the bridge\'s own figure, from the frame arriving to Punch answering the PUT.'],
    opts.json,
    results,
  );
});
