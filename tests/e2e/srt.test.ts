/**
 * SRT end to end through two home-router NATs, with real ffmpeg and srt-live-transmit on both
 * sides of `punch peer`. Needs root, iproute2, iptables, srt-tools and ffmpeg (.ci/run installs
 * them); without them the suite says so loudly and skips.
 */
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NatLab, labSupport } from './natlab.js';
import {
  CLI,
  SERVER,
  finish,
  removeTempDirs,
  runIn,
  sleep,
  startAgent,
  startFfmpeg,
  startListener,
  startPunch,
  tempDir,
  until,
  waitUdpBound,
  type AgentProc,
  type Event,
} from './harness.js';

const support = labSupport();
// CI must have everything: there a missing tool fails the run instead of skipping.
const inCi = process.env.CI === 'true';
if (!support.ok && !inCi) {
  console.warn(`\n!!! SKIPPING the NAT-lab e2e tests: ${support.why}\n`);
}

it.runIf(inCi)('CI can build the NAT lab (root, iproute2, iptables, srt-tools, ffmpeg)', () => {
  expect(support).toEqual({ ok: true });
});

let lab: NatLab | undefined;
afterEach(() => {
  lab?.destroy();
  lab = undefined;
  removeTempDirs();
});

const SECONDS = 10;

/** An agent's health report: SRT packets went both ways through it (a handshake round trip). */
const srtBothWays = (e: Event): boolean => {
  const s = e.stats as { sendPackets?: number; recvPackets?: number } | undefined;
  return e.event === 'health' && (s?.sendPackets ?? 0) > 0 && (s?.recvPackets ?? 0) > 0;
};
const bothWays = (a: AgentProc): Promise<Event> =>
  a.waitFor(srtBothWays, 'SRT packets relayed both ways');

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

    const out = join(tempDir('punch-srt-'), 'received.ts');
    const listener = await startListener(lab, 'b1', show.passphrase, out);
    const got = await finish(startFfmpeg(lab, 'a1', show.passphrase, SECONDS), listener, out);
    expect(got).toMatchObject({ ffmpegExit: 0, video: 'h264' });
    expect(got.duration).toBeGreaterThanOrEqual(SECONDS * 0.9);

    // Health reached Punch: the agent reported a direct path and real traffic.
    const health = sender.events
      .filter((e) => e.event === 'health')
      .map((e) => e.stats as { path: string; sendBytes: number });
    expect(health.some((h) => h.path === 'direct' && h.sendBytes > 100_000)).toBe(true);
  });

  it('--exec on both sides, both peers behind the same NAT: the LAN path is found and SRT statistics reported', async () => {
    lab = NatLab.create({ hostsA: 2, hostsB: 0 });
    const show = await startPunch(lab);
    // The sending agent's srt-live-transmit reads MPEG-TS on udp://:5000; the receiving one
    // writes to udp://127.0.0.1:6000, where a plain copier saves it.
    const sender = startAgent(lab, 'a1', show.token('cam-1'), '--send', ['--exec', 'udp://:5000']);
    const receiver = startAgent(lab, 'a2', show.token('cam-1'), '--receive', [
      '--exec',
      'udp://127.0.0.1:6000',
    ]);
    const [ds, dr] = await Promise.all([sender.waitDirect(), receiver.waitDirect()]);
    expect(ds.via).toBe('local');
    expect(dr.via).toBe('local');
    const out = join(tempDir('punch-srt-'), 'received.ts');
    const copier = lab.spawn('a2', 'srt-live-transmit', [
      '-ll:error',
      'udp://127.0.0.1:6000',
      'file://con',
    ]);
    copier.stdout!.pipe(createWriteStream(out));
    // Before ffmpeg sends: the copier reads udp/6000, the sending agent's srt-live-transmit
    // reads udp/5000, and the two srt-live-transmits have exchanged SRT packets through the
    // agents.
    await Promise.all([
      waitUdpBound(lab, 'a2', 6000, copier),
      waitUdpBound(lab, 'a1', 5000, sender.child),
      bothWays(sender),
      bothWays(receiver),
    ]);
    const ffmpeg = startFfmpeg(lab, 'a1', '', SECONDS, 'udp://127.0.0.1:5000?pkt_size=1316');
    const got = await finish(ffmpeg, copier, out);
    expect(got).toMatchObject({ ffmpegExit: 0, video: 'h264' });
    expect(got.duration).toBeGreaterThanOrEqual(SECONDS * 0.9);
    const srt = sender.events
      .filter((e) => e.event === 'health')
      .map((e) => (e.stats as { srt?: Record<string, number> }).srt)
      .filter((x) => x !== undefined);
    expect(srt.length).toBeGreaterThan(0);
    expect(
      Object.keys(srt.at(-1)!).some((k) => k.startsWith('send.') || k.startsWith('link.')),
    ).toBe(true);
  });

  it('the receiving agent killed and restarted mid-stream: the stream resumes by itself', async () => {
    lab = NatLab.create();
    const show = await startPunch(lab);
    const token = show.token('cam-1');
    const sender = startAgent(lab, 'a1', show.token('cam-1'), '--send');
    let receiver = startAgent(lab, 'b1', token, '--receive');
    await Promise.all([sender.waitDirect(), receiver.waitDirect()]);
    const out = join(tempDir('punch-srt-'), 'received.ts');
    const listener = await startListener(lab, 'b1', show.passphrase, out);
    const total = 16;
    const ffmpeg = startFfmpeg(lab, 'a1', show.passphrase, total);
    await receiver.waitFor((e) => e.event === 'status' && e.status === 'streaming', 'streaming');
    // The point of the test: 4 s of picture (ffmpeg sends in real time, -re) before the kill,
    // so the stream is cut in the middle and must resume; no event stands for "mid-stream".
    await sleep(4000);
    receiver.kill('SIGKILL');
    await receiver.exited;
    receiver = startAgent(lab, 'b1', token, '--receive');
    await sender.waitFor((e) => e.event === 'peer-left', 'peer-left');
    await receiver.waitFor(
      (e) => e.event === 'status' && e.status === 'streaming',
      'streaming after the restart',
    );
    const got = await finish(ffmpeg, listener, out);
    expect(got).toMatchObject({ ffmpegExit: 0, video: 'h264' });
    // The picture kept coming after the restart, to the end (a second or two lost in between).
    expect(got.duration).toBeGreaterThanOrEqual(total * 0.75);
    const last = receiver.events.filter((e) => e.event === 'health').at(-1)?.stats as {
      recvBytes: number;
    };
    expect(last.recvBytes).toBeGreaterThan(100_000);
  });

  it('Punch restarted mid-stream: the picture keeps flowing and the agents register again', async () => {
    lab = NatLab.create();
    const show = await startPunch(lab);
    const sender = startAgent(lab, 'a1', show.token('cam-1'), '--send');
    const receiver = startAgent(lab, 'b1', show.token('cam-1'), '--receive');
    await Promise.all([sender.waitDirect(), receiver.waitDirect()]);
    const out = join(tempDir('punch-srt-'), 'received.ts');
    const listener = await startListener(lab, 'b1', show.passphrase, out);
    const total = 14;
    const ffmpeg = startFfmpeg(lab, 'a1', show.passphrase, total);
    await receiver.waitFor((e) => e.event === 'status' && e.status === 'streaming', 'streaming');
    // The point of the test: 2 s of picture (real time, -re) before Punch goes away, so the
    // restart lands in the middle of the stream.
    await sleep(2000);
    await show.restart();
    const registeredTwice = (a: typeof sender) =>
      a.waitFor(
        () => a.events.filter((e) => e.event === 'registered').length >= 2,
        'a second registration',
      );
    await Promise.all([registeredTwice(sender), registeredTwice(receiver)]);
    const got = await finish(ffmpeg, listener, out);
    expect(got).toMatchObject({ ffmpegExit: 0, video: 'h264' });
    expect(got.duration).toBeGreaterThanOrEqual(total * 0.9);
    // The media path never went down while Punch was away.
    for (const a of [sender, receiver])
      expect(a.events.some((e) => e.event === 'path' && e.path === 'none')).toBe(false);
  });

  it('a symmetric NAT and a Punch without its relay: the agents say plainly that the direct path failed, and exit 6', async () => {
    lab = NatLab.create({ symmetricB: true });
    const show = await startPunch(lab, ['cam-1'], { serve: ['--no-relay'] });
    const sender = startAgent(lab, 'a1', show.token('cam-1'), '--send', ['--punch-timeout', '6']);
    const receiver = startAgent(lab, 'b1', show.token('cam-1'), '--receive', [
      '--punch-timeout',
      '6',
    ]);
    await Promise.all([
      sender.waitFor((e) => e.event === 'paired', 'paired'),
      receiver.waitFor((e) => e.event === 'paired', 'paired'),
    ]);
    const failed = (a: typeof sender) =>
      a.waitFor((e) => e.event === 'error' && e.fatal === true, 'the fatal error', 30_000);
    await Promise.all([failed(sender), failed(receiver)]);
    expect(await sender.exited).toBe(6);
    expect(await receiver.exited).toBe(6);
    for (const a of [sender, receiver]) {
      const err = a.events.find((e) => e.event === 'error');
      expect(err).toMatchObject({ code: 'ERR_DIRECT_PATH_FAILED', fatal: true });
      expect(err?.message).toMatch(/offers no relay.*symmetric NAT/);
      expect(a.events.some((e) => e.event === 'path' && e.path === 'direct')).toBe(false);
    }
  });

  it('the same link run twice does not take a live camera off air; --takeover does, and says so', async () => {
    lab = NatLab.create({ hostsA: 2 });
    const show = await startPunch(lab);
    const token = show.token('cam-1');
    const sender = startAgent(lab, 'a1', token, '--send');
    const receiver = startAgent(lab, 'b1', show.token('cam-1'), '--receive');
    await Promise.all([sender.waitDirect(), receiver.waitDirect()]);
    // A second run of the same link, on another machine: refused, the first keeps its slot.
    const again = startAgent(lab, 'a2', token, '--send');
    expect(await again.exited).toBe(1);
    const refused = again.events.find((e) => e.event === 'error');
    expect(refused).toMatchObject({ code: 'ERR_SLOT_TAKEN', fatal: true });
    expect(refused?.message).toMatch(/--takeover/);
    expect(sender.events.some((e) => e.event === 'error')).toBe(false);
    // With --takeover it replaces the first, which stops and says why.
    const takeover = startAgent(lab, 'a2', token, '--send', ['--takeover']);
    await takeover.waitFor((e) => e.event === 'registered', 'registered');
    expect(await sender.exited).toBe(1);
    const told = sender.events.filter((e) => e.event === 'error').map((e) => e.message);
    expect(told.join(' ')).toMatch(/taken over .*--takeover|took over .*--takeover/);
    takeover.kill('SIGINT');
    receiver.kill('SIGINT');
  });

  it('a wrong token, an expired token and a token for another stream: clear errors and exit 3', async () => {
    lab = NatLab.create({ hostsB: 0 });
    const show = await startPunch(lab, ['cam-1', 'cam-2']);
    const good = show.token('cam-1');
    const forged = `${good.slice(0, -4)}AAAA`;
    const wrong = startAgent(lab, 'a1', forged, '--send');
    expect(await wrong.exited).toBe(3);
    expect(wrong.events.find((e) => e.event === 'error')).toMatchObject({
      code: 'ERR_TOKEN_SIGNATURE',
    });

    const other = startAgent(lab, 'a1', show.token('cam-2'), '--send', ['--stream', 'cam-1']);
    expect(await other.exited).toBe(3);
    const otherErr = other.events.find((e) => e.event === 'error');
    expect(otherErr).toMatchObject({ code: 'ERR_STREAM_FORBIDDEN' });
    expect(otherErr?.message).toContain('cam-1');

    const short = JSON.parse(
      runIn(lab, 'pub', process.execPath, [
        CLI,
        'token',
        show.session,
        '--token',
        show.admin,
        '--stream',
        'cam-1',
        '--ttl',
        '5s',
        '--json',
        '--server',
        SERVER,
      ]),
    ) as { token: string; expiresAt: number };
    // Until the token's own expiry (seconds) has passed: the server refuses it from then on.
    await until(() => Date.now() >= short.expiresAt * 1000, 'the token to expire');
    const expired = startAgent(lab, 'a1', short.token, '--send');
    expect(await expired.exited).toBe(3);
    const expiredErr = expired.events.find((e) => e.event === 'error');
    expect(expiredErr).toMatchObject({ code: 'ERR_TOKEN_EXPIRED' });
    expect(expiredErr?.message).toMatch(/new link/);
  });
});
