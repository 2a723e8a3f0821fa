/**
 * The dashboard as a LAN producer meets it: plain HTTP on an address other than localhost, so
 * no secure context and no Clipboard API. Chromium resolves `punch.test` to the loopback
 * `punch serve` (--host-resolver-rules), which makes the origin non-secure without leaving the
 * machine. Copy must still copy (the selection fallback), and the producer link the maker kept
 * must open the session when pasted where a token is asked for.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../conformance/client.js';
import { startHost, type Host } from '../conformance/host.js';
import { chromiumSupport, launchChromium, type Browser } from './browser.js';

const support = chromiumSupport();
const inCi = process.env.CI === 'true';
if (!support.ok && !inCi)
  console.warn(`\n!!! SKIPPING the plain-HTTP dashboard tests: ${support.why}\n`);

it.runIf(inCi)('CI has Chromium for the plain-HTTP dashboard tests', () => {
  expect(support).toEqual({ ok: true });
});

let host: Host;
let browser: Browser;
/** The dashboard's address as a LAN machine would see it: not localhost, not HTTPS. */
let lan = '';
let producerLink = '';
/** Console errors and CSP violations on any page: there must be none. */
const pageErrors: string[] = [];

async function open(url: string): Promise<Page> {
  const page = await browser.context.newPage();
  page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(`console: ${m.text()}`);
  });
  await page.goto(url);
  return page;
}

/** What the system clipboard holds, read from a page on a secure origin (loopback). */
async function clipboard(): Promise<string> {
  const reader = await browser.context.newPage();
  try {
    await reader.goto(`${host.url}/`);
    return await reader.evaluate(() => navigator.clipboard.readText());
  } finally {
    await reader.close();
  }
}

describe.skipIf(!support.ok)('the dashboard over plain HTTP from a LAN address', () => {
  beforeAll(async () => {
    host = await startHost();
    lan = host.url.replace('//127.0.0.1:', '//punch.test:');
    browser = await launchChromium({
      viewport: { width: 1280, height: 800 },
      args: ['--host-resolver-rules=MAP punch.test 127.0.0.1'],
    });
    // Only the loopback reader may read the clipboard: the page under test gets no API at all.
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], {
      origin: host.url,
    });
  });
  afterAll(async () => {
    await browser?.close();
    await host?.stop();
  });

  it('the producer link panel shows the link and the admin token, and Copy copies both', async () => {
    expect(lan).toMatch(/^http:\/\/punch\.test:\d+$/);
    const page = await open(`${lan}/`);
    // The premise: this page has no secure context, so no navigator.clipboard.
    expect(await page.evaluate(() => [window.isSecureContext, typeof navigator.clipboard])).toEqual(
      [false, 'undefined'],
    );
    const session = uniqueName('lan');
    await page.getByLabel(/^Name/).fill(session);
    await page.getByRole('button', { name: 'Create session' }).click();
    await page.waitForURL(`${lan}/session/${session}`);
    const token = await page.evaluate((s) => sessionStorage.getItem(`punch:admin:${s}`), session);
    expect(token).toMatch(/^p_/);

    const panel = page.getByTestId('producer-link');
    await panel.waitFor();
    producerLink = `${lan}/session/${session}#t=${token}`;
    // Both are shown as text a hand can select, not only behind a button.
    expect(await panel.getByLabel('Producer link', { exact: true }).textContent()).toBe(
      producerLink,
    );
    expect(await panel.getByLabel('Admin token', { exact: true }).textContent()).toBe(token);

    const copyLink = panel.getByRole('button', { name: 'Copy Producer link' });
    await copyLink.click();
    await expect.poll(() => copyLink.textContent()).toBe('Copied ✓');
    expect(await clipboard()).toBe(producerLink);

    const copyToken = panel.getByRole('button', { name: 'Copy Admin token' });
    await copyToken.click();
    await expect.poll(() => copyToken.textContent()).toBe('Copied ✓');
    expect(await clipboard()).toBe(token);
    await page.close();
  });

  it('"Open a session" takes the pasted producer link, and still refuses garbage', async () => {
    expect(producerLink).not.toBe('');
    const page = await open(`${lan}/`);
    const field = page.getByLabel('Admin token');
    await field.fill('not a token at all');
    await page.getByRole('button', { name: 'Open' }).click();
    await expect
      .poll(() => page.getByRole('alert').textContent())
      .toBe('That is not a Punch token (they start with p_).');

    await field.fill(producerLink);
    await page.getByRole('button', { name: 'Open' }).click();
    const session = new URL(producerLink).pathname;
    await page.waitForURL(`${lan}${session}`);
    await expect.poll(() => page.getByTestId('feed').textContent()).toContain('Live');
    await page.close();

    // Just the fragment, pasted on the session's own page in a tab without its token.
    const bare = await open(`${lan}${session}`);
    await bare.getByLabel('Admin token').fill(`#t=${new URL(producerLink).hash.slice(3)}`);
    await bare.getByRole('button', { name: 'Open' }).click();
    await expect.poll(() => bare.getByTestId('feed').textContent()).toContain('Live');
    await bare.close();
  });

  it('no page logged an error or a CSP violation', () => {
    expect(pageErrors).toEqual([]);
  });
});
