import { describe, it, expect } from 'vitest';
import type { AgentEvent } from './events.js';
import { createReporter } from './ui.js';

/** A stand-in for process.stdout that records what is written. */
function fakeStream(isTTY: boolean): { out: NodeJS.WriteStream; text: () => string } {
  const chunks: string[] = [];
  const out = {
    isTTY,
    write(chunk: string | Uint8Array): boolean {
      chunks.push(typeof chunk === 'string' ? chunk : new TextDecoder().decode(chunk));
      return true;
    },
  } as unknown as NodeJS.WriteStream;
  return { out, text: () => chunks.join('') };
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[/;

const EVENTS: AgentEvent[] = [
  { event: 'status', status: 'connecting' },
  { event: 'status', status: 'connecting', detail: 'retrying in 2 s' },
  { event: 'registered', stream: 'cam-wide', role: 'sender', stun: 'punch' },
  { event: 'status', status: 'waiting' },
  { event: 'paired', remote: { ip: '203.0.113.7', port: 40123 } },
  { event: 'status', status: 'punching' },
  { event: 'path', path: 'direct', via: 'public', remote: { ip: '203.0.113.7', port: 40123 } },
  { event: 'local', commands: { ffmpeg: 'ffmpeg -i in.mp4 -f mpegts srt://127.0.0.1:9000' } },
  { event: 'status', status: 'streaming' },
  {
    event: 'health',
    stats: { path: 'direct', rttMs: 12.5, sendBps: 4_000_000, recvBps: 0, lossPct: 0 },
  },
  { event: 'tally', tally: 'program' },
  { event: 'tally', tally: 'preview' },
  { event: 'tally', tally: 'none' },
  { event: 'path', path: 'none', reason: 'nothing from 203.0.113.7:40123 for 8 s' },
  { event: 'peer-left' },
  { event: 'error', code: 'ERR_NO_DIRECT_PATH', message: 'no direct path', fatal: true },
  { event: 'closed', reason: 'expired' },
];

describe('createReporter (--json)', () => {
  it('writes one JSON object per line, each the event plus `at`', () => {
    const { out, text } = fakeStream(false);
    const report = createReporter(true, out);
    for (const e of EVENTS) report(e);
    const lines = text().split('\n');
    expect(lines.pop()).toBe(''); // every line ends with a newline
    expect(lines).toHaveLength(EVENTS.length);
    lines.forEach((line, i) => {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      const { at, ...rest } = parsed;
      expect(rest).toEqual(EVENTS[i]);
      expect(parsed.event).toBe(EVENTS[i]!.event);
      expect(typeof at).toBe('string');
      expect(new Date(at as string).toISOString()).toBe(at);
    });
  });

  it('writes no ANSI escapes even on a terminal', () => {
    const { out, text } = fakeStream(true);
    const report = createReporter(true, out);
    for (const e of EVENTS) report(e);
    expect(text()).not.toMatch(ANSI);
  });
});

describe('createReporter (readable, not a terminal)', () => {
  function run(events: AgentEvent[]): string {
    const { out, text } = fakeStream(false);
    const report = createReporter(false, out);
    for (const e of events) report(e);
    return text();
  }

  it('writes whole lines with no ANSI escapes or carriage returns', () => {
    const text = run(EVENTS);
    expect(text).not.toMatch(ANSI);
    expect(text).not.toContain('\r');
    expect(text.endsWith('\n')).toBe(true);
  });

  const registered: AgentEvent = {
    event: 'registered',
    stream: 'cam-wide',
    role: 'sender',
    stun: 'punch',
  };

  it('shows tally program as ON AIR and preview as PREVIEW, in words', () => {
    const program = run([registered, { event: 'tally', tally: 'program' }]);
    expect(program).toContain('ON AIR');
    expect(program).not.toContain('PREVIEW');
    const preview = run([registered, { event: 'tally', tally: 'preview' }]);
    expect(preview).toContain('PREVIEW');
    expect(preview).not.toContain('ON AIR');
    // No tally at the start is not news; going off air is.
    expect(run([registered, { event: 'tally', tally: 'none' }]).split('\n')).toHaveLength(2);
    const off = run([
      registered,
      { event: 'tally', tally: 'program' },
      { event: 'tally', tally: 'none' },
    ]);
    expect(off.split('\n').at(-2)).toBe('tally: off');
  });

  it('shows tally only once registered: a refused second run never says ON AIR', () => {
    const refused = run([
      { event: 'tally', tally: 'program' },
      { event: 'error', code: 'ERR_SLOT_TAKEN', message: 'held', fatal: true },
    ]);
    expect(refused).not.toContain('ON AIR');
    expect(refused).not.toContain('tally');
    // The tally that arrived before registration shows once it is.
    const later = run([{ event: 'tally', tally: 'program' }, registered])
      .trimEnd()
      .split('\n');
    expect(later).toEqual([
      '✓ registered as sender of "cam-wide"',
      expect.stringMatching(/^tally: +ON AIR *$/),
    ]);
  });

  it('a status with its own words says them instead of the usual ones', () => {
    const text = run([
      { event: 'status', status: 'waiting' },
      { event: 'status', status: 'waiting', detail: 'taken over: waiting for this stream' },
    ]);
    expect(text.trimEnd().split('\n')).toEqual([
      '● waiting for the other side',
      '● taken over: waiting for this stream',
    ]);
  });

  it('puts the code and message in error lines, fatal or not', () => {
    const fatal = run([
      { event: 'error', code: 'ERR_PORT_IN_USE', message: '127.0.0.1:9000 is in use', fatal: true },
    ]);
    expect(fatal).toContain('ERR_PORT_IN_USE');
    expect(fatal).toContain('127.0.0.1:9000 is in use');
    const warning = run([
      { event: 'error', code: 'ERR_STUN_TIMEOUT', message: 'no STUN answer', fatal: false },
    ]);
    expect(warning).toContain('ERR_STUN_TIMEOUT');
    expect(warning).not.toBe(fatal);
  });

  it('says what happened, one line per event', () => {
    const text = run([
      { event: 'registered', stream: 'cam-wide', role: 'sender', stun: 'punch' },
      { event: 'paired', remote: { ip: '203.0.113.7', port: 40123 } },
      { event: 'path', path: 'direct', via: 'local' },
      { event: 'path', path: 'none', reason: 'gone quiet' },
      { event: 'closed', reason: 'expired' },
    ]);
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[0]).toContain('cam-wide');
    expect(lines[1]).toContain('203.0.113.7:40123');
    expect(lines[2]).toContain('same network');
    expect(lines[3]).toContain('gone quiet');
    expect(lines[4]).toContain('expired');
  });

  it('says why it relays, where, and which path then carries the media', () => {
    const text = run([
      {
        event: 'relay',
        address: { ip: '192.0.2.10', port: 51234 },
        transport: 'tcp',
        why: 'udp-blocked',
      },
      { event: 'path', path: 'relay', via: 'relay', remote: { ip: '192.0.2.10', port: 51236 } },
      { event: 'path', path: 'direct', via: 'public', remote: { ip: '203.0.113.7', port: 40123 } },
    ]);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe(
      '✓ relaying (no STUN answer: this network seems to block UDP): allocated 192.0.2.10:51234 on the relay over TCP',
    );
    expect(lines[1]).toMatch(/^✓ relayed path up through the relay .*waiting for SRT$/);
    expect(lines[2]).toBe('✓ switched to the direct path through the NATs');
  });

  it('lists the local commands', () => {
    const text = run([{ event: 'local', commands: { ffmpeg: 'ffmpeg … srt://127.0.0.1:9000' } }]);
    expect(text).toContain('ffmpeg: ffmpeg … srt://127.0.0.1:9000');
  });
});

describe('createReporter (readable, on a terminal)', () => {
  it('colours the tally badge but keeps the words', () => {
    const { out, text } = fakeStream(true);
    const report = createReporter(false, out);
    report({ event: 'registered', stream: 'cam-wide', role: 'sender', stun: 'punch' });
    report({ event: 'tally', tally: 'program' });
    expect(text()).toMatch(ANSI);
    expect(text()).toContain('ON AIR');
  });
});

/**
 * What a terminal shows for `text`: `\r` returns to the start of the line, `ESC[2K` clears it,
 * `\n` starts a new one (the only controls the reporter writes besides colours, dropped here).
 */
function screen(text: string): string[] {
  const rows = [''];
  let col = 0;
  // eslint-disable-next-line no-control-regex
  for (const token of text.replace(/\x1b\[[0-9;]*m/g, '').match(/\x1b\[2K|[^]/gu) ?? []) {
    const row = rows.length - 1;
    if (token === '\r') col = 0;
    else if (token === '\x1b[2K') rows[row] = '';
    else if (token === '\n') {
      rows.push('');
      col = 0;
    } else {
      const cur = rows[row]!;
      rows[row] = cur.slice(0, col) + token + cur.slice(col + 1);
      col++;
    }
  }
  return rows;
}

describe("createReporter: srt-live-transmit's output (--exec)", () => {
  const health: AgentEvent = {
    event: 'health',
    stats: { path: 'direct', rttMs: 12.5, sendBps: 4_000_000, recvBps: 0, lossPct: 0 },
  };

  it('on a terminal: its own line, marked, and the status line drawn again below it', () => {
    const { out, text } = fakeStream(true);
    const report = createReporter(false, out);
    report(health);
    report({ event: 'exec', line: 'SRT target connected' });
    report({ event: 'exec', line: 'second line' });
    const rows = screen(text());
    expect(rows).toHaveLength(3);
    expect(rows[0]).toBe('  srt-live-transmit: SRT target connected');
    expect(rows[1]).toBe('  srt-live-transmit: second line');
    // The status line, whole and alone, below the child's lines.
    expect(rows[2]).toMatch(/^▶ direct ↑ 4\.0 Mbit\/s ↓ 0\.0 Mbit\/s {2}RTT 12\.5 ms {2}loss 0%$/);
    // The control: without the clearing, the child's text would have glued onto the status.
    expect(screen(text().replaceAll('\x1b[2K', ''))[0]).not.toBe(rows[0]);
  });

  it('on a terminal with no status line up: just its line', () => {
    const { out, text } = fakeStream(true);
    createReporter(false, out)({ event: 'exec', line: 'Media path: udp → srt' });
    expect(text()).toBe('  srt-live-transmit: Media path: udp → srt\n');
  });

  it('not on a terminal: whole lines; under --json: an `exec` event', () => {
    const plain = fakeStream(false);
    createReporter(false, plain.out)({ event: 'exec', line: 'hello' });
    expect(plain.text()).toBe('  srt-live-transmit: hello\n');
    const json = fakeStream(false);
    createReporter(true, json.out)({ event: 'exec', line: 'hello' });
    expect(JSON.parse(json.text())).toMatchObject({ event: 'exec', line: 'hello' });
  });
});

describe('createReporter: a path up with no media', () => {
  /** Health once a second on the given clock; `mediaBps` per report. */
  function feed(tty: boolean, role: 'sender' | 'receiver', rates: number[]): string {
    const { out, text } = fakeStream(tty);
    let clock = 1_000_000;
    const report = createReporter(false, out, undefined, () => clock);
    report({ event: 'registered', stream: 'cam-wide', role, stun: 'punch' });
    for (const mediaBps of rates) {
      report({ event: 'health', stats: { path: 'direct', rttMs: 12, sendBps: 800, mediaBps } });
      clock += 1000;
    }
    return text();
  }
  const last = (text: string): string => text.split('\r\x1b[2K').at(-1) ?? '';

  it("on a sender's terminal: the status line says no media from your encoder after 3 s", () => {
    expect(last(feed(true, 'sender', [4e6, 0, 0]))).toContain('▶ direct');
    const quiet = last(feed(true, 'sender', [4e6, 0, 0, 0]));
    expect(quiet).toContain('path up, no media from your encoder');
    expect(quiet).toContain('direct, RTT 12.0 ms');
    // Media again: the usual line.
    expect(last(feed(true, 'sender', [4e6, 0, 0, 0, 0, 3e6]))).toContain('▶ direct');
  });

  it("on a receiver: no media from the other side; SRT's control traffic alone is no media", () => {
    expect(last(feed(true, 'receiver', [0, 9_999, 0, 0]))).toContain(
      'path up, no media from the other side',
    );
  });

  it('in a log (not a terminal): one line when media stops, one when it flows again', () => {
    const text = feed(false, 'sender', [4e6, 0, 0, 0, 0, 0, 4e6, 4e6]);
    expect(text.trimEnd().split('\n').slice(1)).toEqual([
      '! path up, no media from your encoder',
      '✓ media flowing again',
    ]);
  });

  it('an agent that reports no media rate never says so', () => {
    const { out, text } = fakeStream(false);
    let clock = 0;
    const report = createReporter(false, out, undefined, () => clock);
    for (let k = 0; k < 6; k++) {
      report({ event: 'health', stats: { path: 'direct', sendBps: 0 } });
      clock += 1000;
    }
    expect(text()).toBe('');
  });
});
