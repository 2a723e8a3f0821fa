/**
 * Real Chromium (Debian `chromium`) driven by playwright-core: never a downloaded browser.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type BrowserContextOptions } from 'playwright-core';

export const CHROMIUM = process.env.PUNCH_CHROMIUM ?? '/usr/bin/chromium';

export function chromiumSupport(): { ok: true } | { ok: false; why: string } {
  return existsSync(CHROMIUM)
    ? { ok: true }
    : { ok: false, why: `no Chromium at ${CHROMIUM} (apt-get install chromium)` };
}

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Browser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/** Chromium with a fresh profile directory, removed on close. */
export async function launchChromium(
  options: BrowserContextOptions & { args?: string[]; executablePath?: string } = {},
): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'punch-chromium-'));
  const { args = [], executablePath = CHROMIUM, ...contextOptions } = options;
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: [...FLAGS, ...args],
    ...contextOptions,
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
