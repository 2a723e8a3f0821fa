/**
 * One agent receives every stream (DESIGN.md "Streams on show day"), on loopback with real
 * tools: two cameras (ffmpeg → `punch peer --send --stream cam-N`), one receiving agent with the
 * all-streams token and no `--stream`, two srt-live-transmit listeners at --srt-target's port
 * + 0 and + 1. Both pictures arrive, each where its number says.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { startHost, type Host } from '../conformance/host.js';
import {
  UdpPeer,
  WsClient,
  announce,
  call,
  createSession,
  peerToken,
  type Bind,
  type Created,
} from '../conformance/client.js';
import { exited, probe, stoppedGrowing, testPatternArgs } from '../e2e/harness.js';
import {
  CLI,
  Children,
  bindUdp,
  freePorts,
  installed,
  spawnAgent,
  type AgentProc as Agent,
  type Event,
} from './agents.js';

let host: Host;
/** A Punch without its relay: a sender that never answers is then no path at all, quickly. */
let noRelay: Host;
let dir: string;
const children = new Children();

beforeAll(async () => {
  [host, noRelay] = await Promise.all([startHost(), startHost({ extraArgs: ['--no-relay'] })]);
  dir = mkdtempSync(join(tmpdir(), 'punch-all-streams-'));
});
// SIGTERM first: the agents stop what they started; SIGKILL only as a backstop.
afterEach(() => children.stopAll());
afterAll(async () => {
  await Promise.all([host.stop(), noRelay.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

function run(command: string, args: string[]): ChildProcess {
  return children.track(spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
}

/** A `punch peer` with its NDJSON events. */
const agent = (args: string[]): Agent => spawnAgent(args, { children, waitMs: 20_000 });

/** Writes every UDP datagram arriving on 127.0.0.1:`port` to `file` (a decoder's UDP input). */
async function capture(port: number, file: string): Promise<{ close: () => Promise<void> }> {
  const socket = await bindUdp(port);
  if (socket === undefined) throw new Error(`127.0.0.1:${port} was taken meanwhile`);
  const sink: WriteStream = createWriteStream(file);
  socket.on('message', (m) => sink.write(m));
  return {
    close: () =>
      new Promise<void>((resolve) => {
        socket.close();
        sink.end(resolve);
      }),
  };
}

/** srt-live-transmit as the user's SRT listener on `port`, writing what arrives to `file`. */
function listener(port: number, passphrase: string, file: string): ChildProcess {
  const child = run('srt-live-transmit', [
    '-ll:error',
    `srt://127.0.0.1:${port}?mode=listener&passphrase=${passphrase}&pbkeylen=32`,
    'file://con',
  ]);
  child.stdout!.pipe(createWriteStream(file));
  return child;
}

/** ffmpeg sending a test pattern as MPEG-TS over SRT to a sending agent's --srt-listen. */
function camera(port: number, passphrase: string, seconds: number): ChildProcess {
  return run(
    'ffmpeg',
    testPatternArgs(
      seconds,
      `srt://127.0.0.1:${port}?mode=caller&passphrase=${passphrase}&pbkeylen=32&latency=200000`,
    ),
  );
}

/** The real tools this test drives; without them it is skipped, loudly (and fails under CI). */
const MISSING = ['ffmpeg', 'ffprobe', 'srt-live-transmit'].filter((tool) => !installed(tool));
if (MISSING.length > 0) {
  const say = `!!! SKIPPING the all-streams test: ${MISSING.join(', ')} not installed (apt-get install ffmpeg srt-tools)`;
  if (process.env.CI === 'true') throw new Error(say);
  console.warn(`\n${say}\n`);
}

/** A non-loopback IPv4 address of this machine, standing for a decoder on the LAN. */
const LAN =
  Object.values(networkInterfaces())
    .flat()
    .find((a) => a !== undefined && a.family === 'IPv4' && !a.internal)?.address ?? '127.0.0.1';
if (LAN === '127.0.0.1')
  console.warn('\n!!! no LAN address here: the --map test maps to loopback only\n');

const pathUp = (stream: string) => (e: Event) =>
  e.event === 'path' && e.path === 'direct' && e.stream === stream;

/** A session of `names`, each stream's passphrase (from `/connect`), and the all-streams token. */
async function show(names: string[]): Promise<{
  s: Created;
  pass: Record<string, string>;
  all: string;
}> {
  const s = await createSession(host.url, { streams: names });
  const connect = await call(host.url, 'GET', `/api/session/${s.session}/connect`, {
    token: s.token,
  });
  const pass = Object.fromEntries(
    (connect.json as { streams: { name: string; passphrase: string }[] }).streams.map((x) => [
      x.name,
      x.passphrase,
    ]),
  );
  return { s, pass, all: await peerToken(host.url, s, null) };
}

/** The receiving agent with the all-streams token `all`, its listeners from `target` on. */
const receiveAll = (all: string, target: string): Agent =>
  agent(['--server', host.url, '--token', all, '--receive', '--srt-target', target]);

/** One sending agent per stream, each with its own --srt-listen port. */
function senders(
  s: Created,
  names: string[],
  at: Host = host,
): Promise<{ a: Agent; listen: number }[]> {
  return Promise.all(
    names.map(async (n) => {
      const listen = await freePorts([0]);
      const a = agent([
        '--server',
        at.url,
        '--token',
        await peerToken(at.url, s, n),
        '--send',
        '--srt-listen',
        `127.0.0.1:${listen}`,
      ]);
      return { a, listen };
    }),
  );
}

/** Waits for every stream's path at the receiver and at its sender. */
async function pathsUp(recv: Agent, sent: { a: Agent }[], names: string[]): Promise<void> {
  // Each stream registers on the one link.
  for (const n of names)
    expect(
      await recv.waitFor((e) => e.event === 'registered' && e.stream === n, `${n} registered`),
    ).toMatchObject({ role: 'receiver' });
  await Promise.all(names.map((n) => recv.waitFor(pathUp(n), `${n}'s path`)));
  await Promise.all(sent.map(({ a }, i) => a.waitFor(pathUp(names[i]!), 'the sender path')));
}

/** Runs each camera for `seconds`, then waits until each file stopped growing. */
async function shoot(
  sent: { listen: number }[],
  names: string[],
  pass: Record<string, string>,
  files: string[],
): Promise<void> {
  const cameras = sent.map(({ listen }, i) => camera(listen, pass[names[i]!]!, 5));
  for (const [i, cam] of cameras.entries()) {
    expect(await exited(cam)).toBe(0);
    await stoppedGrowing(files[i]!, 1000);
  }
}

function expectPictures(files: string[]): void {
  for (const file of files) {
    const got = probe(file);
    expect(got.video, file).toBe('h264');
    expect(got.duration, file).toBeGreaterThan(2);
  }
}

it.skipIf(MISSING.length > 0)(
  'two senders, one receiving agent with the all-streams token: both pictures arrive at --srt-target + i',
  async () => {
    const names = ['cam-1', 'cam-2'];
    const { s, pass, all } = await show(names);
    // The listeners at P and P + 1; the receiving agent's source ports at P + 100 and P + 101.
    const base = await freePorts([0, 1, 100, 101]);
    const files = names.map((n) => join(dir, `${n}.ts`));
    const listeners = names.map((n, i) => listener(base + i, pass[n]!, files[i]!));
    const recv = receiveAll(all, `127.0.0.1:${base}`);
    const sent = await senders(s, names);
    await pathsUp(recv, sent, names);
    // The commands the receiving agent prints point each stream's tool at its own port.
    for (const [i, n] of names.entries()) {
      const local = await recv.waitFor(
        (e) => e.event === 'local' && e.stream === n,
        `${n}'s commands`,
      );
      expect(JSON.stringify(local.commands)).toContain(`:${base + i}?`);
    }
    await shoot(sent, names, pass, files);
    for (const l of listeners) l.kill('SIGINT');
    await Promise.all(listeners.map((l) => exited(l)));
    expectPictures(files);
    // Health went out per stream, each carrying its stream's traffic.
    for (const n of names)
      expect(
        recv.events.some(
          (e) =>
            e.event === 'health' &&
            e.stream === n &&
            ((e.stats as { recvBps?: number }).recvBps ?? 0) > 0,
        ),
      ).toBe(true);
  },
  90_000,
);

it.skipIf(MISSING.length > 0)(
  '--exec runs one srt-live-transmit per stream (its UDP port + i) and --map moves one listener',
  async () => {
    const names = ['cam-1', 'cam-2'];
    const { s, pass, all } = await show(names);
    // cam-1 at --srt-target P (source P + 100); cam-2 mapped to M (source P + 101) on this
    // machine's LAN address when it has one, as a decoder elsewhere on the LAN would be (the
    // agent then talks to it from every interface; local.test.ts holds which); their
    // srt-live-transmit write MPEG-TS over UDP to U and U + 1, where this test captures it.
    const base = await freePorts([0, 100, 101]);
    const mapped = await freePorts([0]);
    const out = await freePorts([0, 1]);
    const files = names.map((n) => join(dir, `exec-${n}.ts`));
    const captures = await Promise.all(files.map((f, i) => capture(out + i, f)));
    const recv = agent([
      '--server',
      host.url,
      '--token',
      all,
      '--receive',
      '--srt-target',
      `127.0.0.1:${base}`,
      '--map',
      `cam-2=${LAN}:${mapped}`,
      '--exec',
      `udp://127.0.0.1:${out}`,
    ]);
    const sent = await senders(s, names);
    await pathsUp(recv, sent, names);
    // Each stream's tool listens where its number or --map says.
    for (const [n, port] of [
      ['cam-1', base],
      ['cam-2', mapped],
    ] as const) {
      const local = await recv.waitFor(
        (e) => e.event === 'local' && e.stream === n,
        `${n}'s commands`,
      );
      expect(JSON.stringify(local.commands)).toContain(`:${port}?`);
    }
    await shoot(sent, names, pass, files);
    await Promise.all(captures.map((c) => c.close()));
    expectPictures(files);
    // The agent reported each srt-live-transmit's own statistics with its stream's health.
    for (const n of names)
      expect(
        recv.events.some(
          (e) => e.event === 'health' && e.stream === n && (e.stats as { srt?: unknown }).srt,
        ),
      ).toBeTruthy();
  },
  90_000,
);

it('one stream held by another live agent is waited for; the other streams carry on', async () => {
  const names = ['cam-1', 'cam-2'];
  const { s, all } = await show(names);
  // A receiving agent already live on cam-2 alone: the all-streams agent may not take it.
  const holder = agent([
    '--server',
    host.url,
    '--token',
    await peerToken(host.url, s, 'cam-2'),
    '--receive',
    '--srt-target',
    `127.0.0.1:${await freePorts([0, 1])}`,
  ]);
  await holder.waitFor((e) => e.event === 'registered', 'the holder registered');
  const base = await freePorts([0, 100, 101]);
  const recv = agent([
    '--server',
    host.url,
    '--token',
    all,
    '--receive',
    '--srt-target',
    `127.0.0.1:${base}`,
    // A typo in --map: said, not silently ignored.
    '--map',
    'cam-9=127.0.0.1:7000',
  ]);
  expect(
    await recv.waitFor(
      (e) => e.event === 'error' && e.code === 'ERR_MAP_UNKNOWN',
      'the --map warning',
    ),
  ).toMatchObject({ fatal: false, message: expect.stringContaining('"cam-9"') as unknown });
  // Punch's refusal names no stream: it reaches the stream whose registration it answers.
  const refused = await recv.waitFor(
    (e) => e.event === 'error' && e.code === 'ERR_SLOT_TAKEN',
    'the refusal',
  );
  expect(refused).toMatchObject({ stream: 'cam-2', fatal: false });
  expect(refused.message).toContain('comes back once it is free');
  // cam-1 still pairs with its sender and finds its path.
  const [sender] = await senders(s, ['cam-1']);
  await Promise.all([
    recv.waitFor(pathUp('cam-1'), "cam-1's path"),
    sender!.a.waitFor(pathUp('cam-1'), 'the sender path'),
  ]);
  expect(recv.events.some((e) => e.event === 'registered' && e.stream === 'cam-2')).toBe(false);
  expect(holder.events.some((e) => e.event === 'error')).toBe(false);
  // The other agent goes: cam-2 is this one's, by itself, and nothing ever stopped.
  holder.child.kill('SIGTERM');
  await recv.waitFor((e) => e.event === 'registered' && e.stream === 'cam-2', 'cam-2 registered');
  expect(recv.events.some((e) => e.status === 'stopped')).toBe(false);
}, 60_000);

it('a stream with no path reports it and waits for its sender to come back; the others carry on', async () => {
  const names = ['cam-1', 'cam-2'];
  const s = await createSession(noRelay.url, { streams: names });
  const base = await freePorts([0, 100, 101]);
  const recv = agent([
    '--server',
    noRelay.url,
    '--token',
    await peerToken(noRelay.url, s, null),
    '--receive',
    '--srt-target',
    `127.0.0.1:${base}`,
    '--punch-timeout',
    '2',
  ]);
  await recv.waitFor((e) => e.event === 'registered' && e.stream === 'cam-1', 'cam-1 registered');
  // cam-1's "sender" is a protocol client whose media socket never answers a probe.
  const mute = await WsClient.connect(
    noRelay.url,
    s.session,
    await peerToken(noRelay.url, s, 'cam-1'),
  );
  const udp = await UdpPeer.open();
  mute.send({ type: 'register', stream: 'cam-1', role: 'sender' });
  const registered = await mute.next('registered');
  await announce(mute, udp, { stream: 'cam-1', role: 'sender' }, registered.bind as Bind);
  const noPath = await recv.waitFor(
    (e) => e.event === 'error' && e.code === 'ERR_DIRECT_PATH_FAILED',
    "cam-1's failure",
  );
  expect(noPath).toMatchObject({ stream: 'cam-1', fatal: false });
  // cam-2 pairs and carries on meanwhile.
  const [two] = await senders(s, ['cam-2'], noRelay);
  await Promise.all([
    recv.waitFor(pathUp('cam-2'), "cam-2's path"),
    two!.a.waitFor(pathUp('cam-2'), "cam-2's sender path"),
  ]);
  // cam-1's real sender comes (the mute one gone): cam-1 pairs again and finds its path.
  mute.close();
  udp.close();
  const [one] = await senders(s, ['cam-1'], noRelay);
  await Promise.all([
    recv.waitFor(pathUp('cam-1'), "cam-1's path"),
    one!.a.waitFor(pathUp('cam-1'), "cam-1's sender path"),
  ]);
  expect(recv.events.filter((e) => e.event === 'error' && e.fatal === true)).toEqual([]);
}, 60_000);

it('a link for every stream with --send stops at once (exit 2): it only receives', async () => {
  const { all } = await show(['cam-1', 'cam-2']);
  for (const extra of [[], ['--stream', 'cam-1']]) {
    const child = run(process.execPath, [
      CLI,
      'peer',
      '--server',
      host.url,
      '--token',
      all,
      '--send',
      ...extra,
    ]);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    expect(await exited(child, 20_000)).toBe(2);
    expect(stderr).toContain(
      'this link receives every stream (an MCR link) and cannot send: ask the producer for the link of your stream',
    );
  }
}, 60_000);

/** A `punch peer` with its human output (as on an operator's screen, piped). */
function humanAgent(args: string[]): { child: ChildProcess; out: () => string } {
  const child = run(process.execPath, [CLI, 'peer', '--no-lan', '--bind', '127.0.0.1', ...args]);
  let text = '';
  child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  return { child, out: () => text };
}

async function until(what: string, p: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !p(); i++) await new Promise((r) => setTimeout(r, 100));
  if (!p()) throw new Error(`no ${what}`);
}

it('a second run of a live link: no tally before it is refused, one hint; a takeover says so once', async () => {
  const { s } = await show(['cam-1']);
  await call(host.url, 'PUT', `/api/session/${s.session}/tally`, {
    token: s.token,
    body: { program: ['cam-1'], preview: [] },
  });
  const link = `${host.url}/s/${s.session}?t=${await peerToken(host.url, s, 'cam-1')}`;
  const listen = async (): Promise<string[]> => [
    '--srt-listen',
    `127.0.0.1:${await freePorts([0])}`,
  ];
  const first = humanAgent([link, '--send', ...(await listen())]);
  await until('registration of the first agent', () => first.out().includes('✓ registered'));
  await until('the first agent’s tally', () => first.out().includes('ON AIR'));

  const second = humanAgent([link, '--send', ...(await listen())]);
  expect(await exited(second.child, 30_000)).toBe(1);
  expect(second.out()).toContain('ERR_SLOT_TAKEN');
  expect(second.out()).not.toContain('ON AIR');
  expect(second.out().match(/to replace it/g)).toHaveLength(1);

  const third = humanAgent([link, '--send', '--takeover', ...(await listen())]);
  expect(await exited(first.child, 30_000)).toBe(1);
  expect(first.out().match(/ERR_REPLACED/g)).toHaveLength(1);
  expect(first.out()).toMatch(/✗ error ERR_REPLACED: .*taken over.*this one stops/);
  await until('registration of the takeover', () => third.out().includes('✓ registered'));
}, 90_000);

it('a producer watching one stream with her admin link takes that one alone; it comes back after', async () => {
  const names = ['cam-1', 'cam-2'];
  const { s, all } = await show(names);
  const sent = await senders(s, names);
  const recv = receiveAll(all, `127.0.0.1:${await freePorts([0, 1])}`);
  await pathsUp(recv, sent, names);

  // An admin token takes a live slot without asking: only cam-1's, not the whole agent.
  const producer = agent([
    '--server',
    host.url,
    '--token',
    s.token,
    '--receive',
    '--stream',
    'cam-1',
    '--srt-target',
    `127.0.0.1:${await freePorts([0])}`,
  ]);
  await producer.waitFor(pathUp('cam-1'), "the producer's cam-1 path");
  expect(
    await recv.waitFor((e) => e.event === 'error' && e.code === 'ERR_REPLACED', 'the takeover'),
  ).toMatchObject({ stream: 'cam-1', fatal: false });
  expect(recv.child.exitCode).toBeNull();
  const afterTakeover = recv.events.length;

  // She is done: the agent asks again (every 5 s) and cam-1 is its own again.
  producer.child.kill('SIGTERM');
  await recv.waitFor(
    (e) =>
      e.event === 'registered' && e.stream === 'cam-1' && recv.events.indexOf(e) > afterTakeover,
    'cam-1 registered again',
  );
  await recv.waitFor(
    (e) => pathUp('cam-1')(e) && recv.events.indexOf(e) > afterTakeover,
    "cam-1's path again",
  );
  // cam-2 never noticed: registered once, its path never down, never stopped.
  const cam2 = recv.events.filter((e) => e.stream === 'cam-2');
  expect(cam2.filter((e) => e.event === 'registered')).toHaveLength(1);
  expect(cam2.some((e) => e.event === 'path' && e.path === 'none')).toBe(false);
  expect(cam2.some((e) => e.status === 'stopped')).toBe(false);
  expect(recv.events.some((e) => e.event === 'error' && e.fatal === true)).toBe(false);
  // Reports already on their way when cam-1 was taken are not warnings of the whole agent.
  expect(recv.events.filter((e) => e.code === 'ERR_NOT_REGISTERED')).toEqual([]);
}, 60_000);
