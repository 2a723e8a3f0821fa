import { describe, expect, it } from 'vitest';
import { createStreamsReporter } from './ui-streams.js';

/** A stand-in for process.stdout that records what is written, `columns` wide. */
function fakeStream(isTTY: boolean, columns = 80): { out: NodeJS.WriteStream; text: () => string } {
  const chunks: string[] = [];
  const out = {
    isTTY,
    columns,
    write(chunk: string): boolean {
      chunks.push(chunk);
      return true;
    },
  } as unknown as NodeJS.WriteStream;
  return { out, text: () => chunks.join('') };
}

/**
 * What a terminal `columns` wide shows after `text`: cursor-up, clear-down, carriage return,
 * newlines, and a line longer than the terminal wrapping onto the next row (as xterm does:
 * the character after the last column starts the next row). Colours are dropped.
 */
function screen(text: string, columns = 80): string[] {
  const rows: string[] = [''];
  let row = 0;
  // eslint-disable-next-line no-control-regex
  const plain = text.replace(/\x1b\[[0-9;]*m/g, '');
  // eslint-disable-next-line no-control-regex
  for (const token of plain.match(/\x1b\[\d*[A-Za-z]|\r|\n|[^\x1b\r\n]+/g) ?? []) {
    // eslint-disable-next-line no-control-regex
    const esc = /^\x1b\[(\d*)([A-Za-z])$/.exec(token);
    if (esc?.[2] === 'A') row = Math.max(0, row - Number(esc[1] || 1));
    else if (esc?.[2] === 'J') {
      rows.splice(row + 1);
      rows[row] = '';
    } else if (esc?.[2] === 'K') rows[row] = '';
    else if (token === '\r') continue;
    else if (token === '\n') {
      row++;
      rows[row] ??= '';
    } else
      for (const ch of token) {
        if (Array.from(rows[row] ?? '').length >= columns) {
          row++;
          rows[row] = '';
        }
        rows[row] = (rows[row] ?? '') + ch;
      }
  }
  return rows.filter((r, i) => r !== '' || i < rows.length - 1);
}

const health = (stream: string, mbit: number) =>
  ({
    event: 'health',
    stream,
    stats: { path: 'direct', rttMs: 1, sendBps: 0, recvBps: mbit * 1e6, lossPct: 0 },
  }) as const;

describe('createStreamsReporter', () => {
  it('a terminal: the log above, one live status line per stream below, in order', () => {
    const { out, text } = fakeStream(true);
    const report = createStreamsReporter(out);
    report({ event: 'status', status: 'connecting' });
    report({ event: 'registered', stream: 'cam-1', role: 'receiver', stun: 'punch' });
    report({ event: 'registered', stream: 'cam-22', role: 'receiver', stun: 'punch' });
    report(health('cam-1', 4));
    report(health('cam-22', 2));
    report({ event: 'tally', stream: 'cam-22', tally: 'program' });
    report(health('cam-22', 3));
    const rows = screen(text());
    expect(rows.slice(-2)).toEqual([
      expect.stringMatching(/^cam-1 {2}│ ▶ direct .*↓ 4\.0 Mbit\/s/),
      expect.stringMatching(/^cam-22 │ .*ON AIR.*▶ direct .*↓ 3\.0 Mbit\/s/),
    ]);
    expect(rows).toContain('● connecting to Punch');
    expect(rows.some((r) => /cam-22 │ tally: .*ON AIR/.test(r))).toBe(true);
  });

  it("a stream's status line keeps its tally badge, and the badge follows the tally", () => {
    const { out, text } = fakeStream(true);
    const report = createStreamsReporter(out);
    report({ event: 'registered', stream: 'cam-1', role: 'receiver', stun: 'punch' });
    report({ event: 'registered', stream: 'cam-2', role: 'receiver', stun: 'punch' });
    report({ event: 'status', stream: 'cam-1', status: 'waiting' });
    report({ event: 'status', stream: 'cam-2', status: 'waiting' });
    report({ event: 'tally', stream: 'cam-2', tally: 'program' });
    expect(screen(text()).slice(-2)).toEqual([
      'cam-1 │ ● waiting for the other side',
      expect.stringMatching(/^cam-2 │ .*ON AIR.* ● waiting for the other side$/),
    ]);
    report({ event: 'tally', stream: 'cam-2', tally: 'preview' });
    expect(screen(text()).at(-1)).toMatch(/^cam-2 │ .*PREVIEW.* ● waiting for the other side$/);
    report({ event: 'tally', stream: 'cam-2', tally: 'none' });
    expect(screen(text()).at(-1)).toBe('cam-2 │ ● waiting for the other side');
  });

  it('a pipe: every line names its stream, no escape codes, no live lines', () => {
    const { out, text } = fakeStream(false);
    const report = createStreamsReporter(out);
    report({ event: 'registered', stream: 'cam-1', role: 'receiver', stun: 'punch' });
    report(health('cam-1', 4));
    report({
      event: 'error',
      stream: 'cam-2',
      code: 'ERR_PORT_IN_USE',
      message: 'taken',
      fatal: false,
    });
    report({ event: 'closed', reason: 'expired' });
    expect(text()).toBe(
      [
        'cam-1 │ ✓ registered as receiver of "cam-1"',
        'cam-2 │ ! warning ERR_PORT_IN_USE: taken',
        '■ the session ended (expired)',
        '',
      ].join('\n'),
    );
  });

  it('at 80 columns: long lines never wrap, so redraws never leave duplicate lines', () => {
    const { out, text } = fakeStream(true, 80);
    const report = createStreamsReporter(out);
    const names = ['cam-close-left-wing', 'cam-wide'];
    for (const stream of names) {
      report({ event: 'registered', stream, role: 'receiver', stun: 'punch' });
      // A command line of 150–190 characters, as the agent prints for the user's SRT tool.
      report({
        event: 'local',
        stream,
        commands: {
          ffmpeg: `ffmpeg -i "srt://127.0.0.1:9100?mode=listener&passphrase=${'x'.repeat(32)}&pbkeylen=32&latency=120000" -c copy -f mpegts out-${stream}.ts`,
        },
      });
    }
    report({ event: 'tally', stream: 'cam-wide', tally: 'program' });
    for (let i = 0; i < 5; i++)
      for (const stream of names)
        report({
          event: 'health',
          stream,
          stats: { path: 'relay', rttMs: 123.4, sendBps: 0, recvBps: 1e8, lossPct: 12.5 },
        });
    report({
      event: 'error',
      stream: 'cam-wide',
      code: 'ERR_NO_DIRECT_PATH',
      message: 'no direct path between the two networks within 10 s; the relay carries it',
      fatal: false,
    });
    const rows = screen(text(), 80);
    const block = rows.slice(-2);
    expect(block).toEqual([
      expect.stringMatching(/^cam-close-left-wing │ ▶ relay ↑ 0\.0 Mbit\/s ↓ 100\.0 Mbit\/s/),
      expect.stringMatching(/^cam-wide {12}│ +ON AIR +! warning ERR_NO_DIRECT_PATH$/),
    ]);
    for (const r of block) expect(Array.from(r).length).toBeLessThan(80);
    expect(block[0]).toMatch(/…$/);
    // Each stream's live line is on screen once: nothing stale was left above the block.
    for (const name of names)
      expect(rows.filter((r) => r.startsWith(`${name.padEnd(19)} │ ▶`))).toHaveLength(
        name === 'cam-wide' ? 0 : 1,
      );
    expect(rows.filter((r) => / ON AIR /.test(r) && !r.includes('tally:'))).toHaveLength(1);
    // The log above keeps the command lines whole (wrapped by the terminal, not cut).
    expect(text()).toContain('out-cam-wide.ts');
  });

  it("a stream's status is never its command line, and long lines leave their first clause", () => {
    const { out, text } = fakeStream(true);
    const report = createStreamsReporter(out);
    report({ event: 'registered', stream: 'cam-1', role: 'receiver', stun: 'punch' });
    report({ event: 'local', stream: 'cam-1', commands: { ffmpeg: `ffmpeg ${'-x '.repeat(60)}` } });
    expect(screen(text()).at(-1)).toBe('cam-1 │ ✓ registered as receiver of "cam-1"');
    report({
      event: 'paired',
      stream: 'cam-1',
      remote: { ip: '203.0.113.7', port: 40123 },
    });
    report({ event: 'path', stream: 'cam-1', path: 'direct', via: 'public' });
    expect(screen(text()).at(-1)).toBe('cam-1 │ ✓ direct path up through the NATs');
  });

  it('when the session ends or the agent stops, no live line is left saying ON AIR', () => {
    const { out, text } = fakeStream(true);
    const report = createStreamsReporter(out);
    report({ event: 'registered', stream: 'cam-1', role: 'receiver', stun: 'punch' });
    report({ event: 'tally', stream: 'cam-1', tally: 'program' });
    report(health('cam-1', 4));
    expect(screen(text()).at(-1)).toMatch(/ON AIR.*▶ direct/);
    report({ event: 'closed', reason: 'expired' });
    const rows = screen(text());
    expect(rows.at(-1)).toBe('■ the session ended (expired)');
    expect(rows.filter((r) => r.includes('▶'))).toEqual([]);

    const stopped = fakeStream(true);
    const other = createStreamsReporter(stopped.out);
    other({ event: 'registered', stream: 'cam-1', role: 'receiver', stun: 'punch' });
    other({ event: 'tally', stream: 'cam-1', tally: 'program' });
    other(health('cam-1', 4));
    other.end(); // Ctrl-C
    expect(screen(stopped.text()).filter((r) => r.includes('▶'))).toEqual([]);
    expect(screen(stopped.text()).at(-1)).toMatch(/tally: +ON AIR/);
  });

  it('shows no tally for a stream until it is registered', () => {
    const { out, text } = fakeStream(true);
    const report = createStreamsReporter(out);
    report({ event: 'status', stream: 'cam-1', status: 'waiting' });
    report({ event: 'tally', stream: 'cam-1', tally: 'program' });
    expect(text()).not.toContain('ON AIR');
  });
});
