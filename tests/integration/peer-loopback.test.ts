/**
 * `punch peer` on loopback, for what needs no NAT: a host without STUN (the agents ask an
 * external STUN server and claim their endpoint, as on Cloudflare), and `--exec` restarting
 * srt-live-transmit when it dies.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { startHost, startWorkerdHost, type Host } from '../conformance/host.js';
import { createSession, peerToken } from '../conformance/client.js';

const CLI = fileURLToPath(new URL('../../packages/cli/bin/punch.js', import.meta.url));
type Event = { event: string } & Record<string, unknown>;

let noStun: Host;
let stunOnly: Host;
/** The Cloudflare host on a local workerd: no UDP at all. */
let workers: Host;
/** The same, configured with a public STUN server (`PUNCH_STUN_URLS`) it names to agents. */
let workersStun: Host;
const children: ChildProcess[] = [];

beforeAll(async () => {
  [noStun, stunOnly, workers] = await Promise.all([
    startHost({ extraArgs: ['--no-stun'] }),
    startHost(),
    startWorkerdHost(),
  ]);
  workersStun = await startWorkerdHost({ stunUrls: [`stun:127.0.0.1:${stunOnly.stunPort}`] });
});
afterEach(async () => {
  // SIGTERM: the agents stop what they started (srt-live-transmit); SIGKILL only as a backstop.
  await Promise.all(
    children.splice(0).map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) {
            resolve();
            return;
          }
          const t = setTimeout(() => c.kill('SIGKILL'), 3000);
          c.once('exit', () => {
            clearTimeout(t);
            resolve();
          });
          c.kill('SIGTERM');
        }),
    ),
  );
});
afterAll(async () => {
  await Promise.all([noStun.stop(), stunOnly.stop(), workers.stop(), workersStun.stop()]);
});

function agent(args: string[]): {
  pid: number;
  events: Event[];
  waitFor: (p: (e: Event) => boolean, what: string) => Promise<Event>;
} {
  const child = spawn(process.execPath, [
    CLI,
    'peer',
    '--json',
    '--no-lan',
    '--bind',
    '127.0.0.1',
    ...args,
  ]);
  children.push(child);
  const events: Event[] = [];
  const waiters: { p: (e: Event) => boolean; resolve: (e: Event) => void }[] = [];
  createInterface({ input: child.stdout }).on('line', (l) => {
    const e = JSON.parse(l) as Event;
    events.push(e);
    for (const w of waiters.splice(0)) {
      if (w.p(e)) w.resolve(e);
      else waiters.push(w);
    }
  });
  return {
    pid: child.pid ?? 0,
    events,
    waitFor: (p, what) => {
      const seen = events.find(p);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => {
          reject(
            new Error(`no ${what}: ${JSON.stringify(events.filter((e) => e.event !== 'health'))}`),
          );
        }, 15_000);
        waiters.push({
          p,
          resolve: (e) => {
            clearTimeout(t);
            resolve(e);
          },
        });
      });
    },
  };
}

const direct = (e: Event): boolean => e.event === 'path' && e.path === 'direct';

function bindUdp(port: number): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => {
      s.close();
      resolve(undefined);
    });
    s.bind(port, '127.0.0.1', () => {
      resolve(s);
    });
  });
}

/**
 * A UDP port P on 127.0.0.1 that the OS has just handed out, with P+1 … P+span-1 free too
 * (`--receive` binds --srt-target's port + 1): bound, read, and released for the agent.
 */
async function freeUdpPort(span = 1): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const first = await bindUdp(0);
    if (first === undefined) continue;
    const port = first.address().port;
    const held = [first];
    for (let i = 1; i < span && port + i <= 65535; i++) {
      const next = await bindUdp(port + i);
      if (next === undefined) break;
      held.push(next);
    }
    await Promise.all(held.map((s) => new Promise<void>((r) => s.close(r))));
    if (held.length === span) return port;
  }
  throw new Error(`no ${span} free consecutive UDP ports on 127.0.0.1 in 20 attempts`);
}

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

function hasSlt(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v srt-live-transmit'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
if (!hasSlt())
  console.warn(
    '\n!!! SKIPPING the --exec restart test: srt-live-transmit is not installed (apt-get install srt-tools)\n',
  );

it.skipIf(!hasSlt())('--exec restarts srt-live-transmit when it dies', async () => {
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
  process.kill(send.pid, 'SIGKILL');
  let left: string[] = second;
  for (let i = 0; i < 50 && left.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
    left = pids();
  }
  expect(left).toEqual([]);
});
