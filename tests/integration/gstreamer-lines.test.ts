/**
 * The GStreamer lines `/connect` prints, run literally (through a shell, as an operator pastes
 * them) against real SRT peers on loopback: `gstreamer-send` into a srt-live-transmit listener
 * standing where the agent's `--srt-listen` is, and an ffmpeg caller (standing where the agent
 * calls `--srt-target`) into `gstreamer-receive`. Both ends use the same passphrase, so MPEG-TS
 * arriving intact proves the URI, the mode, the latency unit and the encryption properties.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { connectionStrings } from '@punch/core';
import { Children, freeUdpPort, stop } from './agents.js';

const have = (cmd: string, args: string[]): boolean =>
  spawnSync(cmd, args, { timeout: 10_000 }).status === 0;
const HAVE_GST = have('gst-inspect-1.0', ['srtsink']) && have('gst-inspect-1.0', ['tsparse']);
const HAVE_SRT = have('sh', ['-c', 'command -v srt-live-transmit']);
const HAVE_FFMPEG = have('ffmpeg', ['-version']) && have('ffprobe', ['-version']);
const READY = HAVE_GST && HAVE_SRT && HAVE_FFMPEG;
if (!READY) {
  console.warn(
    '\n*** gst-launch-1.0 with the srt plugin (gstreamer1.0-tools, gstreamer1.0-plugins-bad), ' +
      'srt-live-transmit or ffmpeg is NOT installed: the GStreamer command-line tests are ' +
      'SKIPPED. ***\n',
  );
  if (process.env.CI === 'true') throw new Error('CI needs GStreamer, srt-tools and ffmpeg');
}

const PASSPHRASE = 'abcdefghijklmnopqrstuvwxyz012345';
const children = new Children();
const dirs: string[] = [];

// SIGINT: srt-live-transmit and gst-launch-1.0 finish the file they write.
afterEach(async () => {
  await children.stopAll('SIGINT');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function workDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'punch-gst-'));
  dirs.push(dir);
  // Three seconds of MPEG-TS, as an operator's input.ts.
  const made = spawnSync(
    'ffmpeg',
    ['-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25', '-t', '3'].concat([
      '-c:v',
      'mpeg2video',
      '-b:v',
      '500k',
      '-f',
      'mpegts',
      join(dir, 'input.ts'),
    ]),
    { timeout: 20_000 },
  );
  expect(made.status).toBe(0);
  return dir;
}

function run(cmd: string, args: string[], cwd: string): ChildProcess {
  return children.track(spawn(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] }));
}

function exited(c: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (c.exitCode !== null || c.signalCode !== null) resolve(c.exitCode);
    else
      c.once('exit', (code) => {
        resolve(code);
      });
  });
}

/** The size of a file, 0 while it does not exist yet. */
function size(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    // Not written yet: the receiver has not opened it.
    return 0;
  }
}

/** The codecs ffprobe finds in an MPEG-TS file. */
function codecs(path: string): string {
  const r = spawnSync(
    'ffprobe',
    ['-v', 'error', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', path],
    { encoding: 'utf8', timeout: 10_000 },
  );
  return r.stdout.trim();
}

/** Polls until `check` holds, at most `tries` times 100 ms apart. */
async function until(check: () => boolean, tries: number): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
}

function lines(sendPort: number, receivePort: number): Record<string, string> {
  return connectionStrings({
    server: 'https://punch.example',
    session: 's',
    stream: 'cam',
    index: 0,
    passphrase: PASSPHRASE,
    pbkeylen: 32,
    latencyMs: 120,
    sender: null,
    receiver: null,
    sendPort,
    receivePort,
  });
}

it.skipIf(!READY)(
  'the printed gstreamer-send line delivers a TS file to an SRT listener (srt-live-transmit)',
  async () => {
    const dir = workDir();
    const port = await freeUdpPort();
    const line = lines(port, 1)['gstreamer-send']!;
    expect(line).toContain(' latency=120 '); // milliseconds, not ffmpeg's microseconds
    // srt-live-transmit stands where the agent listens for the encoder (--srt-listen).
    const out = join(dir, 'received.ts');
    const listener = run(
      'sh',
      [
        '-c',
        `exec srt-live-transmit -q "srt://127.0.0.1:${port}?mode=listener&passphrase=${PASSPHRASE}&pbkeylen=32&latency=120" file://con > received.ts`,
      ],
      dir,
    );
    // The listener is up once its UDP port is taken: until then the caller would be refused.
    expect(
      await until(() => spawnSync('ss', ['-Hlun', `sport = :${port}`]).stdout.length > 0, 100),
    ).toBe(true);
    const sender = run('sh', ['-c', line], dir);
    expect(await exited(sender)).toBe(0);
    expect(await until(() => size(out) > 100_000, 50)).toBe(true);
    await stop(listener, 'SIGINT');
    expect(codecs(out)).toContain('mpeg2video');
  },
  40_000,
);

it.skipIf(!READY)(
  'the printed gstreamer-receive line takes the stream from an SRT caller (ffmpeg)',
  async () => {
    const dir = workDir();
    const port = await freeUdpPort();
    const line = lines(1, port)['gstreamer-receive']!;
    const receiver = run('sh', ['-c', line], dir);
    expect(
      await until(() => spawnSync('ss', ['-Hlun', `sport = :${port}`]).stdout.length > 0, 100),
    ).toBe(true);
    // ffmpeg stands where the agent calls the decoder (--srt-target); its latency is in µs.
    const caller = run(
      'ffmpeg',
      ['-loglevel', 'error', '-re', '-i', 'input.ts', '-c', 'copy', '-f', 'mpegts'].concat([
        `srt://127.0.0.1:${port}?mode=caller&passphrase=${PASSPHRASE}&pbkeylen=32&latency=120000`,
      ]),
      dir,
    );
    expect(await exited(caller)).toBe(0);
    const out = join(dir, 'out.ts');
    expect(await until(() => size(out) > 100_000, 50)).toBe(true);
    await stop(receiver, 'SIGINT');
    expect(codecs(out)).toContain('mpeg2video');
  },
  40_000,
);
