/**
 * SRT end to end through two home-router NATs, with real ffmpeg and srt-live-transmit on both
 * sides of `punch peer`. Needs root, iproute2, iptables, srt-tools and ffmpeg (.ci/run installs
 * them); without them the suite says so loudly and skips.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NatLab, labSupport } from './natlab.js';
import {
  exited,
  probe,
  sleep,
  startAgent,
  startFfmpeg,
  startListener,
  startPunch,
} from './harness.js';

const support = labSupport();
if (!support.ok) {
  console.warn(`\n!!! SKIPPING the NAT-lab e2e tests: ${support.why}\n`);
}

let lab: NatLab | undefined;
afterEach(() => {
  lab?.destroy();
  lab = undefined;
});

const SECONDS = 10;

describe.skipIf(!support.ok)('SRT through two NATs', () => {
  it('ffmpeg → agent --send behind NAT A … agent --receive behind NAT B → srt-live-transmit: the picture arrives', async () => {
    lab = NatLab.create();
    const show = await startPunch(lab);
    const sender = startAgent(lab, 'a1', show.token('cam-1'), '--send');
    const receiver = startAgent(lab, 'b1', show.token('cam-1'), '--receive');
    const [ds, dr] = await Promise.all([sender.waitDirect(), receiver.waitDirect()]);
    // Each side reached the other through the other's NAT, not a private address.
    expect(ds.remote).toMatchObject({ ip: '203.0.113.20' });
    expect(dr.remote).toMatchObject({ ip: '203.0.113.10' });
    expect(ds.via).toBe('public');

    const out = join(mkdtempSync(join(tmpdir(), 'punch-srt-')), 'received.ts');
    const listener = startListener(lab, 'b1', show.passphrase, out);
    await sleep(300);
    const ffmpeg = startFfmpeg(lab, 'a1', show.passphrase, SECONDS);
    expect(await exited(ffmpeg)).toBe(0);
    await sleep(1500);
    listener.kill('SIGINT');
    await exited(listener);
    const got = probe(out);
    expect(got.video).toBe('h264');
    expect(got.duration).toBeGreaterThanOrEqual(SECONDS * 0.9);

    // Health reached Punch: the agent reported a direct path and real traffic.
    const health = sender.events
      .filter((e) => e.event === 'health')
      .map((e) => e.stats as { path: string; sendBytes: number });
    expect(health.some((h) => h.path === 'direct' && h.sendBytes > 100_000)).toBe(true);
  });
});
