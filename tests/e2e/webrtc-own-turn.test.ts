/**
 * Third-party WebRTC stacks relaying through Punch's own TURN relay (`punch serve`'s STUN port,
 * RFC 8656) with no coturn running: real Chromium inside the lab's network namespace (see
 * weblab.ts) with `iceTransportPolicy: 'relay'` (the SDK's `forceRelay`), and werift in Node.
 * The ICE servers are the ones Punch's `welcome` lists (no `--turn-url`, so its own TURN, with
 * TURN REST credentials), narrowed to the TURN URL of the transport under test. Each call:
 * a data channel each way (and video between the two pages), the selected candidate pair
 * succeeded, nominated and relay on both ends, on Punch's relayed addresses, with nothing but
 * relay candidates gathered, and Punch's `punch_turn_*` counters moved.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPeer, mintPeerToken, type Session } from '@punch/sdk';
import { fromWerift } from '@punch/sdk/werift';
import { RTCPeerConnection as WeriftPeerConnection } from 'werift';
import WebSocket from 'ws';
import { call } from '../conformance/client.js';
import { startHost, type Host } from '../conformance/host.js';
import {
  PUNCH_TURN_TRANSPORTS,
  counterDelta,
  iceShape,
  nextMessage,
  onlyPunchTurn,
  opened,
  selectedPair,
  sessionPair,
  turnCounters,
  within,
  type PairEvidence,
} from '../integration/relay-evidence.js';
import { chromiumSupport, launchChromium, type Browser } from './browser.js';
import { WebLab, webLabSupport } from './weblab.js';

const support = ((): { ok: true } | { ok: false; why: string } => {
  const c = chromiumSupport();
  return c.ok ? webLabSupport({ coturn: false }) : c;
})();
const inCi = process.env.CI === 'true';
if (!support.ok && !inCi)
  console.warn(`\n!!! SKIPPING the WebRTC-through-Punch's-TURN e2e tests: ${support.why}\n`);
for (const t of PUNCH_TURN_TRANSPORTS) {
  if (t.missing !== undefined)
    console.warn(`\n!!! SKIPPING Chromium/werift relay over TURN/${t.transport}: ${t.missing}\n`);
}

it.runIf(inCi)('CI has root, iproute2 and Chromium for the own-TURN WebRTC tests', () => {
  expect(support).toEqual({ ok: true });
});

const SDK_BUNDLE = fileURLToPath(
  new URL('../../packages/sdk/dist/browser/punch-sdk.js', import.meta.url),
);
const HARNESS = fileURLToPath(new URL('./relay-page.js', import.meta.url));

let lab: WebLab;
let host: Host;
let browser: Browser;
let site: { url: string; close(): Promise<void> };
/** Punch as the pages reach it: on the lab's outer address. */
let punch = '';
let key: { kid: string; privateJwk: Record<string, unknown> };
const pageErrors: string[] = [];

function token(peer: string): Promise<string> {
  return mintPeerToken({
    privateKey: key.privateJwk,
    group: 'demo',
    peer,
    allow: [{ group: 'demo', peer: '*' }],
    ttl: 600,
  });
}

async function page(): Promise<Page> {
  const p = await browser.context.newPage();
  p.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
  await p.goto(`${site.url}/`);
  await p.waitForFunction(() => typeof (window as { start?: unknown }).start === 'function');
  return p;
}

interface Started {
  fromPunch: { urls: string[]; username?: string; credential?: string }[];
  used: { urls: string[]; username?: string; credential?: string }[];
}

function start(p: Page, tok: string, transport: string, camera = false) {
  return p.evaluate(
    (a) => (window as unknown as { start(x: unknown): Promise<Started> }).start(a),
    { url: punch, token: tok, transport, camera },
  );
}

const dial = (p: Page, peer: string) =>
  p.evaluate(
    (id) =>
      (
        window as unknown as { call(g: string, i: string): Promise<{ ok: boolean; code?: string }> }
      ).call('demo', id),
    peer,
  );

const send = (p: Page, text: string) =>
  p.evaluate((t) => (window as unknown as { send(t: string): Promise<boolean> }).send(t), text);

const inbox = (p: Page, text: string) =>
  p.waitForFunction(
    (t) => (window as unknown as { st: { inbox: string[] } }).st.inbox.includes(t),
    text,
    { timeout: 20_000 },
  );

async function pagePair(p: Page): Promise<PairEvidence | undefined> {
  // The controlled side may report its nominated pair `in-progress` for a moment after data
  // already flows on it: read again until the check has succeeded (bounded: 50 reads, 5 s).
  let pair: PairEvidence | undefined;
  for (let i = 0; i < 50; i++) {
    const stats = await p.evaluate(() =>
      (window as unknown as { stats(): Promise<unknown[]> }).stats(),
    );
    pair = selectedPair(stats);
    if (pair?.state === 'succeeded') return pair;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return pair;
}

/** What both ends of every call here must show: relay only, through Punch's relay. */
function expectRelayed(
  pair: PairEvidence | undefined,
  transport: string,
  chromium: boolean,
  turnUrl: string,
): void {
  expect(pair).toMatchObject({
    state: 'succeeded',
    nominated: true,
    // The relayed address is Punch's (the lab's outer address, where nothing else relays).
    local: { candidateType: 'relay', address: lab.outer },
    remote: { address: lab.outer },
    // Relay-only: no host or server-reflexive candidate was even gathered.
    localTypes: ['relay'],
  });
  // The remote relay candidate may be learnt from a check before it is signalled
  // (peer-reflexive, same address); either way it is the other side's relayed one.
  expect(['relay', 'prflx']).toContain(pair?.remote.candidateType);
  // Chromium says which server and transport gave its relay candidate (werift does not).
  if (chromium) expect(pair?.local).toMatchObject({ relayProtocol: transport, url: turnUrl });
}

beforeAll(async () => {
  if (!support.ok) return;
  lab = WebLab.create();
  // `punch serve` on the outer address with its own relay: no --turn-url and no coturn, so
  // welcome lists turn:<outer>:<stun port>. No --relay-allow-private although every address in
  // the lab is private: both ends of every call relay, so each peer address the relay sees is
  // one of its own relayed addresses, which the default policy always allows (relay to relay).
  // The test thereby also shows the shipped default is enough for relay-only peers.
  host = await startHost({ bind: lab.outer }, 'node');
  punch = `http://${lab.outer}:${new URL(host.url).port}`;
  const account = await host.createAccount('own-turn');
  const pr = await call(punch, 'POST', '/api/projects', { token: account, body: { name: 'e2e' } });
  if (pr.status !== 201) throw new Error(`project: ${pr.status} ${pr.text}`);
  const project = (pr.json as { id: string }).id;
  const k = await call(punch, 'POST', `/api/projects/${project}/keys`, {
    token: account,
    body: {},
  });
  if (k.status !== 201) throw new Error(`key: ${k.status} ${k.text}`);
  key = k.json as typeof key;
  site = await lab.serve({
    '/': {
      type: 'text/html',
      body: '<!doctype html><meta charset="utf-8"><title>Punch TURN e2e</title><script type="module" src="/harness.js"></script>',
    },
    '/sdk.js': { type: 'text/javascript', body: readFileSync(SDK_BUNDLE) },
    '/harness.js': { type: 'text/javascript', body: readFileSync(HARNESS) },
  });
  browser = await launchChromium({
    executablePath: lab.chromiumWrapper(),
    args: [
      '--disable-features=WebRtcHideLocalIpsWithMdns',
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      // The pages are served over plain HTTP inside the lab; getUserMedia needs a secure context.
      `--unsafely-treat-insecure-origin-as-secure=${site.url}`,
    ],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await site?.close();
  await host?.stop();
  lab?.destroy();
});

describe.runIf(support.ok)('WebRTC relay-only through Punch’s own TURN, no coturn', () => {
  for (const { transport, missing } of PUNCH_TURN_TRANSPORTS) {
    const turnUrl = (): string => `turn:${lab.outer}:${host.stunPort}?transport=${transport}`;

    it.skipIf(missing !== undefined)(
      `TURN/${transport}: two Chromium pages, relay only: data channel and video through Punch`,
      async () => {
        const before = await turnCounters(punch);
        const alice = await page();
        const bob = await page();
        try {
          const a = await start(alice, await token(`alice-${transport}`), transport, true);
          await start(bob, await token(`bob-${transport}`), transport, true);
          // Punch's welcome listed its own TURN (with REST credentials); only that URL is used.
          expect(a.fromPunch.flatMap((s) => s.urls)).toContain(turnUrl());
          expect(iceShape(a.used)).toEqual([
            { urls: [turnUrl()], username: 'string', credential: 'string' },
          ]);

          expect(await dial(alice, `bob-${transport}`)).toEqual({ ok: true });
          expect(await send(alice, 'to bob via punch')).toBe(true);
          await inbox(bob, 'to bob via punch');
          expect(await send(bob, 'to alice via punch')).toBe(true);
          await inbox(alice, 'to alice via punch');
          // Bob's fake camera reaches Alice through the relay and decodes into frames.
          await alice.waitForFunction(
            () => {
              const v = (window as unknown as { video?: HTMLVideoElement }).video;
              return v !== undefined && v.videoWidth > 0 && v.currentTime > 0;
            },
            undefined,
            { timeout: 20_000 },
          );

          for (const p of [alice, bob])
            expectRelayed(await pagePair(p), transport, true, turnUrl());
          const moved = counterDelta(before, await turnCounters(punch));
          expect(moved.allocations).toBeGreaterThanOrEqual(2);
          expect(moved.bytesToPeer).toBeGreaterThan(0);
          expect(moved.bytesToClient).toBeGreaterThan(0);
        } finally {
          await alice.close();
          await bob.close();
        }
      },
    );

    it.skipIf(missing !== undefined)(
      `TURN/${transport}: Chromium and werift, both relay only: data channel both ways through Punch`,
      async () => {
        const before = await turnCounters(punch);
        const chrome = await page();
        const name = `chrome-w-${transport}`;
        await start(chrome, await token(name), transport);
        // werift runs in this process, outside the namespace, and reaches Punch's relay on the
        // outer address as Chromium does.
        const node = createPeer({
          url: punch,
          token: await token(`node-w-${transport}`),
          WebSocket,
          RTCPeerConnection: fromWerift(WeriftPeerConnection),
          forceRelay: true,
          iceServers: onlyPunchTurn(transport),
        });
        try {
          const info = await within(node.ready, 10_000, 'welcome');
          expect(iceShape(info.iceServers)).toEqual([
            { urls: [turnUrl()], username: 'string', credential: 'string' },
          ]);
          const session: Session = await within(
            node.connect('demo', name, { dataChannels: ['chat'] }),
            20_000,
            'answer',
          );
          const chat = await opened(session.channels.get('chat')!);
          chat.send('from werift via punch');
          await inbox(chrome, 'from werift via punch');
          const got = nextMessage(chat);
          expect(await send(chrome, 'from chromium via punch')).toBe(true);
          expect(await got).toBe('from chromium via punch');

          expectRelayed(await sessionPair(session), transport, false, turnUrl());
          expectRelayed(await pagePair(chrome), transport, true, turnUrl());
          const moved = counterDelta(before, await turnCounters(punch));
          expect(moved.allocations).toBeGreaterThanOrEqual(2);
          expect(moved.bytesToPeer).toBeGreaterThan(0);
          expect(moved.bytesToClient).toBeGreaterThan(0);
        } finally {
          node.close();
          await chrome.close();
        }
      },
    );
  }

  it('no page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
