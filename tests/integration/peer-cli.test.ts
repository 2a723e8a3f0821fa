/** `punch peer` failure modes that need no NAT lab: what the operator sees, and the exit code. */
import { execFile, spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../../packages/cli/bin/punch.js', import.meta.url));
const claims = { session: 'nab-floor', role: 'peer', stream: 'cam-1', exp: 4_000_000_000 };
// A well-formed token (the agent reads its session and stream before any server verifies it).
const TOKEN = `p_${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${'A'.repeat(43)}`;

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, 'peer', ...args],
      { timeout: 20_000 },
      (err, stdout, stderr) => {
        resolve({
          code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1,
          stdout,
          stderr,
        });
      },
    );
  });
}

/** A UDP socket on 127.0.0.1, on a port the OS picked. */
async function udpSocket(): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((r) =>
    s.bind(0, '127.0.0.1', () => {
      r();
    }),
  );
  return s;
}

it('a local SRT port already in use: a clear error and exit 7', async () => {
  const holder = await udpSocket();
  const port = holder.address().port;
  const r = await run([
    '--server',
    'http://127.0.0.1:9',
    '--token',
    TOKEN,
    '--send',
    '--srt-listen',
    `127.0.0.1:${port}`,
  ]);
  holder.close();
  expect(r.code).toBe(7);
  expect(r.stdout).toContain(`127.0.0.1:${port} is already in use`);
  expect(r.stdout).toContain('--srt-listen');
});

it('Punch unreachable: the agent says so and keeps retrying instead of exiting', async () => {
  // --receive binds --srt-target's port + 1 as its source port: a port the OS has just handed
  // out, with the target just below it (nothing is ever sent there: Punch is unreachable).
  const probe = await udpSocket();
  const source = probe.address().port;
  await new Promise<void>((r) => probe.close(r));
  const child = spawn(process.execPath, [
    CLI,
    'peer',
    '--server',
    'http://127.0.0.1:9',
    '--token',
    TOKEN,
    '--receive',
    '--srt-target',
    `127.0.0.1:${source - 1}`,
    '--json',
  ]);
  const events: { event: string; status?: string; detail?: string }[] = [];
  const retries = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`no retries seen: ${JSON.stringify(events)}`));
    }, 15_000);
    createInterface({ input: child.stdout }).on('line', (l) => {
      events.push(JSON.parse(l) as (typeof events)[number]);
      const n = events.filter(
        (e) => e.status === 'connecting' && e.detail?.includes('retrying') === true,
      ).length;
      if (n >= 2) {
        clearTimeout(timer);
        resolve(n);
      }
    });
  });
  expect(child.exitCode).toBeNull();
  child.kill('SIGINT');
  expect(retries).toBeGreaterThanOrEqual(2);
  expect(events.find((e) => e.detail !== undefined)?.detail).toMatch(
    /cannot reach Punch at http:\/\/127\.0\.0\.1:9/,
  );
});

it('usage mistakes exit 2 with a hint', async () => {
  const both = await run([
    '--server',
    'http://127.0.0.1:9',
    '--token',
    TOKEN,
    '--send',
    '--receive',
  ]);
  expect(both.code).toBe(2);
  expect(both.stderr).toContain('--send or --receive');
  const notALink = await run(['https://example.com/wrong', '--send']);
  expect(notALink.code).toBe(2);
  expect(notALink.stderr).toContain('operator link');
});
