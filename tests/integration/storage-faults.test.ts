/**
 * A full disk under `punch serve` (DESIGN.md "Limits, storage faults and deletion"), as the real
 * CLI process on a 3 MiB tmpfs this test mounts: once the disk is full, a session create answers
 * `503 ERR_STORAGE`, a tally over the WebSocket answers `error ERR_STORAGE` and the socket stays,
 * a project peer connecting (an audit event) does not kill the process, `/healthz` answers 503
 * with the reason and `/metrics` counts it. Once the filler is deleted it all recovers by
 * itself: `/healthz` 200, sessions are created again, and the buffered audit event is written.
 * A SIGTERM on a full disk still ends the process with 0, logging the audit events it lost.
 * Mounting needs root: elsewhere the test is skipped, loudly (and fails under CI).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, codeOf, createSession, WsClient, type Created } from '../conformance/client.js';
import { mint, newProject, signal, uploadKey } from '../conformance/projects-client.js';
import { listeningUrl } from './serve-child.js';

const CLI = fileURLToPath(new URL('../../packages/cli/bin/punch.js', import.meta.url));
const SECRET = 'storage-faults-test-secret-0123456789abcdef';
const ROOT = process.getuid?.() === 0;

if (!ROOT) {
  const why =
    'storage-faults.test.ts needs root to mount a tmpfs: the full-disk checks are SKIPPED';
  if (process.env.CI === 'true') throw new Error(`${why} (and CI=true requires them)`);
  console.warn(`\n*** ${why} ***\n`);
}

let mountPoint = '';
let mounted = false;
let dataDir = '';
let proc: ChildProcess | undefined;
let base = '';
const logs: string[] = [];

function start(): Promise<string> {
  const args = [CLI, 'serve', '--host', '127.0.0.1', '--port', '0', '--no-stun'];
  args.push('--data-dir', dataDir, '--rate-limit', 'create=1000', '--rate-limit', 'read=100000');
  const child = spawn(process.execPath, args, {
    env: { ...process.env, PUNCH_SECRET: SECRET },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc = child;
  return listeningUrl(child, logs);
}

/** The crash this is all about: the process must still be running. */
function expectAlive(): void {
  expect(proc?.exitCode, `punch serve exited:\n${logs.slice(-20).join('\n')}`).toBeNull();
  expect(proc?.signalCode).toBeNull();
}

/** Runs `punch account create` against the data directory; returns the `pa_` key. */
function createAccount(name: string): string {
  const r = spawnSync(
    process.execPath,
    [CLI, 'account', 'create', name, '--data-dir', dataDir, '--json'],
    { encoding: 'utf8', timeout: 20_000 },
  );
  if (r.status !== 0) throw new Error(`account create failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { key: string }).key;
}

/**
 * Writes `file` until the file system has no byte left: chunks halve on ENOSPC down to one
 * byte (bounded: a 3 MiB disk takes at most a few hundred writes).
 */
function fill(file: string): void {
  const fd = openSync(file, 'w');
  try {
    let chunk = 64 * 1024;
    for (let i = 0; i < 10_000 && chunk >= 1; i++) {
      try {
        if (writeSync(fd, Buffer.alloc(chunk)) < chunk) chunk = Math.floor(chunk / 2);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
        chunk = Math.floor(chunk / 2);
      }
    }
  } finally {
    closeSync(fd);
  }
}

function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(name));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** The session's rows in the data directory's database, read by a reader of its own. */
function rowsOf(session: string): number {
  const db = new Database(join(dataDir, 'punch.sqlite'), { readonly: true, fileMustExist: true });
  try {
    return (
      db.prepare('SELECT COUNT(*) AS n FROM sessions WHERE id = ?').get(session) as { n: number }
    ).n;
  } finally {
    db.close();
  }
}

const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms);
  });

beforeAll(async () => {
  if (!ROOT) return;
  mountPoint = mkdtempSync('/tmp/punch-fault-');
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', mountPoint]);
  if (m.status !== 0) throw new Error(`mount failed: ${m.stderr.toString()}`);
  mounted = true;
  dataDir = join(mountPoint, 'data');
  mkdirSync(dataDir, { mode: 0o700 });
  base = await start();
});

afterAll(async () => {
  const p = proc;
  if (p !== undefined && p.exitCode === null && p.signalCode === null) {
    await new Promise<void>((resolve) => {
      p.once('exit', () => {
        resolve();
      });
      p.kill('SIGTERM');
      setTimeout(() => p.kill('SIGKILL'), 10_000).unref();
    });
  }
  if (mounted) {
    const u = spawnSync('umount', [mountPoint]);
    if (u.status !== 0) spawnSync('umount', ['-l', mountPoint]);
  }
  if (mountPoint !== '') rmSync(mountPoint, { recursive: true, force: true });
});

describe.skipIf(!ROOT)('a full disk under punch serve', () => {
  let session: Created;
  let doomed: Created;
  let admin: WsClient;
  let project = '';
  let account = '';
  let peerToken = '';
  const filler = (): string => join(mountPoint, 'filler');

  it('works before the disk fills', async () => {
    account = createAccount('fault-acct');
    const acct = { name: 'fault-acct', key: account };
    project = await newProject(base, acct, 'faults');
    const key = await uploadKey(base, acct, project);
    peerToken = await mint(key, { group: 'g', peer: 'alice' });
    session = await createSession(base);
    admin = await WsClient.connect(base, session.session, session.token);
    await admin.next('welcome');
    admin.send({ type: 'register', stream: 'main', role: 'sender' });
    await admin.next('registered');
    doomed = await createSession(base);
    // An ended session truncates the write-ahead log: every write after it needs new space.
    const ended = await createSession(base);
    expect(
      (await call(base, 'DELETE', `/api/session/${ended.session}`, { token: ended.token })).status,
    ).toBe(204);
    expect((await call(base, 'GET', '/healthz')).status).toBe(200);
  });

  it('refuses writes with 503 ERR_STORAGE, one request or message at a time', async () => {
    fill(filler());
    const create = await call(base, 'POST', '/api/session', { body: { name: 'after-full' } });
    expect(create.status, create.text).toBe(503);
    expect(codeOf(create)).toBe('ERR_STORAGE');
    expect(create.headers['retry-after']).toBeDefined();
    expect(create.headers['content-type']).toContain('application/problem+json');

    admin.send({ type: 'tally', program: ['main'], preview: [] });
    const refused = await admin.next('error');
    expect(refused.code).toBe('ERR_STORAGE');
    // The socket stays, and the tally that could not be stored did not happen.
    await admin.settle();
    expect(admin.closeCode).toBeUndefined();
    const view = await call(base, 'GET', `/api/session/${session.session}`, {
      token: session.token,
    });
    expect(view.status).toBe(200);
    expect((view.json as { tally: unknown }).tally).toEqual({ program: [], preview: [] });

    // Extending is refused the same way, and the session keeps its expiry.
    const extend = await call(base, 'PATCH', `/api/session/${session.session}`, {
      token: session.token,
      body: { ttl: 7200 },
    });
    expect([extend.status, codeOf(extend)]).toEqual([503, 'ERR_STORAGE']);
    const after = await call(base, 'GET', `/api/session/${session.session}`, {
      token: session.token,
    });
    expect((after.json as { expiresAt: number }).expiresAt).toBe(session.expiresAt);

    // The projects routes too.
    const made = await call(base, 'POST', '/api/projects', {
      token: account,
      body: { name: 'no-room' },
    });
    expect([made.status, codeOf(made)]).toEqual([503, 'ERR_STORAGE']);

    // A health report that cannot be stored is dropped (and counted), not refused: the admin
    // still gets it live.
    admin.send({ type: 'health', stream: 'main', role: 'sender', stats: { rttMs: 9 } });
    expect((await admin.next('health')).stats).toEqual({ rttMs: 9 });
    await admin.settle();
    expect(admin.all('error')).toHaveLength(1);

    // A session deleted now ends for its sockets at once; its rows go once the disk has room.
    const del = await call(base, 'DELETE', `/api/session/${doomed.session}`, {
      token: doomed.token,
    });
    expect(del.status).toBe(204);
    const gone = await call(base, 'GET', `/api/session/${doomed.session}`, { token: doomed.token });
    expect(gone.status).toBe(404);
    expectAlive();
  });

  it('a project peer connecting (an audit event) does not kill the process', async () => {
    const peer = await signal(base, peerToken);
    expect((await peer.next('welcome')).peer).toBe('alice');
    // The periodic audit write (one a second: the one that crashed the process) gives no
    // event to wait for: two and a half seconds of it must pass on the full disk.
    await sleep(2500);
    peer.close();
    expectAlive();
  });

  it('/healthz answers 503 with the reason, and /metrics counts the failures', async () => {
    const h = await call(base, 'GET', '/healthz');
    expect(h.status).toBe(503);
    expect(h.json).toMatchObject({ ok: false });
    expect((h.json as { reason: string }).reason).toContain('disk is full');
    const m = (await call(base, 'GET', '/metrics')).text;
    expect(metric(m, 'punch_storage_failing')).toBe(1);
    expect(metric(m, 'punch_storage_failures_total{code="SQLITE_FULL"}')).toBeGreaterThan(0);
    expect(metric(m, 'punch_storage_pending{what="audit"}')).toBeGreaterThan(0);
    expect(metric(m, 'punch_storage_pending{what="session-delete"}')).toBe(1);
    expect(metric(m, 'punch_storage_dropped_total{what="health-sample"}')).toBe(1);
    expect(logs.filter((l) => l.includes('storage failing')).length).toBe(1);
    expectAlive();
  });

  it('recovers by itself once space returns', async () => {
    unlinkSync(filler());
    // The probe backs off to at most 10 s between tries: 60 polls of 0.5 s cover it.
    let status = 0;
    for (let i = 0; i < 60 && status !== 200; i++) {
      await sleep(500);
      status = (await call(base, 'GET', '/healthz')).status;
    }
    expect(status).toBe(200);
    expect(logs.some((l) => l.includes('storage recovered'))).toBe(true);
    const create = await call(base, 'POST', '/api/session', { body: { name: 'after-space' } });
    expect(create.status, create.text).toBe(201);
    admin.send({ type: 'tally', program: ['main'], preview: [] });
    expect((await admin.next('tally')).program).toEqual(['main']);
    const audit = await call(base, 'GET', `/api/projects/${project}/audit`, { token: account });
    expect(audit.status).toBe(200);
    const events = (audit.json as { events: { kind: string; from: { peer: string } }[] }).events;
    expect(events.some((e) => e.kind === 'connect' && e.from.peer === 'alice')).toBe(true);
    const m = (await call(base, 'GET', '/metrics')).text;
    expect(metric(m, 'punch_storage_failing')).toBe(0);
    expect(metric(m, 'punch_storage_pending{what="audit"}')).toBe(0);
    expect(metric(m, 'punch_storage_pending{what="session-delete"}')).toBe(0);
    expect(rowsOf(doomed.session)).toBe(0);
    admin.close();
    expectAlive();
    const done = create.json as Created;
    // Truncates the write-ahead log again, for the next test's full disk.
    const del = await call(base, 'DELETE', `/api/session/${done.session}`, { token: done.token });
    expect(del.status).toBe(204);
  });

  it('SIGTERM on a full disk ends the process cleanly, saying which audit events were lost', async () => {
    fill(filler());
    const peer = await signal(base, peerToken);
    await peer.next('welcome');
    const p = proc!;
    const exited = new Promise<number | null>((resolve) => {
      p.once('exit', (code) => {
        resolve(code);
      });
    });
    p.kill('SIGTERM');
    expect(await exited).toBe(0);
    peer.close();
    expect(logs.some((l) => l.includes('audit events lost at shutdown'))).toBe(true);
    unlinkSync(filler());
  });
});
