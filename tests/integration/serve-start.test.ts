/**
 * `punch serve` starting and failing to start, as the real CLI process: a taken port ends it at
 * once with a message naming the port (and releases the sockets it had opened, so a second try
 * can have them), and a good start prints one `Dashboard:` line on stderr while stdout stays
 * JSON logs only.
 */
import { execFile, spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../../packages/cli/bin/punch.js', import.meta.url));
const SECRET = 'serve-start-test-secret-0123456789abcdef';
const dirs: string[] = [];
const held: (Server | Socket)[] = [];

afterEach(async () => {
  await Promise.all(
    held.splice(0).map(
      (h) =>
        new Promise<void>((resolve) => {
          h.close(() => {
            resolve();
          });
        }),
    ),
  );
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'punch-serve-'));
  dirs.push(d);
  return d;
}

/** Runs `punch serve ARGS` to its end (at most 20 s; -1 if it had to be killed). */
function serve(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, 'serve', '--host', '127.0.0.1', '--data-dir', dataDir(), ...args],
      { env: { ...process.env, PUNCH_SECRET: SECRET }, timeout: 20_000 },
      (err, stdout, stderr) => {
        const code =
          err === null ? 0 : err.killed ? -1 : typeof err.code === 'number' ? err.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function holdTcp(port = 0): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => {
      resolve(undefined);
    });
    s.listen(port, '127.0.0.1', () => {
      held.push(s);
      resolve(s);
    });
  });
}

function holdUdp(port = 0): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const s = createSocket({ type: 'udp4', reuseAddr: false });
    s.once('error', () => {
      s.close();
      resolve(undefined);
    });
    s.bind(port, '127.0.0.1', () => {
      held.push(s);
      resolve(s);
    });
  });
}

/** The first line of `input` that `match` accepts (at most 15 s). */
function firstLine(input: NodeJS.ReadableStream, match: (l: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      reject(new Error('no such line in 15 s'));
    }, 15_000);
    createInterface({ input }).on('line', (l) => {
      if (match(l)) {
        clearTimeout(t);
        resolve(l);
      }
    });
  });
}

const tcpPort = (s: Server): number => (s.address() as AddressInfo).port;

/** A port number free now on both UDP and TCP (STUN and TURN over TCP share it). */
async function freeStunPort(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const udp = await holdUdp();
    const port = udp!.address().port;
    const tcp = await holdTcp(port);
    await release(udp!);
    if (tcp !== undefined) {
      await release(tcp);
      return port;
    }
  }
  throw new Error('no port free on both UDP and TCP in 20 tries');
}

function release(h: Server | Socket): Promise<void> {
  held.splice(held.indexOf(h), 1);
  return new Promise((resolve) => {
    h.close(() => {
      resolve();
    });
  });
}

it('the HTTP port taken: exits non-zero at once naming it, and frees the STUN and TURN ports', async () => {
  const taken = (await holdTcp())!;
  const http = tcpPort(taken);
  const stun = await freeStunPort();
  const r = await serve(['--port', String(http), '--stun-port', String(stun)]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`HTTP port ${http} is already in use`);
  expect(r.stderr).toContain('--port');
  // STUN (UDP) and TURN over TCP were up before the HTTP port failed: both are free again.
  expect(await holdUdp(stun)).toBeDefined();
  expect(await holdTcp(stun)).toBeDefined();
});

it('the STUN port taken: exits non-zero naming it as the STUN port', async () => {
  const stun = await freeStunPort();
  await holdUdp(stun);
  const r = await serve(['--port', '0', '--stun-port', String(stun)]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`STUN port ${stun} (UDP) is already in use`);
  expect(r.stderr).toContain('--stun-port');
});

it("the STUN port's TCP side taken (TURN over TCP): exits non-zero naming it, UDP freed", async () => {
  const stun = await freeStunPort();
  await holdTcp(stun);
  const r = await serve(['--port', '0', '--stun-port', String(stun)]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`port ${stun} (TCP, the relay's TURN over TCP beside STUN)`);
  expect(r.stderr).toContain('--no-relay');
  expect(await holdUdp(stun)).toBeDefined();
});

it('a good start prints one Dashboard line on stderr; stdout stays JSON logs', async () => {
  const child = spawn(
    process.execPath,
    [CLI, 'serve', '--host', '127.0.0.1', '--port', '0', '--stun-port', '0'].concat([
      '--data-dir',
      dataDir(),
    ]),
    { env: { ...process.env, PUNCH_SECRET: SECRET }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  try {
    const stdout: string[] = [];
    const listening = firstLine(child.stdout, (l) => {
      stdout.push(l);
      return l.includes('"listening"');
    });
    const dashboard = (await firstLine(child.stderr, (l) => l.startsWith('Dashboard: '))).slice(
      'Dashboard: '.length,
    );
    expect(dashboard).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    // The link serves the dashboard.
    const page = await fetch(dashboard);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    // stdout: JSON only, so `punch serve | jq` keeps working.
    await listening;
    for (const l of stdout) expect(() => JSON.parse(l) as unknown).not.toThrow();
  } finally {
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await gone;
  }
});
