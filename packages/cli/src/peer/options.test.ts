import { describe, it, expect } from 'vitest';
import { base64url, utf8, type TokenClaims } from '@punch/core';
import { UsageError } from '../usage.js';
import { parsePeerOptions, readClaims } from './options.js';

/**
 * A real-looking `p_` token: base64url(JSON claims) + '.' + 43 base64url characters (the shape
 * of an HMAC-SHA256 tag). The agent only reads the claims; the server verifies the signature.
 */
function token(claims: Partial<TokenClaims> & { stream: string | null }): string {
  const full: TokenClaims = {
    session: 'nab-floor',
    role: 'peer',
    exp: 1_900_000_000,
    iat: 1_800_000_000,
    sid: 'k3j4h5g6f7d8s9a0',
    ...claims,
  };
  const sig = base64url(new Uint8Array(32).map((_, i) => (i * 37 + 11) & 0xff));
  if (sig.length !== 43) throw new Error('a token tag is 43 base64url characters');
  return `p_${base64url(utf8(JSON.stringify(full)))}.${sig}`;
}

const CAM = token({ stream: 'cam-wide' });
const ALL = token({ role: 'admin', stream: null });
const NO_ENV: NodeJS.ProcessEnv = {};

function usage(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return err as UsageError;
  }
  throw new Error('expected a UsageError, nothing was thrown');
}

describe('parsePeerOptions: where Punch is and which token', () => {
  it('takes server and token from an operator link', () => {
    const o = parsePeerOptions([`http://h:8787/s/nab-floor?t=${CAM}`, '--send'], NO_ENV);
    expect(o.server).toBe('http://h:8787');
    expect(o.token).toBe(CAM);
    expect(o.session).toBe('nab-floor');
    expect(o.stream).toBe('cam-wide');
    expect(o.role).toBe('sender');
  });

  it('takes an https operator link with a trailing slash and no port', () => {
    const o = parsePeerOptions([`https://punch.example.com/s/nab-floor/?t=${CAM}`, '--receive'], {
      PUNCH_SERVER: 'http://ignored:1',
      PUNCH_TOKEN: ALL,
    });
    expect(o.server).toBe('https://punch.example.com');
    expect(o.token).toBe(CAM);
    expect(o.role).toBe('receiver');
  });

  it('takes --server and --token', () => {
    const o = parsePeerOptions(
      ['--server', 'http://10.0.0.5:8787/', '--token', CAM, '--receive'],
      NO_ENV,
    );
    expect(o.server).toBe('http://10.0.0.5:8787'); // trailing slash dropped
    expect(o.token).toBe(CAM);
    expect(o.stream).toBe('cam-wide');
  });

  it('falls back to PUNCH_SERVER and PUNCH_TOKEN, and flags win over them', () => {
    const env = { PUNCH_SERVER: 'http://env:8787', PUNCH_TOKEN: CAM };
    const fromEnv = parsePeerOptions(['--send'], env);
    expect(fromEnv.server).toBe('http://env:8787');
    expect(fromEnv.token).toBe(CAM);
    const other = token({ stream: 'cam-tight' });
    const flags = parsePeerOptions(['--send', '--server', 'http://flag:1', '--token', other], env);
    expect(flags.server).toBe('http://flag:1');
    expect(flags.token).toBe(other);
    expect(flags.stream).toBe('cam-tight');
  });

  it('requires a server and a token', () => {
    expect(usage(() => parsePeerOptions(['--send', '--token', CAM], NO_ENV)).message).toMatch(
      /--server/,
    );
    expect(
      usage(() => parsePeerOptions(['--send', '--server', 'http://h:1'], NO_ENV)).message,
    ).toMatch(/--token/);
    expect(
      usage(() => parsePeerOptions(['--send'], { PUNCH_SERVER: '', PUNCH_TOKEN: '' })).message,
    ).toMatch(/--server/);
  });

  it('refuses a link that is not an operator link', () => {
    for (const link of [
      'not a url',
      `http://h:8787/x/nab-floor?t=${CAM}`,
      `http://h:8787/s/nab-floor/extra?t=${CAM}`,
      'http://h:8787/s/nab-floor',
    ]) {
      expect(usage(() => parsePeerOptions([link, '--send'], NO_ENV)).message, link).toMatch(
        /operator link/,
      );
    }
  });

  it('refuses something that is not a Punch token', () => {
    const bad = [
      'hunter2',
      'p_',
      'p_!!!.x',
      `p_${base64url(utf8('not json'))}.${'A'.repeat(43)}`,
      `p_${base64url(utf8(JSON.stringify({ session: 'nab-floor' })))}.${'A'.repeat(43)}`,
      // Claims the schema refuses (an unknown field: the schema is strict).
      `p_${base64url(utf8(JSON.stringify({ session: 'nab-floor', role: 'peer', stream: 'cam-wide', exp: 1, evil: 1 })))}.${'A'.repeat(43)}`,
      CAM.slice(2), // the prefix is part of the shape
    ];
    for (const t of bad) {
      const err = usage(() =>
        parsePeerOptions(['--send', '--server', 'http://h:1', '--token', t], NO_ENV),
      );
      expect(err.message, t).toMatch(/not a Punch token/);
    }
    expect(
      usage(() => parsePeerOptions(['http://h:1/s/nab-floor?t=hunter2', '--send'], NO_ENV)).message,
    ).toMatch(/not a Punch token/);
  });
});

describe('parsePeerOptions: stream and side', () => {
  const base = ['--server', 'http://h:8787'];

  it("uses the token's stream, or --stream over it", () => {
    expect(parsePeerOptions([...base, '--token', CAM, '--send'], NO_ENV).stream).toBe('cam-wide');
    expect(
      parsePeerOptions([...base, '--token', CAM, '--send', '--stream', 'cam-tight'], NO_ENV).stream,
    ).toBe('cam-tight');
  });

  it('refuses --send with a peer link for every stream at once: it is receive-only', () => {
    const mcr = token({ stream: null });
    for (const extra of [[], ['--stream', 'cam-close']]) {
      const err = usage(() =>
        parsePeerOptions([...base, '--token', mcr, '--send', ...extra], NO_ENV),
      );
      expect(err.message).toBe(
        'this link receives every stream (an MCR link) and cannot send: ask the producer for the link of your stream',
      );
    }
    expect(parsePeerOptions([...base, '--token', mcr, '--receive'], NO_ENV).stream).toBeUndefined();
  });

  it('requires --stream for an admin token sending', () => {
    const err = usage(() => parsePeerOptions([...base, '--token', ALL, '--send'], NO_ENV));
    expect(err.message).toMatch(/--stream/);
    const o = parsePeerOptions([...base, '--token', ALL, '--send', '--stream', 'cam-2'], NO_ENV);
    expect(o.stream).toBe('cam-2');
    expect(o.session).toBe('nab-floor');
  });

  it('receives every stream with an all-streams token and no --stream', () => {
    const o = parsePeerOptions([...base, '--token', ALL, '--receive'], NO_ENV);
    expect(o.stream).toBeUndefined();
    expect(o.map.size).toBe(0);
    expect(o.srtTarget).toEqual({ host: '127.0.0.1', port: 9100 });
    // --stream still picks one, as before.
    const one = parsePeerOptions(
      [...base, '--token', ALL, '--receive', '--stream', 'cam-2'],
      NO_ENV,
    );
    expect(one.stream).toBe('cam-2');
  });

  it('--map NAME=HOST:PORT, repeatable; each name once; receiving only', () => {
    const o = parsePeerOptions(
      [
        ...base,
        '--token',
        ALL,
        '--receive',
        '--map',
        'cam-2=10.0.0.9:7000',
        '--map',
        'cam-1=:7001',
      ],
      NO_ENV,
    );
    expect([...o.map]).toEqual([
      ['cam-2', { host: '10.0.0.9', port: 7000 }],
      ['cam-1', { host: '127.0.0.1', port: 7001 }],
    ]);
    for (const bad of ['cam-2', '=1.2.3.4:5', 'Cam=1.2.3.4:5', 'cam-2=1.2.3.4', 'cam-2=h:99999'])
      expect(
        usage(() => parsePeerOptions([...base, '--token', ALL, '--receive', '--map', bad], NO_ENV))
          .message,
        bad,
      ).toMatch(/--map/);
    const twice = usage(() =>
      parsePeerOptions(
        [...base, '--token', ALL, '--receive', '--map', 'cam-2=:1', '--map', 'cam-2=:2'],
        NO_ENV,
      ),
    );
    expect(twice.message).toMatch(/twice/);
    const send = usage(() =>
      parsePeerOptions([...base, '--token', CAM, '--send', '--map', 'cam-2=:1'], NO_ENV),
    );
    expect(send.message).toMatch(/--map is for --receive/);
  });

  it('takes exactly one of --send and --receive', () => {
    const neither = usage(() => parsePeerOptions([...base, '--token', CAM], NO_ENV));
    expect(neither.message).toMatch(/--send or --receive/);
    const both = usage(() =>
      parsePeerOptions([...base, '--token', CAM, '--send', '--receive'], NO_ENV),
    );
    expect(both.message).toMatch(/--send or --receive/);
    expect(parsePeerOptions([...base, '--token', CAM, '--send'], NO_ENV).role).toBe('sender');
    expect(parsePeerOptions([...base, '--token', CAM, '--receive'], NO_ENV).role).toBe('receiver');
  });

  it('refuses an unknown flag', () => {
    expect(() => parsePeerOptions([...base, '--token', CAM, '--send', '--bogus'], NO_ENV)).toThrow(
      /bogus/,
    );
  });
});

describe('parsePeerOptions: local ports and timers', () => {
  const base = ['--server', 'http://h:8787', '--token', CAM, '--send'];

  it('has the documented defaults', () => {
    const o = parsePeerOptions(base, NO_ENV);
    expect(o.srtListen).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(o.srtTarget).toEqual({ host: '127.0.0.1', port: 9100 });
    expect(o.mediaPort).toBe(0);
    expect(o.stun).toBeUndefined();
    expect(o.exec).toBeUndefined();
    expect(o.json).toBe(false);
    expect(o.punchTimeout).toBe(30);
  });

  it('parses --srt-listen and --srt-target as HOST:PORT', () => {
    const o = parsePeerOptions(
      [...base, '--srt-listen', '0.0.0.0:9001', '--srt-target', 'encoder.lan:9200'],
      NO_ENV,
    );
    expect(o.srtListen).toEqual({ host: '0.0.0.0', port: 9001 });
    expect(o.srtTarget).toEqual({ host: 'encoder.lan', port: 9200 });
  });

  it('reads ":PORT" as loopback', () => {
    const o = parsePeerOptions([...base, '--srt-listen', ':9000', '--srt-target', ':9300'], NO_ENV);
    expect(o.srtListen).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(o.srtTarget).toEqual({ host: '127.0.0.1', port: 9300 });
  });

  it('takes a bracketed IPv6 host', () => {
    const o = parsePeerOptions([...base, '--srt-target', '[::1]:9100'], NO_ENV);
    expect(o.srtTarget).toEqual({ host: '::1', port: 9100 });
  });

  it('refuses a bad HOST:PORT, naming the flag', () => {
    for (const flag of ['--srt-listen', '--srt-target', '--stun']) {
      for (const value of [
        '9000',
        'host',
        'host:',
        'host:port',
        'host:65536',
        'host:123456',
        '::1:9000',
        'a:1:2',
      ]) {
        const err = usage(() => parsePeerOptions([...base, flag, value], NO_ENV));
        expect(err.message, `${flag} ${value}`).toContain(flag);
        expect(err.message).toContain(value);
      }
    }
  });

  it('parses --stun, --port, --exec and --json', () => {
    const o = parsePeerOptions(
      [
        ...base,
        '--stun',
        'stun.l.google.com:19302',
        '--port',
        '40000',
        '--exec',
        'udp://:5000',
        '--json',
      ],
      NO_ENV,
    );
    expect(o.stun).toEqual({ host: 'stun.l.google.com', port: 19302 });
    expect(o.mediaPort).toBe(40000);
    expect(o.exec).toBe('udp://:5000');
    expect(o.json).toBe(true);
  });

  it('refuses a bad --port', () => {
    for (const port of ['-1', '65536', '1.5', 'abc']) {
      expect(usage(() => parsePeerOptions([...base, `--port=${port}`], NO_ENV)).message).toMatch(
        /--port/,
      );
    }
  });

  it('parses --punch-timeout in seconds', () => {
    expect(parsePeerOptions([...base, '--punch-timeout', '5'], NO_ENV).punchTimeout).toBe(5);
    expect(parsePeerOptions([...base, '--punch-timeout', '2.5'], NO_ENV).punchTimeout).toBe(2.5);
  });

  it('refuses a --punch-timeout that is not a positive number', () => {
    for (const value of ['0', '-3', 'abc', '']) {
      expect(
        usage(() => parsePeerOptions([...base, `--punch-timeout=${value}`], NO_ENV)).message,
        JSON.stringify(value),
      ).toMatch(/--punch-timeout/);
    }
  });
});

describe('readClaims', () => {
  it('reads the claims of a token without verifying it', () => {
    expect(readClaims(CAM)).toEqual({
      session: 'nab-floor',
      role: 'peer',
      stream: 'cam-wide',
      exp: 1_900_000_000,
      iat: 1_800_000_000,
      sid: 'k3j4h5g6f7d8s9a0',
    });
    expect(readClaims(ALL)?.stream).toBeNull();
    expect(readClaims('nope')).toBeUndefined();
  });
});
