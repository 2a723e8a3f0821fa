import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterEach, describe, it, expect, vi } from 'vitest';
import { StatsSchema } from '@punch/core';
import { ChildLines, SrtLiveTransmit, findExecutable, parseStats, type ExecError } from './exec.js';

/** One line of `srt-live-transmit -pf:json` (1.5), as written to its -statsout file. */
const LINE =
  '{"sid":403521185,"timepoint":"2026-11-23T08:02:23.249317+0000","time":812,"window":{"flow":8183,"congestion":8192,"flight":0},"link":{"rtt":0.047,"bandwidth":2.808,"maxBandwidth":1000},"send":{"packets":8,"packetsUnique":8,"packetsLost":0,"packetsDropped":0,"packetsRetransmitted":0,"packetsFilterExtra":0,"bytes":9940,"bytesUnique":9940,"bytesDropped":0,"byteAvailBuf":12286500,"msBuf":1,"mbitRate":0.0979281,"sendPeriod":11},"recv":{"packets":0,"packetsUnique":0,"packetsLost":0,"packetsDropped":0,"packetsRetransmitted":0,"packetsBelated":0,"packetsFilterExtra":0,"packetsFilterSupply":0,"packetsFilterLoss":0,"bytes":0,"bytesUnique":0,"bytesLost":0,"bytesDropped":0,"byteAvailBuf":12286500,"msBuf":0,"mbitRate":0}}';

const EXPECTED = {
  'link.rtt': 0.047,
  'link.bandwidth': 2.808,
  'send.packets': 8,
  'send.packetsLost': 0,
  'send.packetsDropped': 0,
  'send.packetsRetransmitted': 0,
  'send.bytes': 9940,
  'send.mbitRate': 0.0979281,
  'send.msBuf': 1,
  'recv.packets': 0,
  'recv.packetsLost': 0,
  'recv.packetsDropped': 0,
  'recv.packetsRetransmitted': 0,
  'recv.packetsBelated': 0,
  'recv.bytes': 0,
  'recv.mbitRate': 0,
  'recv.msBuf': 0,
};

describe('parseStats', () => {
  it('keeps the dashboard fields of a real srt-live-transmit 1.5 JSON line', () => {
    expect(parseStats(LINE)).toEqual(EXPECTED);
  });

  it('stays under the 32-key cap and drops identifiers, times and strings', () => {
    const stats = parseStats(LINE)!;
    expect(Object.keys(stats).length).toBeLessThanOrEqual(32);
    for (const dropped of ['sid', 'timepoint', 'time', 'window.flow', 'link.maxBandwidth'])
      expect(stats).not.toHaveProperty([dropped]);
    for (const value of Object.values(stats)) expect(typeof value).toBe('number');
  });

  it('passes core StatsSchema as the `srt` field of a health report', () => {
    const stats = parseStats(LINE);
    const parsed = StatsSchema.safeParse({ srt: stats });
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
    expect(parsed.data?.srt).toEqual(EXPECTED);
  });

  it('accepts a line with a trailing comma (a JSON-array style stats file)', () => {
    expect(parseStats(`${LINE},`)).toEqual(EXPECTED);
  });

  it('keeps what a line has and skips what it lacks or holds as non-numbers', () => {
    expect(
      parseStats('{"link":{"rtt":1.5,"bandwidth":"fast"},"send":{"packets":null,"bytes":3}}'),
    ).toEqual({ 'link.rtt': 1.5, 'send.bytes': 3 });
  });

  it('returns undefined for non-JSON, partial and field-less lines', () => {
    const partial = LINE.slice(0, Math.floor(LINE.length / 2));
    for (const line of [
      '',
      'SRT parameters specified:',
      "Media path: 'srt://:9000' --> 'udp://127.0.0.1:5000'",
      '[',
      partial,
      LINE.slice(0, -1),
      LINE.slice(1),
      '{}',
      '{"sid":403521185,"time":812}',
      '{"link":{"rtt":"0.047"}}',
      '{"link":null}',
      '{"link.rtt":0.047}',
    ]) {
      expect(parseStats(line), line.slice(0, 60)).toBeUndefined();
    }
  });
});

describe('SrtLiveTransmit: a program that is not installed', () => {
  const running: SrtLiveTransmit[] = [];
  afterEach(() => {
    vi.useRealTimers();
    for (const r of running.splice(0)) r.stop();
  });

  /** Starts it with `binary`, resolving with its first error; exits and stats are recorded. */
  function start(binary: string, setpriv?: string) {
    const exits: (number | null)[] = [];
    const stats: unknown[] = [];
    // Fake timers: what it leaves scheduled (a restart, a stats poll) can be counted.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const error = new Promise<ExecError>((resolve) => {
      const slt = new SrtLiveTransmit({
        input: 'udp://127.0.0.1:1',
        output: 'srt://127.0.0.1:2?mode=caller',
        binary,
        ...(setpriv === undefined ? {} : { setpriv }),
        onStats: (s) => stats.push(s),
        onExit: (code) => exits.push(code),
        onError: resolve,
        onOutput: () => undefined,
      });
      running.push(slt);
      slt.start();
    });
    return { error, exits, stats };
  }

  /** A missing binary is reported once, with what to install, and not restarted. */
  async function reportedOnce(setpriv?: string): Promise<void> {
    const { error, exits } = start('srt-live-transmit-not-installed', setpriv);
    const e = await error;
    expect(e.code).toBe('ERR_EXEC_NOT_FOUND');
    expect(e.message).toContain('srt-live-transmit-not-installed is not installed or not on PATH');
    expect(e.message).toContain('srt-tools');
    expect(exits).toEqual([]);
    // Nothing left scheduled: no restart, no statistics poll.
    expect(vi.getTimerCount()).toBe(0);
  }

  // Without /usr/bin/setpriv the first case would only run the second's path: skip it, loudly.
  const hasSetpriv = existsSync('/usr/bin/setpriv');
  if (!hasSetpriv)
    process.stderr.write(
      '\n!!! SKIPPING the setpriv case of exec.test.ts: /usr/bin/setpriv is missing (util-linux)\n',
    );
  it.skipIf(!hasSetpriv)(
    'a missing binary behind setpriv (Linux): reported once, not restarted',
    () => reportedOnce(),
  );
  it('a missing binary spawned directly (no setpriv): reported once, not restarted', () =>
    reportedOnce('/nonexistent/setpriv'));
});

describe('findExecutable', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  function dir(): string {
    const d = mkdtempSync(join(tmpdir(), 'punch-exec-test-'));
    dirs.push(d);
    return d;
  }

  it('finds the first executable file of that name on PATH', () => {
    const [a, b] = [dir(), dir()];
    writeFileSync(join(b, 'tool'), '#!/bin/sh\n');
    chmodSync(join(b, 'tool'), 0o755);
    expect(findExecutable('tool', [a, b].join(delimiter))).toBe(join(b, 'tool'));
    expect(findExecutable('tool', a)).toBeUndefined();
  });

  it('skips files that are not executable, and directories', () => {
    const [a, b] = [dir(), dir()];
    writeFileSync(join(a, 'tool'), 'not a program');
    chmodSync(join(a, 'tool'), 0o644);
    mkdirSync(join(b, 'tool'));
    expect(findExecutable('tool', [a, b].join(delimiter))).toBeUndefined();
    // The control: an executable file after them is found.
    const c = dir();
    writeFileSync(join(c, 'tool'), '#!/bin/sh\n');
    chmodSync(join(c, 'tool'), 0o755);
    expect(findExecutable('tool', [a, b, c].join(delimiter))).toBe(join(c, 'tool'));
  });

  it('takes a name with a slash as a path, as execvp does', () => {
    const a = dir();
    writeFileSync(join(a, 'tool'), '#!/bin/sh\n');
    chmodSync(join(a, 'tool'), 0o755);
    expect(findExecutable(join(a, 'tool'), '')).toBe(join(a, 'tool'));
    expect(findExecutable(join(a, 'missing'), a)).toBeUndefined();
  });
});

describe('ChildLines', () => {
  function lines(chunks: string[], flush = true): string[] {
    const got: string[] = [];
    const l = new ChildLines((line) => got.push(line));
    for (const c of chunks) l.push(c);
    if (flush) l.flush();
    return got;
  }

  it('joins chunks into whole lines and passes a last unterminated one on flush', () => {
    expect(lines(['Media pa', 'th: a --> b\nERROR: x', 'y\n', 'tail'], false)).toEqual([
      'Media path: a --> b',
      'ERROR: xy',
    ]);
    expect(lines(['Media pa', 'th: a --> b\nERROR: x', 'y\n', 'tail'])).toEqual([
      'Media path: a --> b',
      'ERROR: xy',
      'tail',
    ]);
  });

  it('drops carriage returns, escape sequences and empty lines; cuts long lines', () => {
    expect(lines(['\r\n', 'a\rb\r\n', '\x1b[2K\x1b[31mred\x1b[0m\n', '\n'])).toEqual(['ab', 'red']);
    const long = lines(['x'.repeat(100_000), 'y'.repeat(100_000), '\n']);
    expect(long).toHaveLength(1);
    expect(long[0]!.length).toBeLessThanOrEqual(1000);
  });
});
