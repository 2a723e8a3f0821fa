/**
 * The dashboard's Commands panel in real Chromium against a real `punch serve`: its `punch peer`
 * lines carry a real operator link for the stream (never a `$PUNCH_TOKEN` placeholder), and the
 * line pasted into a shell as shown starts an agent that Punch registers on that stream.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSession } from '../conformance/client.js';
import { startHost, type Host } from '../conformance/host.js';
import { chromiumSupport, launchChromium, type Browser } from './browser.js';

const CLI = fileURLToPath(new URL('../../packages/cli/bin/punch.js', import.meta.url));
const support = chromiumSupport();
const inCi = process.env.CI === 'true';
if (!support.ok && !inCi)
  console.warn(`\n!!! SKIPPING the Commands panel e2e test: ${support.why}\n`);

it.runIf(inCi)('CI has Chromium for the Commands panel test', () => {
  expect(support).toEqual({ ok: true });
});

let host: Host;
let browser: Browser;
let agent: ChildProcess | undefined;

/** A UDP port free now, for the agent's loopback SRT listener (9000 may be taken by others). */
async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => {
    s.bind(0, '127.0.0.1', resolve);
  });
  const { port } = s.address();
  await new Promise<void>((resolve) => {
    s.close(resolve);
  });
  return port;
}

describe.skipIf(!support.ok)('the Commands panel in Chromium', () => {
  beforeAll(async () => {
    host = await startHost();
    browser = await launchChromium({ viewport: { width: 1280, height: 800 } });
  });
  afterAll(async () => {
    if (agent !== undefined && agent.exitCode === null && agent.signalCode === null) {
      const gone = new Promise((resolve) => agent?.once('exit', resolve));
      agent.kill('SIGTERM');
      await gone;
    }
    await browser?.close();
    await host?.stop();
  });

  it('shows punch peer lines with a real operator link that an agent can join with', async () => {
    const created = await createSession(host.url, { streams: ['cam-wide', 'cam-close'] });
    const page = await browser.context.newPage();
    await page.goto(`${host.url}/session/${created.session}#t=${created.token}`);
    const card = page.locator('article[data-stream="cam-wide"]');
    await card.getByRole('button', { name: /^Commands/ }).click();
    const panel = card.getByTestId('connect');
    await panel.waitFor();

    expect(await panel.textContent()).not.toContain('PUNCH_TOKEN');
    const values = await panel.locator('.copy-value').allTextContents();
    const send = values.find((v) => v.startsWith('punch peer '));
    const link = `${host.url}/s/${created.session}?t=p_`;
    expect(send).toMatch(
      new RegExp(`^punch peer '${link.replace(/[.?/]/g, '\\$&')}[\\w.-]+' --send$`),
    );
    expect(values).toContain(send!.replace(/--send$/, '--receive'));

    // The line as shown, in a shell: the agent registers on cam-wide with the link's token.
    const port = await freeUdpPort();
    agent = spawn(
      'sh',
      [
        '-c',
        `${send!.replace(/^punch /, `exec "${process.execPath}" "${CLI}" `)} --json --no-lan ` +
          `--bind 127.0.0.1 --srt-listen 127.0.0.1:${port}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const registered = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const lines = createInterface({ input: agent!.stdout! });
      const seen: string[] = [];
      const t = setTimeout(() => {
        reject(new Error(`the agent never registered: ${seen.join('\n')}`));
      }, 15_000);
      lines.on('line', (l) => {
        seen.push(l);
        const e = JSON.parse(l) as Record<string, unknown>;
        if (e.event === 'registered' || e.event === 'error') {
          clearTimeout(t);
          resolve(e);
        }
      });
    });
    expect(registered).toMatchObject({ event: 'registered', stream: 'cam-wide' });
  }, 60_000);
});
