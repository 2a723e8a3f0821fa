/**
 * The README's projects section, followed literally: its shell block runs line by line in bash
 * from a fresh directory laid out as the repository (against a running `punch serve` on that
 * directory's ./punch-data, found through PUNCH_SERVER as the README says), each `export X=…`
 * line filled in from what the previous command printed, as a reader pastes it. The example
 * app it ends with must then hand out tokens that Punch welcomes, and the private key file it
 * wrote must be git-ignored.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { signal } from '../conformance/projects-client.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SECRET = 'readme-projects-secret-0123456789abcdef';
const children: ChildProcess[] = [];
let work = '';

afterAll(async () => {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) {
            resolve();
            return;
          }
          c.once('exit', () => {
            resolve();
          });
          c.kill('SIGTERM');
        }),
    ),
  );
  if (work !== '') rmSync(work, { recursive: true, force: true });
});

/** The first ```sh block of the README's "WebRTC apps: projects" section, as lines. */
function projectsBlock(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## WebRTC apps: projects'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  expect(block).toBeDefined();
  return block!.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));
}

/** Runs one line in bash in `work` with `env`, to its end (at most 20 s). */
function bash(line: string, env: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('bash', ['-c', line], { cwd: work, env, timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : err.killed ? -1 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, out: `${stdout}${stderr}` });
    });
  });
}

/** Starts a long-running line and returns the first line it prints that `match` accepts. */
function started(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  match: RegExp,
  from: 'stdout' | 'stderr',
): Promise<RegExpExecArray> {
  const child = spawn(cmd, args, { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    const seen: string[] = [];
    const t = setTimeout(() => {
      reject(new Error(`no line matching ${String(match)} in 15 s:\n${seen.join('\n')}`));
    }, 15_000);
    const watch = (input: NodeJS.ReadableStream, mine: boolean): void => {
      createInterface({ input }).on('line', (l) => {
        seen.push(l);
        const m = mine ? match.exec(l) : null;
        if (m !== null) {
          clearTimeout(t);
          resolve(m);
        }
      });
    };
    watch(child.stdout, from === 'stdout');
    watch(child.stderr, from === 'stderr');
  });
}

it('the projects section works when followed literally, and its key file is git-ignored', async () => {
  work = mkdtempSync(join(tmpdir(), 'punch-readme-'));
  // A fresh checkout's layout: the commands name packages/… and examples/… relative to it.
  for (const d of ['packages', 'examples', 'node_modules'])
    symlinkSync(join(ROOT, d), join(work, d), 'dir');
  // A reader's shell: none of the variables the README has them set.
  const unset = new Set([
    'PUNCH_SERVER',
    'PUNCH_URL',
    'PUNCH_ACCOUNT_KEY',
    'PUNCH_PROJECT',
    'PORT',
  ]);
  const base: NodeJS.ProcessEnv = {
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !unset.has(k))),
    PUNCH_SECRET: SECRET,
  };
  // `npm start` in the same directory (any free ports, so the suite runs beside others).
  const [, server] = await started(
    process.execPath,
    ['packages/cli/bin/punch.js', 'serve', '--host', '127.0.0.1', '--port', '0'].concat([
      '--stun-port',
      '0',
      '--data-dir',
      './punch-data',
    ]),
    base,
    /^Dashboard: (http:\/\/127\.0\.0\.1:\d+)\/$/,
    'stderr',
  );
  // Punch elsewhere than localhost:8787: the README's `export PUNCH_SERVER=…`.
  const env: NodeJS.ProcessEnv = { ...base, PUNCH_SERVER: server };

  const lines = projectsBlock();
  const last = lines.pop()!;
  let previous = '';
  for (const line of lines) {
    const exported = /^export (\w+)=\S*…/.exec(line);
    if (exported !== null) {
      // The reader pastes the export line the previous command printed.
      const name = exported[1]!;
      const value = new RegExp(`export ${name}=(\\S+)`).exec(previous)?.[1];
      expect(value, `"${line}" expects the line before to print export ${name}=…`).toBeDefined();
      env[name] = value;
      continue;
    }
    const r = await bash(line, env);
    expect(r.code, `${line}\n${r.out}`).toBe(0);
    previous = r.out;
  }

  // The example app, on any free port (8080 may be taken here).
  expect(last).toMatch(/node examples\/call\/server\.mjs/);
  const [, app] = await started(
    'bash',
    ['-c', last.replace(/#.*$/, '')],
    { ...env, PORT: '0' },
    /^Call example on (http:\/\/127\.0\.0\.1:\d+)\//,
    'stdout',
  );
  const config = (await (await fetch(`${app}/config`)).json()) as { url: string };
  expect(config.url).toBe(server);
  const token = await (await fetch(`${app}/token?peer=alice`)).text();
  const c = await signal(server!, token);
  expect((await c.next('welcome')).peer).toBe('alice');
  c.close();

  // The private key it wrote is never committed by accident.
  const ignored = spawnSync('git', ['check-ignore', '--no-index', '-q', 'punch-key.json'], {
    cwd: ROOT,
  });
  expect(ignored.status).toBe(0);
}, 60_000);
