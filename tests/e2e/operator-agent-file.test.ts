/**
 * The operator page in real Chromium shows the two lines that fetch the agent as one file and
 * run it with the operator's own link; copied from the page and run in a shell in an empty
 * directory, they download `punch.mjs` from the server and the agent registers.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createSession, type Created } from '../conformance/client.js';
import { startHost, type Host } from '../conformance/host.js';
import { chromiumSupport, launchChromium, type Browser } from './browser.js';

const support = chromiumSupport();
const curl = existsSync('/usr/bin/curl') ? { ok: true as const } : { ok: false as const };
const inCi = process.env.CI === 'true';
if (!support.ok && !inCi)
  console.warn(`\n!!! SKIPPING the operator agent-file test: ${support.why}\n`);
if (!curl.ok && !inCi)
  console.warn(
    '\n!!! SKIPPING running the copied lines: no /usr/bin/curl (apt-get install curl)\n',
  );

it.runIf(inCi)('CI has Chromium and curl for the operator agent-file test', () => {
  expect(support).toEqual({ ok: true });
  expect(curl).toEqual({ ok: true });
});

const BUILT = fileURLToPath(new URL('../../packages/web/dist/agent/punch.mjs', import.meta.url));

let host: Host;
let browser: Browser;
let created: Created;
const scratch: string[] = [];
/** Console errors and CSP violations: there must be none. */
const pageErrors: string[] = [];

async function mint(stream: string | null): Promise<string> {
  const r = await call(host.url, 'POST', `/api/session/${created.session}/tokens`, {
    token: created.token,
    body: { stream },
  });
  expect(r.status).toBe(201);
  return (r.json as { url: string }).url;
}

async function open(url: string): Promise<Page> {
  const page = await browser.context.newPage();
  page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(`console: ${m.text()}`);
  });
  await page.goto(url);
  await page.getByTestId('agent-file').waitFor();
  return page;
}

/** The two lines the page shows, in order: fetch, run. */
const lines = (page: Page): Promise<string[]> =>
  page.getByTestId('agent-file').locator('.copy-value').allTextContents();

describe.skipIf(!support.ok)('the operator page: getting the agent as one file', () => {
  beforeAll(async () => {
    host = await startHost();
    created = await createSession(host.url, { streams: ['cam-wide', 'cam-close'] });
    browser = await launchChromium({
      viewport: { width: 390, height: 844 },
      permissions: ['clipboard-read', 'clipboard-write'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await host?.stop();
    for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
  });

  it("shows the fetch and run lines with the operator's own link, and copies them", async () => {
    const url = await mint('cam-wide');
    const page = await open(url);
    expect(await lines(page)).toEqual([
      `curl -fsSO '${host.url}/agent/punch.mjs'`,
      `node punch.mjs peer '${url}' --send`,
    ]);
    await page.getByRole('button', { name: 'Copy Run the agent' }).click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(
      `node punch.mjs peer '${url}' --send`,
    );
    await page.getByLabel(/receives/).check();
    expect((await lines(page))[1]).toBe(`node punch.mjs peer '${url}' --receive`);
    await page.close();
  });

  it('the all-streams (MCR) page shows them too: one agent receives every stream, no --stream', async () => {
    const url = await mint(null);
    const page = await open(url);
    await page.getByTestId('all-streams').waitFor();
    expect(await lines(page)).toEqual([
      `curl -fsSO '${host.url}/agent/punch.mjs'`,
      `node punch.mjs peer '${url}' --receive`,
    ]);
    await page.getByRole('button', { name: 'Copy Run the agent' }).click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(
      `node punch.mjs peer '${url}' --receive`,
    );
    await page.close();
  });

  it.skipIf(!curl.ok)(
    'the copied lines, run in a shell in an empty directory, fetch the file and register',
    async () => {
      const url = await mint('cam-close');
      const page = await open(url);
      const [fetchLine, runLine] = await lines(page);
      await page.close();
      const dir = mkdtempSync(join(tmpdir(), 'punch-op-agent-'));
      scratch.push(dir);

      const fetched = await new Promise<number | null>((resolve) => {
        const sh = spawn('sh', ['-c', fetchLine!], { cwd: dir, stdio: 'ignore', timeout: 30_000 });
        sh.once('exit', resolve);
      });
      expect(fetched).toBe(0);
      expect(readdirSync(dir)).toEqual(['punch.mjs']);
      expect(readFileSync(join(dir, 'punch.mjs')).equals(readFileSync(BUILT))).toBe(true);

      // The run line as shown, plus machine-readable output and a free local port.
      const agent = spawn('sh', ['-c', `exec ${runLine!} --json --srt-listen 127.0.0.1:0`], {
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      agent.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
      const exited = new Promise<number | null>((resolve) => agent.once('exit', resolve));
      try {
        await new Promise<void>((resolve, reject) => {
          // Bounded: registered within 20 s, or the test fails with what the agent said.
          const timer = setTimeout(() => {
            reject(new Error(`no "registered" in 20 s:\n${stdout}\n${stderr}`));
          }, 20_000);
          agent.stdout.on('data', (c: Buffer) => {
            stdout += c.toString('utf8');
            if (/"event":"registered"/.test(stdout)) {
              clearTimeout(timer);
              resolve();
            }
          });
          agent.once('exit', (code) => {
            clearTimeout(timer);
            reject(new Error(`the agent exited (${code}) before registering:\n${stderr}`));
          });
        });
      } finally {
        agent.kill('SIGTERM');
      }
      const registered = stdout
        .split('\n')
        .filter((l) => l.includes('"event":"registered"'))
        .map((l) => JSON.parse(l) as { stream: string; role: string });
      expect(registered[0]).toMatchObject({ stream: 'cam-close', role: 'sender' });
      expect(await exited).toBe(0);
    },
  );

  it('raised no page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
