/**
 * What `punch serve` leaves on disk (DESIGN.md "Limits, storage faults and deletion"), as the
 * real CLI process with a umask of 0 in a data directory of mode 0777: every file is 0600; a
 * session deleted or expired leaves its passphrase in no file; and one socket holding every
 * slot of a 32-stream session, sending health of the largest size at the full message rate,
 * grows the database by a bounded amount (its stored health at most 1 MiB).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEALTH_MAX_BYTES } from '@punch/core';
import { call, createSession, WsClient } from '../conformance/client.js';
import { listeningUrl } from './serve-child.js';

const CLI = fileURLToPath(new URL('../../packages/cli/bin/punch.js', import.meta.url));
/** The per-socket message limit `punch serve` applies by default (core's RATE_LIMITS.message). */
const MESSAGES_PER_SECOND = 100;
const FLOOD_SECONDS = 12;

let dir: string;
let proc: ChildProcess;
let base: string;
/** Every line `punch serve` printed on stdout. */
const logs: string[] = [];

/** Starts `punch serve` under `umask 000` in `dir`; resolves with its URL once listening. */
function start(): Promise<string> {
  const args = [CLI, 'serve', '--host', '127.0.0.1', '--port', '0', '--stun-port', '0'];
  args.push('--data-dir', dir, '--rate-limit', 'create=1000', '--rate-limit', 'read=100000');
  const quoted = [process.execPath, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`);
  // No PUNCH_SECRET: the host generates its secret file in the data directory.
  const env = { ...process.env };
  delete env.PUNCH_SECRET;
  proc = spawn('sh', ['-c', `umask 000; exec ${quoted.join(' ')}`], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return listeningUrl(proc, logs);
}

function stop(): Promise<void> {
  if (proc.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    proc.once('exit', () => {
      resolve();
    });
    proc.kill('SIGTERM');
    setTimeout(() => proc.kill('SIGKILL'), 10_000).unref();
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'punch-storage-'));
  chmodSync(dir, 0o777);
  base = await start();
});

afterAll(async () => {
  await stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Every passphrase `GET /connect` shows for the session. */
async function passphrasesOf(session: string, token: string): Promise<string[]> {
  const r = await call(base, 'GET', `/api/session/${session}/connect`, { token });
  expect(r.status).toBe(200);
  const body = r.json as { passphrase: string; streams: { passphrase: string }[] };
  return [...new Set([body.passphrase, ...body.streams.map((s) => s.passphrase)])];
}

/** The files of the data directory that hold `needle`. */
function filesHolding(needle: string): string[] {
  return readdirSync(dir).filter((f) => readFileSync(join(dir, f)).includes(Buffer.from(needle)));
}

function dirBytes(): number {
  return readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
}

const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms);
  });

describe('punch serve on disk', () => {
  it("a deleted session's passphrase is in no file of the data directory", async () => {
    const s = await createSession(base, { streams: ['cam-1', 'cam-2'] });
    const secrets = await passphrasesOf(s.session, s.token);
    expect(secrets.length).toBe(2);
    expect(filesHolding(secrets[0]!).length).toBeGreaterThan(0); // stored, somewhere
    const r = await call(base, 'DELETE', `/api/session/${s.session}`, { token: s.token });
    expect(r.status).toBe(204);
    for (const p of secrets) expect(filesHolding(p)).toEqual([]);
  });

  it("an expired session's passphrase is in no file of the data directory", async () => {
    const s = await createSession(base, { ttl: 5, streams: ['cam-1'] });
    const secrets = await passphrasesOf(s.session, s.token);
    // Bounded: the session expires after 5 s and the host's tick closes it within a second.
    const closed = (): boolean =>
      logs.some((l) => l.includes('"msg":"session closed"') && l.includes(s.session));
    for (let i = 0; i < 80 && !closed(); i++) await sleep(250);
    expect(closed()).toBe(true);
    for (const p of secrets) expect(filesHolding(p)).toEqual([]);
  });

  it('every file in the data directory is 0600, whatever the umask and directory mode', () => {
    const files = readdirSync(dir);
    expect(files).toEqual(expect.arrayContaining(['punch.sqlite', 'punch.sqlite-wal', 'secret']));
    for (const f of files) expect([f, statSync(join(dir, f)).mode & 0o777]).toEqual([f, 0o600]);
  });

  it('one socket holding every slot at the full message rate grows the database boundedly', async () => {
    const streams = Array.from({ length: 32 }, (_, i) => `cam-${i + 1}`);
    const s = await createSession(base, { streams });
    const ws = await WsClient.connect(base, s.session, s.token);
    const slots = streams.flatMap((stream) =>
      (['sender', 'receiver'] as const).map((role) => ({ stream, role })),
    );
    for (const slot of slots) ws.send({ type: 'register', ...slot });
    await ws.settle();
    expect(ws.all('registered')).toHaveLength(64);
    await sleep(1_100); // a fresh window of the message limit
    const before = dirBytes();

    // The largest report a side may send: 32 SRT statistics, 64-character keys and values.
    const srt = Object.fromEntries(
      Array.from({ length: 32 }, (_, i) => [`k${String(i).padStart(63, '0')}`, 'v'.repeat(64)]),
    );
    const stats = { path: 'direct', rttMs: 12, sendBps: 1e7, recvBps: 1e7, srt };
    let sent = 0;
    // Nine messages every ~105 ms (86 a second): under the limit of 100 a second even when the
    // host reads them in bunches, so none is dropped.
    for (let tick = 0; tick < FLOOD_SECONDS * 10 && ws.closeCode === undefined; tick++) {
      for (let i = 0; i < MESSAGES_PER_SECOND / 10 - 1; i++) {
        ws.send({ type: 'health', ...slots[sent % slots.length]!, stats });
        sent++;
      }
      await sleep(105);
    }
    await ws.settle();
    expect(ws.closeCode).toBeUndefined();
    expect(sent).toBeGreaterThan(FLOOD_SECONDS * 80);
    const running = dirBytes();
    ws.close();
    await stop();

    // Stopped, the log is folded into the file: what remains is what is stored.
    const db = new Database(join(dir, 'punch.sqlite'), { readonly: true });
    const health = db
      .prepare('SELECT COUNT(*) AS n, SUM(length(stats)) AS bytes FROM health WHERE session = ?')
      .get(s.session) as { n: number; bytes: number };
    db.close();
    expect(health.bytes).toBeLessThanOrEqual(HEALTH_MAX_BYTES);
    const grown = dirBytes() - before;
    // 1 MiB of samples takes about twice that in SQLite pages (each row overflows one page).
    expect(grown, `grew ${grown} bytes (${running - before} while running)`).toBeLessThan(
      3 * HEALTH_MAX_BYTES,
    );
  }, 60_000);
});
