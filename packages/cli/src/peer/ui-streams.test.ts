import { describe, expect, it } from 'vitest';
import { createStreamsReporter } from './ui-streams.js';

/** A stand-in for process.stdout that records what is written. */
function fakeStream(isTTY: boolean): { out: NodeJS.WriteStream; text: () => string } {
  const chunks: string[] = [];
  const out = {
    isTTY,
    write(chunk: string): boolean {
      chunks.push(chunk);
      return true;
    },
  } as unknown as NodeJS.WriteStream;
  return { out, text: () => chunks.join('') };
}

/** What a terminal shows after `text`: cursor-up, clear-down, carriage return and newlines. */
function screen(text: string): string[] {
  const rows: string[] = [''];
  let row = 0;
  // eslint-disable-next-line no-control-regex
  for (const token of text.match(/\x1b\[\d*[A-Za-z]|\r|\n|[^\x1b\r\n]+/g) ?? []) {
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
    } else rows[row] = (rows[row] ?? '') + token;
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
});
