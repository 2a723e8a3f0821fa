// Real Chromium (Debian `chromium`) driven by playwright-core for the benches, never a
// downloaded browser. The same launch as tests/e2e/browser.ts, which plain .mjs cannot import.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
 * The pids of the Chromium processes running with `profile` (its browser process, whose
 * renderers end with it), from /proc: playwright-core does not expose a persistent context's.
 * @param {string} profile
 */
function chromiumPids(profile) {
  const flag = `--user-data-dir=${profile}`;
  /** @type {number[]} */
  const pids = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes(flag))
        pids.push(Number(entry));
    } catch {
      // The process ended while listing: nothing to stop.
    }
  }
  return pids;
}

/**
 * Whether a process still runs (a zombie has stopped: it only waits to be reaped).
 * @param {number} pid
 */
function running(pid) {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false; // no /proc entry: gone
  }
}

/**
 * Chromium with a fresh profile directory, removed on close. If the bench ends otherwise
 * (an error, Ctrl-C: the reaper exits the process), the exit handler kills Chromium first and
 * then removes the profile; the profile stays out of the reaper's temp dir because the reaper
 * removes that before this handler runs, while Chromium may still be writing to it.
 */
export async function launchChromium() {
  const profile = mkdtempSync(join(tmpdir(), 'punch-bench-chromium-'));
  const onExit = () => {
    const pids = chromiumPids(profile);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone between the listing and the kill: nothing to stop.
      }
    }
    // A killed process can still be writing the profile until it is gone (or a zombie): wait
    // for that, at most 3 s, before removing it.
    const pause = new Int32Array(new SharedArrayBuffer(4));
    for (let i = 0; i < 30 && pids.some(running); i++) Atomics.wait(pause, 0, 0, 100);
    try {
      rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    } catch (err) {
      // An exit handler cannot rethrow usefully: say which directory is left.
      process.stderr.write(`could not remove Chromium's profile ${profile}: ${String(err)}\n`);
    }
  };
  process.once('exit', onExit);
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    // The bench's reaper handles the signals (and exits, which runs onExit).
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
  return {
    context,
    close: async () => {
      await context.close();
      process.removeListener('exit', onExit);
      rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    },
  };
}
