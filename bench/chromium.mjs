// Real Chromium (Debian `chromium`) driven by playwright-core for the benches, never a
// downloaded browser. The same launch as tests/e2e/browser.ts, which plain .mjs cannot import.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.PUNCH_CHROMIUM ?? '/usr/bin/chromium';

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

/** @returns {{ ok: true } | { ok: false, why: string }} */
export function chromiumSupport() {
  return existsSync(CHROMIUM)
    ? { ok: true }
    : { ok: false, why: `no Chromium at ${CHROMIUM} (apt-get install chromium)` };
}

/**
 * Chromium with a fresh profile directory under `tmpRoot` (the reaper's temp dir, so a killed
 * run still removes it), removed on close.
 * @param {string} tmpRoot
 */
export async function launchChromium(tmpRoot) {
  const profile = mkdtempSync(join(tmpRoot, 'chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
