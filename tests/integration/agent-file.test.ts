/**
 * Getting the agent without cloning: `GET /agent/punch.mjs` from a running `punch serve` (and
 * from the Workers host) is one file that runs from an empty directory on Node 20 and connects;
 * the packed CLI (`npm pack` of packages/cli) installs into a fresh prefix with nothing to
 * compile. Reads the build `npm run build` makes.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createSession } from '../conformance/client.js';
import { startHost, type Host } from '../conformance/host.js';

const CLI_PKG = fileURLToPath(new URL('../../packages/cli/', import.meta.url));
const BUILT = fileURLToPath(new URL('../../packages/web/dist/agent/punch.mjs', import.meta.url));

const scratch: string[] = [];
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  scratch.push(dir);
  return dir;
}

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to its end; a hung one is killed by the timeout and reported as code -1. */
function run(file: string, args: string[], cwd: string, timeout = 30_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      // No NODE_PATH, so nothing outside the directory can stand in for a missing module.
      { cwd, timeout, env: { ...process.env, NODE_PATH: '', PUNCH_TOKEN: '', PUNCH_SERVER: '' } },
      (err, stdout, stderr) => {
        const code =
          err === null ? 0 : err.killed ? -1 : typeof err.code === 'number' ? err.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Every file name under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' });
}

let host: Host;
let agentDir = '';
beforeAll(async () => {
  host = await startHost();
  // Fetched as an operator would (`curl -fsSO …/agent/punch.mjs`) into an empty directory.
  agentDir = tempDir('punch-agent-file-');
  const res = await fetch(`${host.url}/agent/punch.mjs`);
  if (res.status !== 200)
    throw new Error(`GET /agent/punch.mjs → ${res.status}: run npm run build`);
  writeFileSync(join(agentDir, 'punch.mjs'), new Uint8Array(await res.arrayBuffer()));
});
afterAll(async () => {
  await host.stop();
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

describe('the agent as one file', () => {
  it('is served at /agent/punch.mjs as JavaScript, with no native module in it', async () => {
    const res = await fetch(`${host.url}/agent/punch.mjs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const body = new Uint8Array(await res.arrayBuffer());
    expect(Buffer.from(body).equals(readFileSync(BUILT))).toBe(true);
    const text = new TextDecoder().decode(body);
    expect(text.startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(text).not.toContain('better-sqlite3');
    expect(text).not.toContain('better_sqlite3');
    // No compiled addon is loaded: no `.node` file named, no bindings/node-gyp-build loader.
    expect(text).not.toMatch(/\.node['"`]/);
    expect(text).not.toMatch(/node-gyp-build|require\(['"]bindings['"]\)/);
  });

  it('runs from an empty directory: --help and peer --help', async () => {
    const help = await run(process.execPath, ['punch.mjs', '--help'], agentDir);
    expect(help.stderr).toBe('');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('punch peer LINK');
    const peer = await run(process.execPath, ['punch.mjs', 'peer', '--help'], agentDir);
    expect(peer.code).toBe(0);
    expect(peer.stdout).toContain('punch peer OPERATOR_URL (--send | --receive)');
    expect(filesUnder(agentDir)).toEqual(['punch.mjs']);
  });

  it('carries the admin commands: session create against the running server', async () => {
    const r = await run(
      process.execPath,
      ['punch.mjs', 'session', 'create', '--streams', 'cam-a', '--json', '--server', host.url],
      agentDir,
    );
    expect(r.code, r.stderr).toBe(0);
    const created = JSON.parse(r.stdout) as { session: string; token: string };
    expect(created.token).toMatch(/^p_/);
    const view = await call(host.url, 'GET', `/api/session/${created.session}`, {
      token: created.token,
    });
    expect(view.status).toBe(200);
  });

  it('says plainly that serving needs the full install', async () => {
    for (const args of [['serve'], ['serve', '--help']]) {
      const r = await run(process.execPath, ['punch.mjs', ...args], agentDir);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toContain('needs the full Punch install');
    }
  });

  it("connects to the server with a real peer token and registers (the operator's link)", async () => {
    const created = await createSession(host.url, { streams: ['cam-wide'] });
    const minted = await fetch(`${host.url}/api/session/${created.session}/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${created.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ stream: 'cam-wide' }),
    });
    expect(minted.status).toBe(201);
    const { url } = (await minted.json()) as { url: string };
    expect(url).toMatch(/\/s\/[^?]+\?t=p_/);

    const agent = spawn(
      process.execPath,
      ['punch.mjs', 'peer', url, '--send', '--json', '--srt-listen', '127.0.0.1:0'],
      { cwd: agentDir, env: { ...process.env, NODE_PATH: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const events: { event: string; stream?: string; role?: string }[] = [];
    let stderr = '';
    agent.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    let buffer = '';
    const registered = new Promise<void>((resolve, reject) => {
      // Bounded: the agent either registers or the test fails with what it said.
      const timer = setTimeout(() => {
        reject(new Error(`no "registered" in 20 s: ${JSON.stringify(events)} ${stderr}`));
      }, 20_000);
      agent.stdout.on('data', (c: Buffer) => {
        buffer += c.toString('utf8');
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          events.push(JSON.parse(buffer.slice(0, nl)) as (typeof events)[number]);
          buffer = buffer.slice(nl + 1);
          if (events.at(-1)?.event === 'registered') {
            clearTimeout(timer);
            resolve();
          }
        }
      });
      agent.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the agent exited (${code}) before registering: ${stderr}`));
      });
    });
    const exited = new Promise<number | null>((resolve) => agent.once('exit', resolve));
    const stateOf = async (): Promise<string | undefined> => {
      const view = await call(host.url, 'GET', `/api/session/${created.session}`, {
        token: created.token,
      });
      const streams = (view.json as { streams: { name: string; state: string }[] }).streams;
      return streams.find((st) => st.name === 'cam-wide')?.state;
    };
    try {
      await registered;
      // The server saw it too: cam-wide has its sender (once its endpoint is learned, by STUN
      // from the agent's media socket) and waits for a receiver.
      await expect.poll(stateOf, { timeout: 10_000 }).toBe('waiting');
    } finally {
      agent.kill('SIGTERM');
    }
    expect(events.find((e) => e.event === 'registered')).toMatchObject({
      stream: 'cam-wide',
      role: 'sender',
    });
    expect(await exited).toBe(0);
  });
});

describe('the packed CLI', () => {
  it('installs into a fresh prefix with nothing compiled, and runs punch peer --help', async () => {
    const packs = tempDir('punch-pack-');
    const packed = await run('npm', ['pack', '--silent', '--pack-destination', packs], CLI_PKG);
    expect(packed.code, packed.stderr).toBe(0);
    const tgz = readdirSync(packs).find((f) => f.endsWith('.tgz'));
    expect(tgz).toBeDefined();
    const prefix = tempDir('punch-prefix-');
    const installed = await run(
      'npm',
      ['install', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', join(packs, tgz!)],
      prefix,
      120_000,
    );
    expect(installed.code, installed.stderr).toBe(0);
    // No unpublished package was asked for: the CLI is the only package installed.
    expect(readdirSync(join(prefix, 'node_modules')).filter((n) => !n.startsWith('.'))).toEqual([
      '@punch',
    ]);
    expect(readdirSync(join(prefix, 'node_modules', '@punch'))).toEqual(['cli']);
    const bin = join(prefix, 'node_modules', '.bin', 'punch');
    const help = await run(bin, ['peer', '--help'], prefix);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain('punch peer OPERATOR_URL (--send | --receive)');
    expect(filesUnder(prefix).filter((f) => f.endsWith('.node'))).toEqual([]);
  }, 180_000);
});

describe('the Workers host', () => {
  let worker: Host;
  beforeAll(async () => {
    worker = await startHost({}, 'workerd');
  }, 120_000);
  afterAll(async () => {
    await worker.stop();
  });

  it('serves the same file from its static assets, as JavaScript', async () => {
    const res = await fetch(`${worker.url}/agent/punch.mjs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(Buffer.from(await res.arrayBuffer()).equals(readFileSync(BUILT))).toBe(true);
  });
});
