/**
 * `punch peer` on loopback, for what needs no NAT: a host without STUN (the agents ask an
 * external STUN server and claim their endpoint, as on Cloudflare), and `--exec` restarting
 * srt-live-transmit when it dies.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { startHost, startWorkerdHost, type Host } from '../conformance/host.js';
import { createSession, peerToken } from '../conformance/client.js';
import {
  Children,
  freeUdpPort,
  installed,
  spawnAgent,
  type AgentProc,
  type Event,
} from './agents.js';

let noStun: Host;
let stunOnly: Host;
/** The Cloudflare host on a local workerd: no UDP at all. */
let workers: Host;
/** The same, configured with a public STUN server (`PUNCH_STUN_URLS`) it names to agents. */
let workersStun: Host;
const children = new Children();

beforeAll(async () => {
  [noStun, stunOnly, workers] = await Promise.all([
    startHost({ extraArgs: ['--no-stun'] }),
    startHost(),
    startWorkerdHost(),
  ]);
  workersStun = await startWorkerdHost({ stunUrls: [`stun:127.0.0.1:${stunOnly.stunPort}`] });
});
// SIGTERM: the agents stop what they started (srt-live-transmit); SIGKILL only as a backstop.
afterEach(() => children.stopAll());
afterAll(async () => {
  await Promise.all([noStun.stop(), stunOnly.stop(), workers.stop(), workersStun.stop()]);
});

const agent = (args: string[]): AgentProc => spawnAgent(args, { children, waitMs: 15_000 });

const direct = (e: Event): boolean => e.event === 'path' && e.path === 'direct';

/**
 * Two agents pairing through `host`, asking STUN at `stunOnly`. No SRT flows: --srt-listen is
 * port 0 (the OS picks it; nothing connects to it here).
 */
async function pairWithExternalStun(host: Host, named: 'flag' | 'host' = 'flag'): Promise<void> {
  const s = await createSession(host.url, { streams: ['cam-1'] });
  // Named by the agent's --stun, or by the host itself in `welcome.publicStun`.
  const stun = named === 'flag' ? ['--stun', `127.0.0.1:${stunOnly.stunPort}`] : [];
  const send = agent([
    '--server',
    host.url,
    '--token',
    await peerToken(host.url, s, 'cam-1'),
    '--send',
    '--srt-listen',
    '127.0.0.1:0',
    ...stun,
  ]);
  const recv = agent([
    '--server',
    host.url,
    '--token',
    await peerToken(host.url, s, 'cam-1'),
    '--receive',
    '--srt-target',
    `127.0.0.1:${await freeUdpPort(2)}`,
    ...stun,
  ]);
  expect(await send.waitFor((e) => e.event === 'registered', 'registered')).toMatchObject({
    stun: 'external',
  });
  await Promise.all([send.waitFor(direct, 'direct path'), recv.waitFor(direct, 'direct path')]);
  const paired = await recv.waitFor((e) => e.event === 'paired', 'paired');
  expect(paired.remote).toMatchObject({ ip: '127.0.0.1' });
}

it('a host without STUN: the agents ask the configured STUN server, claim their endpoint, and punch', async () => {
  await pairWithExternalStun(noStun);
});

it('the Workers host (workerd): real agents pair and punch with a STUN server of their own', async () => {
  await pairWithExternalStun(workers);
});

it('the Workers host naming a public STUN server (PUNCH_STUN_URLS): agents need no --stun', async () => {
  await pairWithExternalStun(workersStun, 'host');
});

it('without STUN anywhere the agent says what to pass', async () => {
  const s = await createSession(noStun.url, { streams: ['cam-1'] });
  const a = agent([
    '--server',
    noStun.url,
    '--token',
    s.token,
    '--stream',
    'cam-1',
    '--send',
    '--srt-listen',
    '127.0.0.1:0',
  ]);
  const err = await a.waitFor((e) => e.event === 'error', 'an error');
  expect(err).toMatchObject({ code: 'ERR_NO_STUN', fatal: true });
  expect(err.message).toContain('--stun');
});

const SLT = installed('srt-live-transmit');
if (!SLT)
  console.warn(
    '\n!!! SKIPPING the --exec restart test: srt-live-transmit is not installed (apt-get install srt-tools)\n',
  );

it.skipIf(!SLT)('--exec restarts srt-live-transmit when it dies', async () => {
  // A port the OS says is free, so no other srt-live-transmit on the machine matches.
  const input = await freeUdpPort();
  const s = await createSession(stunOnly.url, { streams: ['cam-1'] });
  const send = agent([
    '--server',
    stunOnly.url,
    '--token',
    s.token,
    '--stream',
    'cam-1',
    '--send',
    '--srt-listen',
    `127.0.0.1:${await freeUdpPort()}`,
    '--exec',
    `udp://127.0.0.1:${input}`,
  ]);
  const recv = agent([
    '--server',
    stunOnly.url,
    '--token',
    s.token,
    '--stream',
    'cam-1',
    '--receive',
    '--srt-target',
    `127.0.0.1:${await freeUdpPort(2)}`,
  ]);
  await Promise.all([send.waitFor(direct, 'direct path'), recv.waitFor(direct, 'direct path')]);
  const pids = (): string[] => {
    try {
      return execFileSync('pgrep', ['-f', `srt-live-transmit.*127.0.0.1:${input} `], {
        encoding: 'utf8',
      })
        .trim()
        .split('\n');
    } catch {
      return [];
    }
  };
  let first: string[] = [];
  for (let i = 0; i < 50 && first.length === 0; i++) {
    first = pids();
    if (first.length === 0) await new Promise((r) => setTimeout(r, 100));
  }
  expect(first).toHaveLength(1);
  process.kill(Number(first[0]), 'SIGKILL');
  const err = await send.waitFor(
    (e) => e.event === 'error' && e.code === 'ERR_EXEC_EXITED',
    'the exec error',
  );
  expect(err.fatal).toBe(false);
  let second: string[] = [];
  for (let i = 0; i < 50 && (second.length === 0 || second[0] === first[0]); i++) {
    second = pids();
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(second).toHaveLength(1);
  expect(second[0]).not.toBe(first[0]);

  // An agent killed outright takes its srt-live-transmit with it (no orphan holding the ports).
  send.kill('SIGKILL');
  let left: string[] = second;
  for (let i = 0; i < 50 && left.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
    left = pids();
  }
  expect(left).toEqual([]);
});
