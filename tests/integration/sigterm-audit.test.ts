/**
 * SIGTERM flushes buffered audit events (DESIGN.md "Limits, storage faults and deletion"):
 * audit events are written once a second, so a `punch serve` stopped less than a second after
 * a project peer connected still has that connection in its database. The real CLI process,
 * its file opened read-only after it exited.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, expect, it } from 'vitest';
import { mint, newProject, signal, uploadKey } from '../conformance/projects-client.js';
import { listeningUrl } from './serve-child.js';

const CLI = fileURLToPath(new URL('../../packages/cli/bin/punch.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'punch-sigterm-'));
let proc: ChildProcess | undefined;
const logs: string[] = [];

afterAll(() => {
  if (proc !== undefined && proc.exitCode === null && proc.signalCode === null)
    proc.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function start(): Promise<string> {
  const args = [CLI, 'serve', '--host', '127.0.0.1', '--port', '0', '--no-stun'];
  const child = spawn(process.execPath, [...args, '--data-dir', dir], {
    env: { ...process.env, PUNCH_SECRET: 'sigterm-audit-test-secret-0123456789abcdef' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc = child;
  return listeningUrl(child, logs);
}

it('an audit event buffered when SIGTERM arrives is in the database after exit', async () => {
  const base = await start();
  const made = spawnSync(
    process.execPath,
    [CLI, 'account', 'create', 'term-acct', '--data-dir', dir, '--json'],
    { encoding: 'utf8', timeout: 20_000 },
  );
  expect(made.status, made.stderr).toBe(0);
  const account = { name: 'term-acct', key: (JSON.parse(made.stdout) as { key: string }).key };
  const project = await newProject(base, account, 'term');
  const key = await uploadKey(base, account, project);
  const token = await mint(key, { group: 'g', peer: 'last-second' });
  const p = proc!;
  const exited = new Promise<number | null>((resolve) => {
    p.once('exit', (code) => {
      resolve(code);
    });
  });
  const peer = await signal(base, token);
  expect((await peer.next('welcome')).peer).toBe('last-second');
  // At once: well within the second before the next periodic write.
  p.kill('SIGTERM');
  expect(await exited).toBe(0);
  peer.close();

  const db = new Database(join(dir, 'punch.sqlite'), { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare('SELECT kind, outcome FROM audit WHERE project = ? AND from_peer = ?')
      .all(project, 'last-second');
    expect(rows).toEqual([{ kind: 'connect', outcome: 'connected' }]);
  } finally {
    db.close();
  }
});
