/**
 * SRT through the relay, end to end in the NAT lab, with real ffmpeg and srt-live-transmit on
 * both sides of `punch peer` (DESIGN.md "The relay"): where hole punching cannot work (both NATs
 * symmetric, outbound UDP blocked) the agents relay over TURN by themselves, through Punch's
 * own relay or coturn; with `--relay always` they relay from the start and never learn each
 * other's address. Needs what srt.test.ts needs, plus coturn for its one case (.ci/run installs
 * all of it); without them the suite says so loudly and skips.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hasCoturn, startCoturn } from '../coturn.js';
import { NatLab, PUBLIC_IP, labSupport } from './natlab.js';
import {
  finish,
  removeTempDirs,
  runIn,
  sleep,
  startAgent,
  startFfmpeg,
  startListener,
  startPunch,
  tempDir,
  type AgentProc,
  type Event,
} from './harness.js';

const support = labSupport();
const coturnHere = hasCoturn();
const inCi = process.env.CI === 'true';
if (!support.ok && !inCi) console.warn(`\n!!! SKIPPING the relay NAT-lab tests: ${support.why}\n`);
if (support.ok && !coturnHere && !inCi)
  console.warn(
    '\n!!! SKIPPING the relay NAT-lab test through coturn: turnserver is not installed (apt-get install coturn)\n',
  );

it.runIf(inCi)('CI can build the relay lab (the NAT lab and coturn)', () => {
  expect(support).toEqual({ ok: true });
  expect(coturnHere).toBe(true);
});

let lab: NatLab | undefined;
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
  lab?.destroy();
  lab = undefined;
  removeTempDirs();
});

const SECONDS = 10;
const ROUTER_A = '203.0.113.10';
const ROUTER_B = '203.0.113.20';

/** The health reports an agent made, as it sent them to Punch. */
const healthOf = (a: AgentProc): { path: string; sendBytes: number; recvBytes: number }[] =>
  a.events
    .filter((e) => e.event === 'health')
    .map((e) => e.stats as { path: string; sendBytes: number; recvBytes: number });

/** ffmpeg → sending agent … receiving agent → srt-live-transmit: what arrived. */
async function stream(
  l: NatLab,
  passphrase: string,
  seconds = SECONDS,
): Promise<{ ffmpegExit: number; video: string | undefined; duration: number }> {
  const out = join(tempDir('punch-relay-'), 'received.ts');
  const listener = await startListener(l, 'b1', passphrase, out);
  return finish(startFfmpeg(l, 'a1', passphrase, seconds), listener, out);
}

/** Counts, in router `r`'s namespace, UDP datagrams it forwards out of its WAN to `to`. */
function countTowards(l: NatLab, r: 'rA' | 'rB', to: string): () => number {
  const rule = ['FORWARD', '-o', 'wan', '-p', 'udp', '-d', to];
  runIn(l, r, 'iptables', ['-I', ...rule]);
  // Inserted first, so it is rule 1 whatever else the chain holds: its packet count.
  return () =>
    Number(
      runIn(l, r, 'iptables', ['-L', 'FORWARD', '1', '-v', '-x', '-n']).trim().split(/\s+/)[0],
    );
}

describe.skipIf(!support.ok)('SRT through the relay', () => {
  it('both NATs symmetric: the agents relay by themselves and the picture arrives', async () => {
    lab = NatLab.create({ symmetricA: true, symmetricB: true });
    const show = await startPunch(lab);
    const sender = startAgent(lab, 'a1', show.token('cam-1'), '--send');
    const receiver = startAgent(lab, 'b1', show.token('cam-1'), '--receive');
    const [rs, rr] = await Promise.all([sender.waitRelayed(), receiver.waitRelayed()]);
    // Through Punch's own relay: each side reached the other at a relayed address on it.
    expect(rs.remote).toMatchObject({ ip: PUBLIC_IP });
    expect(rr.remote).toMatchObject({ ip: PUBLIC_IP });
    for (const a of [sender, receiver]) {
      expect(a.events.find((e) => e.event === 'relay')).toMatchObject({ transport: 'udp' });
      expect(a.events.some((e) => e.event === 'path' && e.path === 'direct')).toBe(false);
    }
    const got = await stream(lab, show.passphrase);
    expect(got).toMatchObject({ ffmpegExit: 0, video: 'h264' });
    expect(got.duration).toBeGreaterThanOrEqual(SECONDS * 0.9);
    expect(healthOf(sender).some((h) => h.path === 'relay' && h.sendBytes > 100_000)).toBe(true);
    expect(healthOf(receiver).some((h) => h.path === 'relay' && h.recvBytes > 100_000)).toBe(true);
  });

  it('one network drops all outbound UDP: that agent relays over TCP and the picture arrives', async () => {
    lab = NatLab.create();
    // Router A forwards no UDP from its LAN at all (TCP still goes out).
    runIn(lab, 'rA', 'iptables', ['-I', 'FORWARD', '-i', 'lan', '-p', 'udp', '-j', 'DROP']);
    const show = await startPunch(lab);
    const sender = startAgent(lab, 'a1', show.token('cam-1'), '--send');
    const receiver = startAgent(lab, 'b1', show.token('cam-1'), '--receive');
    await Promise.all([sender.waitRelayed(), receiver.waitRelayed()]);
    expect(sender.events.find((e) => e.event === 'relay')).toMatchObject({ transport: 'tcp' });
    const got = await stream(lab, show.passphrase);
    expect(got).toMatchObject({ ffmpegExit: 0, video: 'h264' });
    expect(got.duration).toBeGreaterThanOrEqual(SECONDS * 0.9);
  });

  it('a direct path that opens later: relayed first, then moved to direct, the stream unbroken', async () => {
    lab = NatLab.create();
    // Nothing gets from network A to network B directly, until the rule goes: the agents relay.
    const block = ['FORWARD', '-i', 'lan', '-p', 'udp', '-d', ROUTER_B, '-j', 'DROP'];
    runIn(lab, 'rA', 'iptables', ['-I', ...block]);
    const show = await startPunch(lab);
    const args = ['--punch-timeout', '5'];
    const sender = startAgent(lab, 'a1', show.token('cam-1'), '--send', args);
    const receiver = startAgent(lab, 'b1', show.token('cam-1'), '--receive', args);
    await Promise.all([sender.waitRelayed(), receiver.waitRelayed()]);
    const out = join(tempDir('punch-relay-'), 'received.ts');
    const listener = await startListener(lab, 'b1', show.passphrase, out);
    const total = 30;
    const ffmpeg = startFfmpeg(lab, 'a1', show.passphrase, total);
    // Media through the relay first, as health reports it to Punch.
    await receiver.waitFor(
      (e) =>
        e.event === 'health' &&
        (e.stats as { path?: string; recvBps?: number }).path === 'relay' &&
        ((e.stats as { recvBps?: number }).recvBps ?? 0) > 0,
      'media through the relay',
    );
    runIn(lab, 'rA', 'iptables', ['-D', ...block]);
    // The agents keep trying direct while relaying, and move the media over when it opens.
    await Promise.all([sender.waitDirect(40_000), receiver.waitDirect(40_000)]);
    const got = await finish(ffmpeg, listener, out);
    // ffmpeg ran to its end: SRT never noticed the move (it gives up on a broken connection).
    expect(got).toMatchObject({ ffmpegExit: 0, video: 'h264' });
    expect(got.duration).toBeGreaterThanOrEqual(total * 0.9);
    const paths = healthOf(receiver).map((h) => h.path);
    expect(paths).toContain('relay');
    expect(paths.at(-1)).toBe('direct');
  });

  it('relay always, two cone NATs: media flows, no datagram crosses NAT to NAT, no agent learns the other IP', async () => {
    lab = NatLab.create();
    const aToB = countTowards(lab, 'rA', ROUTER_B);
    const bToA = countTowards(lab, 'rB', ROUTER_A);
    const show = await startPunch(lab, ['cam-1'], { create: ['--relay', 'always'] });
    const sender = startAgent(lab, 'a1', show.token('cam-1'), '--send');
    const receiver = startAgent(lab, 'b1', show.token('cam-1'), '--receive');
    await Promise.all([sender.waitRelayed(), receiver.waitRelayed()]);
    const got = await stream(lab, show.passphrase);
    expect(got).toMatchObject({ ffmpegExit: 0, video: 'h264' });
    expect(got.duration).toBeGreaterThanOrEqual(SECONDS * 0.9);
    expect(aToB()).toBe(0);
    expect(bToA()).toBe(0);
    // Everything each agent was told and said (its NDJSON events), and its stderr.
    const said = (a: AgentProc): string => JSON.stringify(a.events) + a.stderr.join('\n');
    expect(said(sender)).not.toContain(ROUTER_B);
    expect(said(receiver)).not.toContain(ROUTER_A);
    expect(said(sender)).not.toContain('10.0.2.');
    expect(said(receiver)).not.toContain('10.0.1.');
  });

  it('Punch (and its relay) restarted mid-stream: the agents allocate again and the picture resumes', async () => {
    lab = NatLab.create({ symmetricA: true, symmetricB: true });
    const show = await startPunch(lab);
    const sender = startAgent(lab, 'a1', show.token('cam-1'), '--send');
    const receiver = startAgent(lab, 'b1', show.token('cam-1'), '--receive');
    await Promise.all([sender.waitRelayed(), receiver.waitRelayed()]);
    const out = join(tempDir('punch-relay-'), 'received.ts');
    const listener = await startListener(lab, 'b1', show.passphrase, out);
    const total = 16;
    const ffmpeg = startFfmpeg(lab, 'a1', show.passphrase, total);
    await receiver.waitFor((e) => e.event === 'status' && e.status === 'streaming', 'streaming');
    // The point of the test: 3 s of picture (real time, -re) before the relay goes away, so
    // the restart lands in the middle of the stream.
    await sleep(3000);
    await show.restart();
    const allocatedTwice = (a: AgentProc): Promise<Event> =>
      a.waitFor(
        () => a.events.filter((e) => e.event === 'relay').length >= 2,
        'a second allocation',
      );
    await Promise.all([allocatedTwice(sender), allocatedTwice(receiver)]);
    const got = await finish(ffmpeg, listener, out);
    expect(got).toMatchObject({ ffmpegExit: 0, video: 'h264' });
    // The picture came back after the restart, to the end (a few seconds lost in between).
    expect(got.duration).toBeGreaterThanOrEqual(total * 0.6);
    const last = healthOf(receiver).at(-1);
    expect(last?.path).toBe('relay');
  });

  it.skipIf(!coturnHere)(
    'both NATs symmetric, through coturn (--turn-url) instead of the built-in relay: the picture arrives',
    async () => {
      lab = NatLab.create({ symmetricA: true, symmetricB: true });
      const l = lab;
      const secret = 'relay-e2e-coturn-secret-0123456789';
      cleanups.push(await startCoturnIn(l, secret, 3479));
      const show = await startPunch(l, ['cam-1'], {
        serve: ['--turn-url', `turn:${PUBLIC_IP}:3479?transport=udp`],
        env: { PUNCH_TURN_SECRET: secret },
      });
      const sender = startAgent(l, 'a1', show.token('cam-1'), '--send');
      const receiver = startAgent(l, 'b1', show.token('cam-1'), '--receive');
      await Promise.all([sender.waitRelayed(), receiver.waitRelayed()]);
      // Each relaying agent's allocation is on coturn's relayed ports (its range below), not
      // Punch's. (The path's remote may be the other side's NAT mapping toward coturn, when
      // that side's probes reach this allocation before its own allocation is announced.)
      for (const a of [sender, receiver]) {
        await a.waitFor((e) => e.event === 'relay', 'an allocation', 30_000);
        for (const e of a.events.filter((x) => x.event === 'relay')) {
          const port = (e.address as { port: number }).port;
          expect(port).toBeGreaterThanOrEqual(49300);
          expect(port).toBeLessThanOrEqual(49400);
        }
      }
      const got = await stream(l, show.passphrase);
      expect(got).toMatchObject({ ffmpegExit: 0, video: 'h264' });
      expect(got.duration).toBeGreaterThanOrEqual(SECONDS * 0.9);
    },
  );
});

/** coturn in the lab's public network (use-auth-secret, as Punch mints); returns its stop. */
async function startCoturnIn(l: NatLab, secret: string, port: number): Promise<() => void> {
  // The lab's public addresses are TEST-NET, not loopback: coturn's default policy applies.
  const coturn = await startCoturn(secret, {
    ip: PUBLIC_IP,
    port,
    relayPorts: [49300, 49400],
    loopbackPeers: false,
    spawn: (command, args) => l.spawn('pub', command, args),
  });
  return () => {
    coturn.stop();
  };
}
