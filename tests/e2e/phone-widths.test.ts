/**
 * The operator page (and the producer's session page) on a phone, in real Chromium against a
 * real `punch serve`: at 320, 390 and 414 px nothing makes the page scroll sideways (a long
 * command, link or passphrase wraps or scrolls inside its own box), and a link with a damaged
 * token, or one for another session, says that it is not valid for this session.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSession, peerToken, uniqueName, type Created } from '../conformance/client.js';
import { startHost, type Host } from '../conformance/host.js';
import { chromiumSupport, launchChromium, type Browser } from './browser.js';

const support = chromiumSupport();
const inCi = process.env.CI === 'true';
if (!support.ok && !inCi)
  console.warn(`\n!!! SKIPPING the phone-width e2e tests: ${support.why}\n`);

it.runIf(inCi)('CI has Chromium for the phone-width tests', () => {
  expect(support).toEqual({ ok: true });
});

const WIDTHS = [320, 390, 414];

let host: Host;
let browser: Browser;
let created: Created;
let other: Created;
/** A peer token for one stream, and one for every stream (the longest command line). */
let streamToken = '';
let allToken = '';
const pageErrors: string[] = [];

async function open(url: string, width: number): Promise<Page> {
  const page = await browser.context.newPage();
  page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
  await page.setViewportSize({ width, height: 800 });
  await page.goto(url);
  return page;
}

/** How far the page scrolls sideways: its width beyond the viewport's, in CSS pixels. */
function sideways(page: Page): Promise<{ overflow: number; culprits: string[] }> {
  return page.evaluate(() => {
    const width = innerWidth;
    const culprits = Array.from(document.querySelectorAll('body *'))
      .filter((el) => el.getBoundingClientRect().right > width + 0.5)
      .map((el) => `${el.tagName.toLowerCase()}.${el.className}`)
      .slice(0, 8);
    return { overflow: document.documentElement.scrollWidth - width, culprits };
  });
}

describe.skipIf(!support.ok)('phone widths in Chromium', () => {
  beforeAll(async () => {
    host = await startHost();
    // Long names everywhere: the longest session and stream names the API takes.
    created = await createSession(host.url, {
      name: uniqueName('a-very-long-show-name-for-a-phone').slice(0, 63),
      streams: ['camera-wide-angle-on-the-balcony-left', 'cam-close'],
    });
    other = await createSession(host.url, { streams: ['cam-1'] });
    streamToken = await peerToken(host.url, created, 'camera-wide-angle-on-the-balcony-left');
    allToken = await peerToken(host.url, created, null);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await host?.stop();
  });

  for (const width of WIDTHS) {
    it(`${width} px: the operator page never scrolls sideways`, async () => {
      for (const token of [streamToken, allToken]) {
        const page = await open(`${host.url}/s/${created.session}?t=${token}`, width);
        await expect
          .poll(() => page.getByTestId('op-state').textContent())
          .not.toContain('Connecting');
        // The tally word stays whole on one line (it is read from across a room).
        expect(
          await page.evaluate(() => {
            const word = document.querySelector('.tally-word')!;
            const size = parseFloat(getComputedStyle(word).fontSize);
            return word.getBoundingClientRect().height < 1.5 * size;
          }),
        ).toBe(true);
        // The command (with its token) is on the page, and the page is no wider for it.
        await expect.poll(() => page.locator('.copy-value').first().textContent()).toContain(token);
        for (const role of ['sends', 'receives']) {
          const radio = page.getByLabel(new RegExp(`^${role}`));
          if ((await radio.count()) > 0) await radio.check();
          const s = await sideways(page);
          expect(s.overflow, `${role}, wider than ${width} px: ${s.culprits.join(', ')}`).toBe(0);
          expect(
            await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth),
          ).toBe(true);
        }
        await page.close();
      }
    });

    it(`${width} px: the producer's session page never scrolls sideways`, async () => {
      const page = await open(`${host.url}/session/${created.session}#t=${created.token}`, width);
      await expect.poll(() => page.getByTestId('feed').textContent()).toContain('Live');
      await expect.poll(() => page.locator('article[data-stream]').count()).toBe(2);
      const s = await sideways(page);
      expect(s.overflow, `wider than ${width} px: ${s.culprits.join(', ')}`).toBe(0);
      await page.close();
    });
  }

  it('a damaged token, or one for another session, is "not valid for this session"', async () => {
    const links = {
      garbage: `${host.url}/s/${created.session}?t=p_not-a-token`,
      mangled: `${host.url}/s/${created.session}?t=${streamToken.slice(0, 20)}`,
      'another session': `${host.url}/s/${created.session}?t=${await peerToken(host.url, other, 'cam-1')}`,
    };
    for (const [what, link] of Object.entries(links)) {
      const page = await open(link, 390);
      const panel = page.getByTestId('op-invalid');
      await expect.poll(() => panel.count(), { message: what }).toBe(1);
      expect(await panel.textContent(), what).toContain('This link is not valid for this session');
      expect(await page.getByText('No link').count(), what).toBe(0);
      expect(page.url(), what).toBe(`${host.url}/s/${created.session}`); // the token is gone
      expect((await sideways(page)).overflow, what).toBe(0);
      await page.close();
    }
    // The control: the same page with its own token is the operator page, and without any
    // token it still asks for the link.
    const good = await open(`${host.url}/s/${created.session}?t=${streamToken}`, 390);
    await expect.poll(() => good.getByTestId('tally-light').count()).toBe(1);
    expect(await good.getByTestId('op-invalid').count()).toBe(0);
    await good.close();
    const none = await open(`${host.url}/s/${created.session}`, 390);
    await expect.poll(() => none.getByText('No link').count()).toBe(1);
    expect(await none.getByTestId('op-invalid').count()).toBe(0);
    await none.close();
    expect(pageErrors).toEqual([]);
  });
});
