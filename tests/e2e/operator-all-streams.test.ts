/**
 * The operator page of an all-streams link (the MCR's), in real Chromium against a real
 * `punch serve`: every stream listed in the session's order with its tally light, its port
 * (9100 + i, where `punch peer --receive` delivers it) and its command; and a real receiving
 * agent started with that link registers every stream, which the page shows.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createSocket, type Socket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createSession, peerToken, type Created } from '../conformance/client.js';
import { startHost, type Host } from '../conformance/host.js';
import { chromiumSupport, launchChromium, type Browser } from './browser.js';

const CLI = fileURLToPath(new URL('../../packages/cli/bin/punch.js', import.meta.url));
const support = chromiumSupport();
const inCi = process.env.CI === 'true';
if (!support.ok && !inCi)
  console.warn(`\n!!! SKIPPING the all-streams operator page test: ${support.why}\n`);

it.runIf(inCi)('CI has Chromium for the all-streams operator page test', () => {
  expect(support).toEqual({ ok: true });
});

/** Where the page's picture goes, for a person to look at (as the dashboard test's do). */
const SHOTS = fileURLToPath(new URL('../../.punch-test/screenshots/', import.meta.url));

const NAMES = ['cam-wide', 'cam-close', '10'];

let host: Host;
let browser: Browser;
let page: Page;
let created: Created;
let token = '';
let agent: ChildProcess | undefined;
const pageErrors: string[] = [];

const rows = () => page.getByTestId('stream-row');
const row = (name: string) => page.locator(`[data-testid="stream-row"][data-stream="${name}"]`);

function bindUdp(port: number): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => {
      s.close();
      resolve(undefined);
    });
    s.bind(port, '127.0.0.1', () => {
      resolve(s);
    });
  });
}

/** A port P with P + 100 … P + 100 + n - 1 free too (the agent's source ports), released. */
async function freeBase(n: number): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const first = await bindUdp(0);
    if (first === undefined) continue;
    const port = first.address().port;
    const held = [first];
    for (let i = 0; i < n && port + 100 + i <= 65535; i++) {
      const s = await bindUdp(port + 100 + i);
      if (s !== undefined) held.push(s);
    }
    await Promise.all(held.map((s) => new Promise<void>((r) => s.close(r))));
    if (held.length === n + 1) return port;
  }
  throw new Error('no free UDP ports on 127.0.0.1 in 20 attempts');
}

describe.skipIf(!support.ok)('the operator page of an all-streams link', () => {
  beforeAll(async () => {
    host = await startHost();
    browser = await launchChromium({ viewport: { width: 390, height: 844 } });
    created = await createSession(host.url, { streams: NAMES });
    token = await peerToken(host.url, created, null);
  });
  afterAll(async () => {
    if (agent !== undefined && agent.exitCode === null) {
      const gone = new Promise((r) => agent?.once('exit', r));
      agent.kill('SIGTERM');
      await gone;
    }
    await browser?.close();
    await host?.stop();
  });

  it('lists every stream in the session order, each with its port and its command', async () => {
    page = await browser.context.newPage();
    page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(`console: ${m.text()}`);
    });
    await page.goto(`${host.url}/s/${created.session}?t=${token}`);
    // '10' last although it is a number (an object's keys would put it first): the session's order.
    await expect
      .poll(() => rows().evaluateAll((els) => els.map((e) => e.dataset.stream)))
      .toEqual(NAMES);
    expect(await page.getByTestId('stream-port').allTextContents()).toEqual([
      'srt://127.0.0.1:9100',
      'srt://127.0.0.1:9101',
      'srt://127.0.0.1:9102',
    ]);
    const server = host.url;
    // The one command for every stream, and each stream's own at its port.
    const commands = await page.locator('.copy-value').allTextContents();
    expect(commands[0]).toBe(`punch peer --server ${server} --token ${token} --receive`);
    expect(await row('cam-close').locator('.copy-value').textContent()).toBe(
      `punch peer --server ${server} --token ${token} --stream cam-close --receive --srt-target 127.0.0.1:9101`,
    );
    expect(await page.getByTestId('tally-light').textContent()).toBe('STANDBYall streams');
  });

  it("each row's tally light follows the session's tally", async () => {
    const set = async (program: string[], preview: string[]): Promise<void> => {
      const r = await call(host.url, 'PUT', `/api/session/${created.session}/tally`, {
        token: created.token,
        body: { program, preview },
      });
      expect(r.status).toBe(200);
    };
    const lights = () => rows().evaluateAll((els) => els.map((e) => e.dataset.tally));
    await set(['cam-close'], ['10']);
    await expect.poll(lights).toEqual(['none', 'program', 'preview']);
    expect(await row('cam-close').locator('.tally-badge').textContent()).toBe('ON AIR');
    expect(await row('10').locator('.tally-badge').textContent()).toBe('PREVIEW');
    expect(await row('cam-wide').locator('.tally-badge').textContent()).toBe('STANDBY');
    // Coloured as well as worded: the program row's edge is the program red.
    const edge = await row('cam-close').evaluate((e) => getComputedStyle(e).borderLeftColor);
    expect(edge).toBe('rgb(217, 45, 32)');
    mkdirSync(SHOTS, { recursive: true });
    await row('cam-wide').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, 'operator-all-streams-phone.png') });
    await set(['cam-wide'], []);
    await expect.poll(lights).toEqual(['program', 'none', 'none']);
  });

  it('`punch peer LINK --receive` with this link registers every stream; each row says so', async () => {
    const base = await freeBase(NAMES.length);
    agent = spawn(process.execPath, [
      CLI,
      'peer',
      `${host.url}/s/${created.session}?t=${token}`,
      '--receive',
      '--json',
      '--no-lan',
      '--bind',
      '127.0.0.1',
      '--srt-target',
      `127.0.0.1:${base}`,
    ]);
    const states = () =>
      rows().evaluateAll((els) =>
        els.map((e) => e.querySelector('[data-state]')?.getAttribute('data-state')),
      );
    await expect.poll(states, { timeout: 15_000 }).toEqual(['waiting', 'waiting', 'waiting']);
    expect(pageErrors).toEqual([]);
  });
});
