/**
 * `punch peer --exec` with a port srt-live-transmit must bind held by another program: the
 * agent says ERR_PORT_IN_USE and exits 7, at start or when srt-live-transmit is restarted,
 * instead of restarting it every second for as long as it runs. And srt-live-transmit's own
 * output reaches the operator as lines of its own (under --json, `exec` events).
 */
import { execFile, execFileSync } from 'node:child_process';
import { type Socket } from 'node:dgram';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { startHost, type Host } from '../conformance/host.js';
import { createSession } from '../conformance/client.js';
import {
  CLI,
  Children,
  bindUdp,
  freeUdpPort,
  installed,
  spawnAgent,
  type AgentProc,
  type Event,
} from './agents.js';

const claims = { session: 'nab-floor', role: 'peer', stream: 'cam-1', exp: 4_000_000_000 };
// A well-formed token (the agent reads its session and stream before any server verifies it).
const TOKEN = `p_${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${'A'.repeat(43)}`;

const SLT = installed('srt-live-transmit');
if (!SLT) {
  console.warn(
    '\n!!! SKIPPING the --exec port tests: srt-live-transmit is not installed (apt-get install srt-tools)\n',
  );
  if (process.env.CI === 'true') throw new Error('srt-live-transmit is required under CI');
}

let host: Host;
const children = new Children();
const held: Socket[] = [];
beforeAll(async () => {
  if (SLT) host = await startHost();
});
afterEach(async () => {
  for (const s of held.splice(0)) s.close();
  await children.stopAll();
});
afterAll(async () => {
  if (SLT) await host.stop();
});

async function holdPort(): Promise<number> {
  const s = await bindUdp(0);
  if (s === undefined) throw new Error('no UDP port on 127.0.0.1');
  held.push(s);
  return s.address().port;
}

function run(args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, 'peer', ...args], { timeout: 20_000 }, (err, stdout) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout });
    });
  });
}

it.skipIf(!SLT)('a held --exec input port: ERR_PORT_IN_USE and exit 7, at once', async () => {
  const busy = await holdPort();
  const r = await run([
    '--server',
    'http://127.0.0.1:9',
    '--token',
    TOKEN,
    '--send',
    '--srt-listen',
    `127.0.0.1:${await freeUdpPort()}`,
    '--exec',
    `udp://127.0.0.1:${busy}`,
  ]);
  expect(r.code).toBe(7);
  expect(r.stdout).toContain('ERR_PORT_IN_USE');
  expect(r.stdout).toContain(`127.0.0.1:${busy} is already in use`);
  expect(r.stdout).toContain('--exec');
});

it.skipIf(!SLT)('a held --srt-target when receiving with --exec: exit 7, at once', async () => {
  // srt-live-transmit listens at --srt-target; the agent's own socket is the port above it.
  let busy = 0;
  for (let i = 0; i < 20 && busy === 0; i++) {
    const p = await holdPort();
    const above = await bindUdp(p + 1);
    if (above === undefined) continue;
    await new Promise<void>((r) => above.close(r));
    busy = p;
  }
  const r = await run([
    '--server',
    'http://127.0.0.1:9',
    '--token',
    TOKEN,
    '--receive',
    '--srt-target',
    `127.0.0.1:${busy}`,
    '--exec',
    `udp://127.0.0.1:${await freeUdpPort()}`,
    '--json',
  ]);
  expect(r.code).toBe(7);
  const events = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Event);
  expect(events.at(-1)).toMatchObject({ event: 'error', code: 'ERR_PORT_IN_USE', fatal: true });
  expect(events.at(-1)?.message).toContain('--srt-target');
});

// Every line on stdout is an event: srt-live-transmit's output must not land in between.
const agent = (args: string[]): AgentProc => spawnAgent(args, { children, waitMs: 15_000 });

it.skipIf(!SLT)(
  'srt-live-transmit dies and its port is taken meanwhile: exit 7 instead of a restart loop',
  async () => {
    const input = await freeUdpPort();
    const s = await createSession(host.url, { streams: ['cam-1'] });
    const base = ['--server', host.url, '--token', s.token, '--stream', 'cam-1'];
    const send = agent([
      ...base,
      '--send',
      '--srt-listen',
      `127.0.0.1:${await freeUdpPort()}`,
      '--exec',
      `udp://127.0.0.1:${input}`,
    ]);
    // The receiving agent binds --srt-target's port + 1.
    const target = await freeUdpPort(2);
    agent([...base, '--receive', '--srt-target', `127.0.0.1:${target}`]);
    // srt-live-transmit runs once the path is up, and what it prints arrives as `exec` events.
    const said = await send.waitFor(
      (e) => e.event === 'exec' && String(e.line).includes(`udp://127.0.0.1:${input}`),
      "srt-live-transmit's first line",
    );
    expect(said.line).toMatch(/^Media path: /);
    const pid = (): number | undefined => {
      try {
        const out = execFileSync('pgrep', ['-f', `srt-live-transmit.*127.0.0.1:${input} `], {
          encoding: 'utf8',
        });
        return Number(out.trim().split('\n')[0]);
      } catch {
        return undefined;
      }
    };
    let slt: number | undefined;
    for (let i = 0; i < 50 && slt === undefined; i++) {
      slt = pid();
      if (slt === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    expect(slt).toBeDefined();
    // Kill it, and take its port before the agent starts it again (a second later).
    process.kill(slt!, 'SIGKILL');
    let taken: Socket | undefined;
    for (let i = 0; i < 50 && taken === undefined; i++) {
      taken = await bindUdp(input);
      if (taken === undefined) await new Promise((r) => setTimeout(r, 10));
    }
    expect(taken).toBeDefined();
    held.push(taken!);
    expect(await send.exited).toBe(7);
    const restarts = send.events.filter((e) => e.code === 'ERR_EXEC_EXITED');
    expect(restarts).toHaveLength(1);
    expect(send.events.at(-1)).toMatchObject({
      event: 'error',
      code: 'ERR_PORT_IN_USE',
      fatal: true,
    });
    expect(send.events.at(-1)?.message).toContain(`127.0.0.1:${input} is already in use`);
  },
  40_000,
);
