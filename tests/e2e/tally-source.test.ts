/**
 * The dashboard says where tally comes from (DESIGN.md "Tally from the switcher"), in real
 * Chromium against a real `punch serve`: a set that names its switcher (as `punch tally bridge`
 * sends it) shows "Tally from …"; a PGM press on the page takes over and shows "set by hand"
 * (last writer wins); the switcher's next set takes it back. (Peers never receive it at all:
 * tests/conformance/tally-origin.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createSession } from '../conformance/client.js';
import { startHost, type Host } from '../conformance/host.js';
import { chromiumSupport, launchChromium, type Browser } from './browser.js';

const support = chromiumSupport();
const inCi = process.env.CI === 'true';
if (!support.ok && !inCi)
  console.warn(`\n!!! SKIPPING the tally source e2e test: ${support.why}\n`);

it.runIf(inCi)('CI has Chromium for the tally source test', () => {
  expect(support).toEqual({ ok: true });
});

let host: Host;
let browser: Browser;

describe.skipIf(!support.ok)('where tally comes from, on the dashboard', () => {
  beforeAll(async () => {
    host = await startHost();
    browser = await launchChromium({ viewport: { width: 1280, height: 800 } });
  });
  afterAll(async () => {
    await browser?.close();
    await host?.stop();
  });

  it('shows the switcher, then a press by hand, then the switcher again', async () => {
    const created = await createSession(host.url, { streams: ['cam-wide', 'cam-close'] });
    const path = `/api/session/${created.session}`;
    const put = async (body: unknown): Promise<void> => {
      const r = await call(host.url, 'PUT', `${path}/tally`, { token: created.token, body });
      expect(r.status).toBe(200);
    };
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${host.url}/session/${created.session}#t=${created.token}`);
    await page.getByTestId('feed').filter({ hasText: 'Live' }).waitFor();
    const line = page.getByTestId('tally-origin');
    // Nothing set yet: no line.
    expect(await line.count()).toBe(0);

    // As the bridge sets it: pushed over the page's socket.
    const source = 'vMix at 10.0.0.5:8099';
    await put({ program: ['cam-wide'], preview: ['cam-close'], source });
    await line.filter({ hasText: source }).waitFor();
    expect(await line.textContent()).toMatch(
      /^Tally from vMix at 10\.0\.0\.5:8099, (just now|\d+ s ago)$/,
    );
    const pgm = page.locator('article[data-stream="cam-close"]').locator('button.pgm');
    expect(await pgm.getAttribute('aria-pressed')).toBe('false');

    // A press by hand wins, and says so.
    await pgm.click();
    await line.filter({ hasText: 'set by hand' }).waitFor();
    expect(await line.textContent()).toMatch(/^Tally set by hand, \S/);
    expect(await pgm.getAttribute('aria-pressed')).toBe('true');
    const view = await call(host.url, 'GET', path, { token: created.token });
    expect(view.json).toMatchObject({
      tally: { program: ['cam-wide', 'cam-close'] },
      tallyOrigin: { source: null },
    });

    // The switcher's next change takes it back.
    await put({ program: ['cam-close'], preview: [], source });
    await line.filter({ hasText: `Tally from ${source}` }).waitFor();

    // A reload reads it from the view, not only from pushes.
    await page.reload();
    await line.filter({ hasText: `Tally from ${source}` }).waitFor();

    // On a phone, the longest source wraps instead of widening the page.
    const long = `OBS at ${'studio-switcher-'.repeat(4)}rack-b.example:4455`.slice(0, 80);
    await put({ program: [], preview: [], source: long });
    await line.filter({ hasText: long }).waitFor();
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    if (process.env.TALLY_SHOT !== undefined)
      await page.screenshot({ path: process.env.TALLY_SHOT });
    expect(errors).toEqual([]);
    await page.close();
  });
});
