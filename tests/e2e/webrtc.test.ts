/**
 * The projects realm end to end in real Chromium (Debian `chromium` via playwright-core),
 * running inside a network namespace with a veth and a default route, against a real coturn
 * and each real Punch host in turn (`punch serve`, and the Workers host on workerd): two pages connect through Punch and exchange a data-channel
 * message and a (fake-camera) video track; a policy that forbids the pair fails the connect on
 * both sides; `forceRelay` goes through coturn; deleting the key closes both pages; a reloaded
 * page is reconnected to without "ID taken"; a Node peer (werift) talks to a Chromium peer.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPeer, mintPeerToken } from '@punch/sdk';
import { fromWerift } from '@punch/sdk/werift';
import { RTCPeerConnection as WeriftPeerConnection } from 'werift';
import WebSocket from 'ws';
import { call } from '../conformance/client.js';
import { startHost, type Host } from '../conformance/host.js';
import { chromiumSupport, launchChromium, type Browser } from './browser.js';
import { WebLab, webLabSupport } from './weblab.js';

const support = ((): { ok: true } | { ok: false; why: string } => {
  const c = chromiumSupport();
  return c.ok ? webLabSupport() : c;
})();
const inCi = process.env.CI === 'true';
if (!support.ok && !inCi) console.warn(`\n!!! SKIPPING the WebRTC e2e tests: ${support.why}\n`);

it.runIf(inCi)('CI has root, iproute2, coturn and Chromium for the WebRTC tests', () => {
  expect(support).toEqual({ ok: true });
});

const SDK_BUNDLE = fileURLToPath(
  new URL('../../packages/sdk/dist/browser/punch-sdk.js', import.meta.url),
);
const HARNESS = fileURLToPath(new URL('./webrtc-page.js', import.meta.url));
const TURN_SECRET = 'e2e-turn-secret-shared-with-coturn';
const TURN_PORT = 3479;

/**
 * The whole suite once per host: `punch serve`, then the Workers host on workerd. Each run has
 * its own lab, coturn, Punch and browser, one after the other.
 */
function suite(kind: 'node' | 'workerd'): void {
  let lab: WebLab;
  let host: Host;
  let browser: Browser;
  let site: { url: string; close(): Promise<void> };
  /** Punch as the pages reach it: on the lab's outer address. */
  let punch = '';
  let account = '';
  let project = '';
  let key: { kid: string; privateJwk: Record<string, unknown> };
  const pageErrors: string[] = [];

  async function newKey(): Promise<{ kid: string; privateJwk: Record<string, unknown> }> {
    const r = await call(punch, 'POST', `/api/projects/${project}/keys`, {
      token: account,
      body: {},
    });
    if (r.status !== 201) throw new Error(`key: ${r.status} ${r.text}`);
    return r.json as { kid: string; privateJwk: Record<string, unknown> };
  }

  function token(
    peer: string,
    allow: { group: string; peer: string }[] = [{ group: 'demo', peer: '*' }],
    k = key,
  ): Promise<string> {
    return mintPeerToken({ privateKey: k.privateJwk, group: 'demo', peer, allow, ttl: 600 });
  }

  async function page(): Promise<Page> {
    const p = await browser.context.newPage();
    p.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
    await p.goto(`${site.url}/`);
    await p.waitForFunction(() => typeof (window as { start?: unknown }).start === 'function');
    return p;
  }

  interface Started {
    group: string;
    peer: string;
    iceServers: { urls: string[]; username?: string }[];
  }

  async function start(p: Page, tok: string, o: { forceRelay?: boolean; camera?: boolean } = {}) {
    return p.evaluate(
      (a) => (window as unknown as { start(x: unknown): Promise<Started> }).start(a),
      { url: punch, token: tok, ...o },
    );
  }

  async function dial(p: Page, peer: string): Promise<{ ok: boolean; code?: string }> {
    return p.evaluate(
      (id) =>
        (
          window as unknown as {
            call(g: string, i: string): Promise<{ ok: boolean; code?: string }>;
          }
        ).call('demo', id),
      peer,
    );
  }

  const send = (p: Page, text: string) =>
    p.evaluate((t) => (window as unknown as { send(t: string): Promise<boolean> }).send(t), text);

  const inbox = (p: Page, text: string) =>
    p.waitForFunction(
      (t) => (window as unknown as { st: { inbox: string[] } }).st.inbox.includes(t),
      text,
      {
        timeout: 20_000,
      },
    );

  beforeAll(async () => {
    if (!support.ok) return;
    lab = WebLab.create();
    await lab.startCoturn(TURN_SECRET, TURN_PORT);
    host = await startHost(
      {
        bind: lab.outer,
        turn: { secret: TURN_SECRET, urls: [`turn:${lab.outer}:${TURN_PORT}?transport=udp`] },
        // The Workers host has no STUN of its own: coturn answers STUN too.
        stunUrls: [`stun:${lab.outer}:${TURN_PORT}`],
      },
      kind,
    );
    punch = `http://${lab.outer}:${new URL(host.url).port}`;
    account = await host.createAccount('webrtc-dev');
    const pr = await call(punch, 'POST', '/api/projects', {
      token: account,
      body: { name: 'e2e' },
    });
    project = (pr.json as { id: string }).id;
    key = await newKey();
    site = await lab.serve({
      '/': {
        type: 'text/html',
        body: '<!doctype html><meta charset="utf-8"><title>Punch WebRTC e2e</title><script type="module" src="/harness.js"></script>',
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

  describe.runIf(support.ok)(`WebRTC through Punch (${kind} host) in Chromium`, () => {
    it('two pages connect: a data-channel message each way and a video track', async () => {
      const alice = await page();
      const bob = await page();
      const w = await start(alice, await token('alice'), { camera: true });
      expect(w).toMatchObject({ group: 'demo', peer: 'alice' });
      expect(w.iceServers.map((s) => s.urls[0])).toEqual([
        kind === 'node' ? `stun:${lab.outer}:${host.stunPort}` : `stun:${lab.outer}:${TURN_PORT}`,
        `turn:${lab.outer}:${TURN_PORT}?transport=udp`,
      ]);
      await start(bob, await token('bob'), { camera: true });
      expect(await dial(alice, 'bob')).toEqual({ ok: true });
      expect(await send(alice, 'hello bob')).toBe(true);
      await inbox(bob, 'hello bob');
      expect(await send(bob, 'hello alice')).toBe(true);
      await inbox(alice, 'hello alice');
      // Bob's fake camera reaches Alice and decodes into frames.
      await alice.waitForFunction(
        () => {
          const v = (window as unknown as { video?: HTMLVideoElement }).video;
          return v !== undefined && v.videoWidth > 0 && v.currentTime > 0;
        },
        undefined,
        { timeout: 20_000 },
      );
      const size = await alice.evaluate(() => {
        const v = (window as unknown as { video: HTMLVideoElement }).video;
        return { w: v.videoWidth, h: v.videoHeight };
      });
      expect(size.w).toBeGreaterThan(0);
      expect(
        await bob.evaluate(() => (window as unknown as { st: { tracks: number } }).st.tracks),
      ).toBeGreaterThan(0);
      await alice.close();
      await bob.close();
    });

    it('a policy that forbids the pair fails connect on both sides with the policy error', async () => {
      const carolOnly = [{ group: 'demo', peer: 'carol' }];
      const alice = await page();
      const bob = await page();
      await start(alice, await token('alice-p', carolOnly));
      await start(bob, await token('bob-p', carolOnly));
      expect(await dial(alice, 'bob-p')).toMatchObject({ ok: false, code: 'ERR_POLICY_DENIED' });
      expect(await dial(bob, 'alice-p')).toMatchObject({ ok: false, code: 'ERR_POLICY_DENIED' });
      // One-sided: Dave may call Alice, but her policy does not accept him: to Dave that is the
      // same answer as "offline", so her presence is not revealed.
      const dave = await page();
      await start(dave, await token('dave-p'));
      expect(await dial(dave, 'alice-p')).toMatchObject({
        ok: false,
        code: 'ERR_PEER_UNAVAILABLE',
      });
      for (const p of [alice, bob, dave]) await p.close();
    });

    it('forceRelay: the call comes up through coturn and the selected pair is relay on both sides', async () => {
      const alice = await page();
      const bob = await page();
      await start(alice, await token('alice-r'), { forceRelay: true });
      await start(bob, await token('bob-r'), { forceRelay: true });
      expect(await dial(alice, 'bob-r')).toEqual({ ok: true });
      expect(await send(alice, 'through the relay')).toBe(true);
      await inbox(bob, 'through the relay');
      const pair = (p: Page) =>
        p.evaluate(() => (window as unknown as { pair(): Promise<unknown> }).pair());
      expect(await pair(alice)).toEqual({ local: 'relay', remote: 'relay' });
      expect(await pair(bob)).toEqual({ local: 'relay', remote: 'relay' });
      await alice.close();
      await bob.close();
    });

    it('deleting the key closes both pages with ERR_KEY_REVOKED', async () => {
      const doomed = await newKey();
      const alice = await page();
      const bob = await page();
      await start(alice, await token('alice-k', undefined, doomed));
      await start(bob, await token('bob-k', undefined, doomed));
      expect(await dial(alice, 'bob-k')).toEqual({ ok: true });
      const d = await call(punch, 'DELETE', `/api/projects/${project}/keys/${doomed.kid}`, {
        token: account,
      });
      expect(d.status).toBe(204);
      for (const p of [alice, bob]) {
        await p.waitForFunction(
          () => (window as unknown as { st: { closes: unknown[] } }).st.closes.length > 0,
          undefined,
          {
            timeout: 10_000,
          },
        );
        const closes = await p.evaluate(
          () =>
            (window as unknown as { st: { closes: { code: number; reason: string }[] } }).st.closes,
        );
        expect(closes[0]).toMatchObject({ code: 4401 });
        expect(JSON.stringify(closes[0])).toMatch(/ERR_KEY_REVOKED|key-deleted/);
      }
      await alice.close();
      await bob.close();
    });

    it('a reloaded page is reconnected to, with no "ID taken"', async () => {
      const alice = await page();
      const bob = await page();
      await start(alice, await token('alice-l'));
      await start(bob, await token('bob-l'));
      expect(await dial(alice, 'bob-l')).toEqual({ ok: true });
      expect(await send(alice, 'before reload')).toBe(true);
      await inbox(bob, 'before reload');
      await bob.reload();
      await bob.waitForFunction(() => typeof (window as { start?: unknown }).start === 'function');
      await start(bob, await token('bob-l'));
      // Alice's side notices, starts a fresh call, and the new page accepts it.
      await bob.waitForFunction(
        () => (window as unknown as { st: { sessions: number } }).st.sessions > 0,
        undefined,
        {
          timeout: 30_000,
        },
      );
      expect(await send(bob, 'after reload')).toBe(true);
      await inbox(alice, 'after reload');
      const errors = await bob.evaluate(
        () => (window as unknown as { st: { errors: string[]; closes: unknown[] } }).st,
      );
      expect(errors.errors).toEqual([]);
      expect(errors.closes).toEqual([]);
      await alice.close();
      await bob.close();
    });

    it('a Node peer (werift) and a Chromium page exchange data-channel messages', async () => {
      const page1 = await page();
      await start(page1, await token('chrome-w'));
      const node = createPeer({
        url: punch,
        token: await token('node-w'),
        WebSocket: WebSocket,
        RTCPeerConnection: fromWerift(WeriftPeerConnection),
      });
      try {
        await node.ready;
        const session = await node.connect('demo', 'chrome-w', { dataChannels: ['chat'] });
        const chat = session.channels.get('chat')!;
        const got = new Promise<string>((resolve) => {
          chat.addEventListener('message', (e) => {
            resolve(String(e.data));
          });
        });
        if (chat.readyState !== 'open') {
          await new Promise((resolve) => {
            chat.addEventListener('open', resolve, { once: true });
          });
        }
        chat.send('from node');
        await inbox(page1, 'from node');
        expect(await send(page1, 'from chromium')).toBe(true);
        expect(await got).toBe('from chromium');
      } finally {
        node.close();
        await page1.close();
      }
    });

    it('no page errors', () => {
      expect(pageErrors).toEqual([]);
    });
  });
}

describe('on the Node host', () => {
  suite('node');
});
describe('on the Workers host (workerd)', () => {
  suite('workerd');
});
