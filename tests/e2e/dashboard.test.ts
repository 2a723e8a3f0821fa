/**
 * The producer dashboard and the operator page in real Chromium, against a real `punch serve`.
 * Peers are protocol clients (WebSocket + STUN over UDP) standing in for agents, so the test
 * controls exactly what health the dashboard is shown. Screenshots of both pages at desktop and
 * phone sizes go to .punch-test/screenshots (UPDATE_SCREENSHOTS=1: docs/screenshots, which the
 * README shows).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import jsqr from 'jsqr';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UdpPeer, WsClient, uniqueName } from '../conformance/client.js';
import { startHost, type Host } from '../conformance/host.js';
import { chromiumSupport, launchChromium, type Browser } from './browser.js';

// jsqr's CommonJS default export: see packages/core/src/qr.test.ts.
const jsQR = jsqr.default;

const support = chromiumSupport();
const inCi = process.env.CI === 'true';
if (!support.ok && !inCi) console.warn(`\n!!! SKIPPING the dashboard e2e tests: ${support.why}\n`);

it.runIf(inCi)('CI has Chromium for the dashboard tests', () => {
  expect(support).toEqual({ ok: true });
});

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SHOTS =
  process.env.UPDATE_SCREENSHOTS === '1'
    ? join(ROOT, 'docs', 'screenshots')
    : join(ROOT, '.punch-test', 'screenshots');
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

let host: Host;
let browser: Browser;
let dash: Page;
let op: Page;
let session = '';
let operatorUrl = '';
/** Console errors and CSP violations on any page: there must be none. */
const pageErrors: string[] = [];

function watch(page: Page): Page {
  page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(`console: ${m.text()}`);
  });
  return page;
}

async function shot(page: Page, name: string, size: { width: number; height: number }) {
  mkdirSync(SHOTS, { recursive: true });
  await page.setViewportSize(size);
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false });
}

const card = (stream: string) => dash.locator(`article[data-stream="${stream}"]`);
const adminToken = (): Promise<string | null> =>
  dash.evaluate((s) => sessionStorage.getItem(`punch:admin:${s}`), session);

describe.skipIf(!support.ok)('dashboard and operator page in Chromium', () => {
  beforeAll(async () => {
    host = await startHost();
    browser = await launchChromium({
      viewport: DESKTOP,
      permissions: ['clipboard-read', 'clipboard-write'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await host?.stop();
  });

  it('a producer creates a session in the UI; the token never stays in the address bar', async () => {
    dash = watch(await browser.context.newPage());
    session = uniqueName('show');
    await dash.goto(`${host.url}/`);
    await dash.getByLabel(/^Name/).fill(session);
    await dash.getByLabel(/^Stream slots/).fill('cam-wide, cam-close');
    await dash.getByLabel(/^Lasts/).selectOption({ label: '1 hour' });
    await dash.getByRole('button', { name: 'Create session' }).click();

    await dash.waitForURL(`${host.url}/session/${session}`);
    await expect.poll(() => dash.getByTestId('feed').textContent()).toContain('Live');
    await expect
      .poll(() =>
        dash.locator('article[data-stream]').getByRole('heading', { level: 2 }).allTextContents(),
      )
      .toEqual(['cam-wide', 'cam-close']);
    expect(dash.url()).not.toContain('p_');
    const token = await adminToken();
    expect(token).toMatch(/^p_/);
    // The token in this tab is the session's admin token: the API accepts it.
    const r = await fetch(`${host.url}/api/session/${session}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(r.status).toBe(200);
    await expect
      .poll(() => card('cam-wide').getByTestId('sender').textContent())
      .toBe('not connected');
    // A default session relays only when it must: no privacy badge.
    expect(await dash.getByTestId('relay-mode').count()).toBe(0);
  });

  it('the maker is shown a producer link once, to keep: it reopens the session in a fresh tab', async () => {
    const panel = dash.getByTestId('producer-link');
    await expect.poll(() => panel.isVisible()).toBe(true);
    expect(await panel.textContent()).toContain('This link is the key to the session');
    const link = await panel.getByLabel('Producer link', { exact: true }).textContent();
    expect(link).toBe(`${host.url}/session/${session}#t=${await adminToken()}`);
    expect(await panel.getByLabel('Admin token', { exact: true }).textContent()).toBe(
      await adminToken(),
    );
    await panel.getByRole('button', { name: 'Copy Producer link' }).click();
    await expect.poll(() => dash.evaluate(() => navigator.clipboard.readText())).toBe(link);
    // A fresh tab (no token in its storage) opens the session from the link alone.
    const other = watch(await browser.context.newPage());
    await other.goto(link!);
    await expect.poll(() => other.getByTestId('feed').textContent()).toContain('Live');
    expect(other.url()).toBe(`${host.url}/session/${session}`);
    expect(await other.getByTestId('producer-link').count()).toBe(0); // shown to the maker only
    await other.close();
    // Once kept, it is not shown again, not even after a reload.
    await dash.getByRole('button', { name: 'I have kept it' }).click();
    expect(await panel.count()).toBe(0);
    await dash.reload();
    await expect.poll(() => dash.getByTestId('feed').textContent()).toContain('Live');
    expect(await dash.getByTestId('producer-link').count()).toBe(0);
  });

  it("the form refuses stream names the API would refuse, in the API's words, before sending", async () => {
    const page = watch(await browser.context.newPage());
    await page.goto(`${host.url}/`);
    const name = uniqueName('form');
    await page.getByLabel(/^Name/).fill(name);
    await page.getByLabel(/^Stream slots/).fill('Cam Wide, cam-close');
    await page.getByRole('button', { name: 'Create session' }).click();
    await expect
      .poll(() => page.getByRole('alert').textContent())
      .toContain('"Cam Wide": lowercase letters, digits and "-"');
    expect(page.url()).toBe(`${host.url}/`);
    // Nothing was created: the name is still free.
    const r = await fetch(`${host.url}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name }),
    });
    expect(r.status).toBe(201);
    await page.close();
  });

  it('"Always relay" makes an IP-privacy session, and its page says so', async () => {
    const page = watch(await browser.context.newPage());
    const name = uniqueName('private');
    await page.goto(`${host.url}/`);
    await page.getByLabel(/^Name/).fill(name);
    await page.getByLabel(/^Always relay/).check();
    await page.getByRole('button', { name: 'Create session' }).click();
    await page.waitForURL(`${host.url}/session/${name}`);
    await expect
      .poll(() => page.getByTestId('relay-mode').textContent())
      .toBe('Always relayed (IP privacy)');
    const token = await page.evaluate((n) => sessionStorage.getItem(`punch:admin:${n}`), name);
    const r = await fetch(`${host.url}/api/session/${name}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(((await r.json()) as { relay: string }).relay).toBe('always');
    await page.close();
  });

  it("an invite's QR code decodes to the operator URL, which opens her stream's page", async () => {
    await card('cam-wide')
      .getByRole('button', { name: /^Invite/ })
      .click();
    const qr = card('cam-wide').locator('img.qr');
    await qr.waitFor();
    // Draw the QR image the page shows onto a canvas and decode its pixels.
    const pixels = await qr.evaluate(async (img: HTMLImageElement) => {
      await img.decode();
      const size = 400;
      const canvas = document.createElement('canvas');
      canvas.width = size;
      canvas.height = size;
      const g = canvas.getContext('2d')!;
      g.fillStyle = '#fff';
      g.fillRect(0, 0, size, size);
      g.drawImage(img, 20, 20, size - 40, size - 40);
      return Array.from(g.getImageData(0, 0, size, size).data);
    });
    const decoded = jsQR(Uint8ClampedArray.from(pixels), 400, 400);
    expect(decoded).not.toBeNull();
    operatorUrl = decoded!.data;
    expect(operatorUrl).toMatch(new RegExp(`^${host.url}/s/${session}\\?t=p_`));
    expect(await card('cam-wide').locator('.invite code').textContent()).toBe(operatorUrl);

    op = watch(await browser.context.newPage());
    await op.setViewportSize(PHONE);
    await op.goto(operatorUrl);
    await expect.poll(() => op.getByTestId('tally-light').textContent()).toBe('STANDBYcam-wide');
    await expect.poll(() => op.getByTestId('op-state').textContent()).toContain('Idle');
    expect(op.url()).toBe(`${host.url}/s/${session}`); // the token left the address bar

    // The exact command to run, with her token, copied by the Copy button.
    const token = new URL(operatorUrl).searchParams.get('t')!;
    const command = `punch peer --server ${host.url} --token ${token} --stream cam-wide --send`;
    expect(await op.locator('.copy-value').first().textContent()).toBe(command);
    await op.getByRole('button', { name: 'Copy Command' }).click();
    expect(await op.evaluate(() => navigator.clipboard.readText())).toBe(command);
    await op.getByLabel(/receives/).check();
    expect(await op.locator('.copy-value').first().textContent()).toContain('--receive');
    expect(await op.getByTestId('local-url').textContent()).toBe('srt://127.0.0.1:9100');
    await op.getByLabel(/sends/).check();
  });

  it('PGM on the dashboard turns the operator page red (ON AIR); PVW by keyboard turns it green', async () => {
    const light = async (): Promise<string> =>
      op
        .locator('main')
        .evaluate(
          (m) =>
            `${m.dataset.tally} ${getComputedStyle(m.querySelector('.tally-light')!).backgroundColor}`,
        );
    const clicked = Date.now();
    await card('cam-wide').getByRole('button', { name: /^PGM/ }).click();
    await expect.poll(light).toBe('program rgb(217, 45, 32)');
    console.log(`tally: operator page red ${Date.now() - clicked} ms after the click`);
    expect(await op.getByTestId('tally-light').textContent()).toBe('ON AIRcam-wide');
    await expect.poll(() => card('cam-wide').locator('.tally-badge').textContent()).toBe('ON AIR');
    expect(
      await card('cam-wide').getByRole('button', { name: /^PGM/ }).getAttribute('aria-pressed'),
    ).toBe('true');

    // Keyboard only: Tab to cam-wide's PVW button and press Enter.
    let focused = '';
    for (let i = 0; i < 40 && !focused.startsWith('PVW (preview) for cam-wide'); i++) {
      await dash.keyboard.press('Tab');
      focused = await dash.evaluate(() => document.activeElement?.textContent ?? '');
    }
    expect(focused).toBe('PVW (preview) for cam-wide');
    await dash.keyboard.press('Enter');
    await expect.poll(light).toBe('preview rgb(21, 128, 61)');
    expect(await op.getByTestId('tally-light').textContent()).toBe('PREVIEWcam-wide');

    // Another stream's tally is not hers: her light stays as it is.
    await card('cam-close').getByRole('button', { name: /^PGM/ }).click();
    await expect.poll(() => card('cam-close').locator('.tally-badge').textContent()).toBe('ON AIR');
    const ws = await WsClient.connect(
      host.url,
      session,
      new URL(operatorUrl).searchParams.get('t')!,
    );
    expect((await ws.next('welcome')).tally).toEqual({ program: [], preview: ['cam-wide'] });
    ws.close();
    expect(await op.getByTestId('tally-light').textContent()).toBe('PREVIEWcam-wide');
  });

  it('health from the peers draws on the chart; a degraded link and a drop raise alerts', async () => {
    const peerToken = new URL(operatorUrl).searchParams.get('t')!;
    const sender = await WsClient.connect(host.url, session, peerToken);
    const receiver = await WsClient.connect(host.url, session, (await adminToken())!);
    const udp = [await UdpPeer.open(), await UdpPeer.open()];
    for (const [i, [ws, role]] of (
      [
        [sender, 'sender'],
        [receiver, 'receiver'],
      ] as const
    ).entries()) {
      ws.send({ type: 'register', stream: 'cam-wide', role });
      const bind = (await ws.next('registered')).bind as {
        host: string;
        port: number;
        username: string;
      };
      await udp[i]!.stun('127.0.0.1', bind.port, bind.username);
    }
    await sender.next('peer');
    await expect.poll(() => card('cam-wide').locator('.state').textContent()).toContain('Paired');

    // Two reports a second from each side, for a few seconds: the chart fills from the feed.
    const report = (k: number, lossPct: number) => {
      const wobble = Math.sin(k / 2);
      sender.send({
        type: 'health',
        stream: 'cam-wide',
        role: 'sender',
        stats: {
          path: 'direct',
          rttMs: 24 + 4 * wobble,
          sendBps: 8.2e6 + 3e5 * wobble,
          lossPct: 0,
        },
      });
      receiver.send({
        type: 'health',
        stream: 'cam-wide',
        role: 'receiver',
        stats: { path: 'direct', rttMs: 25 + 4 * wobble, recvBps: 8e6 + 4e5 * wobble, lossPct },
      });
    };
    for (let k = 0; k < 16; k++) {
      report(k, 0.1);
      await new Promise((r) => setTimeout(r, 500)); // the agents' pace, not a wait for a result
    }
    await expect
      .poll(() => card('cam-wide').locator('.state').textContent())
      .toContain('Connected (direct)');
    await expect
      .poll(() => card('cam-wide').getByTestId('bitrate').textContent())
      .toMatch(/^[78]\.\d Mbit\/s$/);
    expect(await card('cam-wide').getByTestId('rtt').textContent()).toMatch(/^\d+ ms$/);
    expect(await card('cam-wide').getByTestId('sender').textContent()).toBe('live, direct path');
    const chart = card('cam-wide').locator('.chart');
    expect(Number(await chart.getAttribute('data-points'))).toBeGreaterThanOrEqual(5);
    // The bitrate line (#4c9aff) is on the canvas: count its pixels.
    const bitratePixels = (c: typeof chart) =>
      c.locator('canvas').evaluate((canvas: HTMLCanvasElement) => {
        const d = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) {
          if (
            Math.abs(d[i]! - 76) < 12 &&
            Math.abs(d[i + 1]! - 154) < 12 &&
            d[i + 2]! > 235 &&
            d[i + 3]! > 200
          )
            n++;
        }
        return n;
      });
    expect(await bitratePixels(chart)).toBeGreaterThan(50);
    expect(await bitratePixels(card('cam-close').locator('.chart'))).toBe(0);
    expect(await op.getByTestId('op-state').textContent()).toContain('Connected (direct)');

    // Commands: the passphrase and ready-to-paste lines from /connect, with copy buttons.
    await card('cam-wide')
      .getByRole('button', { name: /^Commands/ })
      .click();
    const connect = (await (
      await fetch(`${host.url}/api/session/${session}/connect`, {
        headers: { authorization: `Bearer ${(await adminToken())!}` },
      })
    ).json()) as {
      passphrase: string;
      streams: { name: string; passphrase: string; commands: Record<string, string> }[];
    };
    const panel = card('cam-wide').getByTestId('connect');
    await panel.waitFor();
    const values = await panel.locator('.copy-value').allTextContents();
    const wide = connect.streams.find((x) => x.name === 'cam-wide')!;
    expect(values[0]).toBe(wide.passphrase);
    // The punch peer lines carry a real operator link instead (tests/e2e/connect-panel.test.ts).
    for (const tool of [
      'ffmpeg-send',
      'gstreamer-send',
      'srt-live-transmit-receive',
      'obs',
      'vmix',
    ]) {
      expect(values).toContain(wide.commands[tool]);
    }
    await panel.getByRole('button', { name: 'Copy ffmpeg → agent (send)' }).click();
    expect(await dash.evaluate(() => navigator.clipboard.readText())).toBe(
      wide.commands['ffmpeg-send'],
    );
    await card('cam-wide')
      .getByRole('button', { name: /^Commands/ })
      .click();

    // Loss over the threshold: an alert that says what and how much.
    report(99, 6);
    await expect
      .poll(() => dash.getByTestId('alerts').textContent())
      .toContain('Degraded: loss 6.0 %');
    expect(await card('cam-wide').getByTestId('condition').textContent()).toContain('loss 6.0 %');
    for (let k = 100; k < 104; k++) {
      report(k, 0.1); // the next seconds are clean again
      await new Promise((r) => setTimeout(r, 500));
    }
    await expect.poll(() => dash.getByTestId('alerts').textContent()).toContain('Recovered');

    // Screenshots of a live session (the README opens with the dashboard one).
    await card('cam-wide')
      .getByRole('button', { name: /^Invite/ })
      .click(); // fold the invite away
    await card('cam-wide').getByRole('button', { name: /^PGM/ }).click();
    await card('cam-close').getByRole('button', { name: /^PVW/ }).click();
    await expect.poll(() => op.getByTestId('tally-light').textContent()).toBe('ON AIRcam-wide');
    await expect
      .poll(() => card('cam-close').locator('.tally-badge').textContent())
      .toBe('PREVIEW');
    await shot(dash, 'dashboard-desktop', DESKTOP);
    await shot(dash, 'dashboard-phone', PHONE);
    await dash.setViewportSize(DESKTOP);
    await shot(op, 'operator-phone', PHONE);
    await shot(op, 'operator-desktop', DESKTOP);
    await op.setViewportSize(PHONE);

    // Accessibility, checked by axe-core on both pages in this state.
    const axeSource = readFileSync(join(ROOT, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
    for (const page of [dash, op]) {
      await page.evaluate(axeSource);
      const serious = await page.evaluate(async () => {
        const axe = (
          window as unknown as {
            axe: {
              run: () => Promise<{
                violations: { id: string; impact: string; nodes: unknown[] }[];
              }>;
            };
          }
        ).axe;
        const r = await axe.run();
        return r.violations
          .filter((v) => v.impact === 'serious' || v.impact === 'critical')
          .map((v) => `${v.id} (${v.nodes.length})`);
      });
      expect(serious, page.url()).toEqual([]);
    }

    // The receiver drops: the dashboard says so.
    receiver.close();
    await expect
      .poll(() => dash.getByTestId('alerts').textContent())
      .toContain('Link dropped: one side left');
    expect(await card('cam-wide').getByTestId('receiver').textContent()).toBe('not connected');
    sender.close();
    for (const u of udp) u.close();
  });

  it('a path up with no media raises "No signal": red on program, amber otherwise; "Recovered" only once media flows again; a takeover shows on the card', async () => {
    const peerToken = new URL(operatorUrl).searchParams.get('t')!;
    // The previous test's peers are gone before new ones take the slots.
    await expect
      .poll(() => card('cam-wide').getByTestId('sender').textContent())
      .toBe('not connected');
    const sender = await WsClient.connect(host.url, session, peerToken);
    const receiver = await WsClient.connect(host.url, session, (await adminToken())!);
    const udp = [await UdpPeer.open(), await UdpPeer.open()];
    for (const [i, [ws, role]] of (
      [
        [sender, 'sender'],
        [receiver, 'receiver'],
      ] as const
    ).entries()) {
      ws.send({ type: 'register', stream: 'cam-wide', role });
      const bind = (await ws.next('registered')).bind as {
        host: string;
        port: number;
        username: string;
      };
      await udp[i]!.stun('127.0.0.1', bind.port, bind.username);
    }
    await sender.next('peer');
    // Both agents report once every 500 ms with the media rate of the moment (at most 120 each).
    let mediaBps = 4e6;
    let reports = 0;
    const pace = setInterval(() => {
      if (++reports > 120) clearInterval(pace);
      for (const [ws, role] of [
        [sender, 'sender'],
        [receiver, 'receiver'],
      ] as const) {
        ws.send({
          type: 'health',
          stream: 'cam-wide',
          role,
          stats: { path: 'direct', rttMs: 20, sendBps: mediaBps + 2000, mediaBps, lossPct: 0 },
        });
      }
    }, 500);
    const alerts = () => dash.locator('.alert').allTextContents();
    const recovered = async () => (await alerts()).filter((t) => t.includes('Recovered')).length;
    const condition = () =>
      card('cam-wide')
        .getByTestId('condition')
        .evaluate((el) => `${el.dataset.level} ${getComputedStyle(el).color}`);
    // The state label above the alarm line: it must not say amber while the alarm says red.
    const stateColour = () =>
      card('cam-wide')
        .locator('.state')
        .evaluate((el) => getComputedStyle(el).color);
    try {
      await expect
        .poll(() => card('cam-wide').locator('.state').textContent())
        .toContain('Connected (direct)');
      expect(await card('cam-wide').locator('.tally-badge').textContent()).toBe('ON AIR');
      const recoveredBefore = await recovered();

      // The encoder stops on a stream that is on program: a red alarm.
      mediaBps = 0;
      await expect
        .poll(() => card('cam-wide').locator('.state').textContent(), { timeout: 15_000 })
        .toContain('No signal');
      await expect.poll(condition).toBe('critical rgb(255, 99, 105)');
      expect(await stateColour()).toBe('rgb(255, 99, 105)');
      const red = dash.locator('.alert', { hasText: 'No signal' }).first();
      expect(await red.getAttribute('class')).toContain('alert-critical');
      expect(await red.textContent()).toContain('(on program)');

      // Off program, the same silence is amber.
      await card('cam-wide').getByRole('button', { name: /^PVW/ }).click();
      await expect.poll(condition).toBe('warning rgb(245, 165, 36)');
      expect(await stateColour()).toBe('rgb(245, 165, 36)');
      expect(await dash.locator('.alert').first().getAttribute('class')).toContain('alert-warning');
      expect(await dash.locator('.alert').first().textContent()).toContain('No signal');
      // A little under 10 kbit/s is still no media: no recovery.
      mediaBps = 9_000;
      const mark = reports;
      await expect.poll(() => reports, { timeout: 5000 }).toBeGreaterThan(mark + 3);
      expect(await card('cam-wide').locator('.state').textContent()).toContain('No signal');
      expect(await recovered()).toBe(recoveredBefore);

      // Media again: connected, and only now "Recovered".
      mediaBps = 3e6;
      await expect.poll(recovered, { timeout: 15_000 }).toBe(recoveredBefore + 1);
      expect(await dash.locator('.alert').first().textContent()).toContain('Recovered');
      expect(await card('cam-wide').locator('.state').textContent()).toContain('Connected');
      expect(await card('cam-wide').getByTestId('condition').count()).toBe(0);

      // Another agent takes the live sender's slot over: the card says so, and when.
      expect(await card('cam-wide').getByTestId('takeover').count()).toBe(0);
      const fresh = await WsClient.connect(host.url, session, peerToken);
      fresh.send({ type: 'register', stream: 'cam-wide', role: 'sender', takeover: true });
      await fresh.next('registered');
      expect((await sender.next('error')).code).toBe('ERR_REPLACED');
      await expect
        .poll(() => card('cam-wide').getByTestId('takeover').textContent())
        .toMatch(/^⇄ Sender replaced by a new agent \(takeover\) at \d{1,2}:\d{2}:\d{2}/);
      expect(await dash.locator('.alert').allTextContents()).toContainEqual(
        expect.stringContaining('Sender replaced by a new agent (takeover)'),
      );
      fresh.close();
    } finally {
      clearInterval(pace);
      sender.close();
      receiver.close();
      for (const u of udp) u.close();
    }
  });

  it('another tab opens the session with the admin token; extend moves the countdown', async () => {
    const other = watch(await browser.context.newPage());
    await other.goto(`${host.url}/`);
    await other.getByLabel('Admin token').fill((await adminToken())!);
    await other.getByRole('button', { name: 'Open' }).click();
    await other.waitForURL(`${host.url}/session/${session}`);
    await expect
      .poll(() => other.getByRole('heading', { level: 2 }).allTextContents())
      .toEqual(['cam-wide', 'cam-close']);
    // A page opened later draws the chart from the stored health history.
    await expect
      .poll(async () =>
        Number(
          await other.locator('article[data-stream="cam-wide"] .chart').getAttribute('data-points'),
        ),
      )
      .toBeGreaterThanOrEqual(5);
    await other.close();

    // The link `punch session create` prints: the token in the fragment, gone after load.
    const linked = watch(await browser.context.newPage());
    await linked.goto(`${host.url}/session/${session}#t=${(await adminToken())!}`);
    await expect.poll(() => linked.getByTestId('feed').textContent()).toContain('Live');
    expect(linked.url()).toBe(`${host.url}/session/${session}`);
    await linked.close();

    const seconds = async (): Promise<number> => {
      const text = (await dash.getByTestId('ttl').textContent()) ?? '';
      const parts = /Expires in ([\d:]+)/.exec(text)![1]!.split(':').map(Number);
      return parts.reduce((a, b) => a * 60 + b, 0);
    };
    const before = await seconds();
    expect(before).toBeLessThanOrEqual(3600);
    const oldToken = await adminToken();
    await dash.getByRole('button', { name: 'Extend 30 min' }).click();
    await expect.poll(seconds).toBeGreaterThan(before + 1700);
    expect(await adminToken()).not.toBe(oldToken); // PATCH returned a fresh admin token
  });

  it("a laptop whose clock runs two hours fast shows the server's countdown and extends from it", async () => {
    const token = (await adminToken())!;
    const expiresAt = async (): Promise<number> => {
      const r = await fetch(`${host.url}/api/session/${session}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      return ((await r.json()) as { expiresAt: number }).expiresAt;
    };
    const before = await expiresAt();
    const skewed = await launchChromium({ viewport: DESKTOP }); // the clock is per browser
    try {
      await skewed.context.clock.install({ time: Date.now() + 2 * 3600_000 });
      const page = await skewed.context.newPage();
      page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
      await page.goto(`${host.url}/session/${session}#t=${token}`);
      await expect.poll(() => page.getByTestId('feed').textContent()).toContain('Live');
      // Within a few seconds of the true time left, once the ping has measured the offset.
      const shown = async (): Promise<number> => {
        const m = /Expires in ([\d:]+)/.exec((await page.getByTestId('ttl').textContent()) ?? '');
        return m === null
          ? -1
          : m[1]!
              .split(':')
              .map(Number)
              .reduce((a, b) => a * 60 + b, 0);
      };
      await expect
        .poll(async () => Math.abs((await shown()) - (before - Date.now() / 1000)))
        .toBeLessThan(10);
      await page.getByRole('button', { name: 'Extend 30 min' }).click();
      // Extended from the server's expiry (a naive client would have cut it to 30 minutes).
      await expect.poll(expiresAt).toBeGreaterThan(before + 1700);
    } finally {
      await skewed.close();
    }
  });

  it('closing the session (after a confirmation) shows it closed on both pages', async () => {
    const t0 = Date.now();
    const mark = (what: string): void => {
      console.log(`close: ${what} at ${Date.now() - t0} ms`);
    };
    await dash.getByRole('button', { name: 'Close session' }).click();
    const dialog = dash.getByRole('dialog');
    await expect.poll(() => dialog.isVisible()).toBe(true);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => dialog.isVisible()).toBe(false);
    const token = (await adminToken())!;
    const still = await fetch(`${host.url}/api/session/${session}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(still.status).toBe(200);

    mark('cancelled');
    await dash.getByRole('button', { name: 'Close session' }).click();
    await dialog.getByRole('button', { name: 'Close session' }).click();
    mark('confirmed');
    await expect.poll(() => dash.getByTestId('ended').textContent()).toContain('Session ended');
    expect(await dash.getByRole('button', { name: /^PGM/ }).first().isDisabled()).toBe(true);
    mark('dashboard ended');
    await expect.poll(() => op.getByTestId('tally-light').textContent()).toBe('ENDEDcam-wide');
    mark('operator ended');
    expect(await op.getByTestId('op-state').textContent()).toContain('the session was closed');
    const gone = await fetch(`${host.url}/api/session/${session}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(gone.status).toBe(404);

    // The old invite link, opened later: the page says the session has ended, not "connecting".
    // (Chromium logs the refused handshake and the 404 itself: only script errors count here.)
    const late = await browser.context.newPage();
    late.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
    await late.goto(operatorUrl);
    await expect
      .poll(() => late.getByTestId('op-state').textContent())
      .toBe('Session ended: the session has ended.');
    await late.close();
  });

  it('no page logged an error or a CSP violation', () => {
    expect(pageErrors).toEqual([]);
  });
});
