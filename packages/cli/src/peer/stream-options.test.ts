import { describe, expect, it } from 'vitest';
import type { PeerOptions } from './options.js';
import { execFor, streamOptions } from './stream-options.js';

const BASE: PeerOptions = {
  server: 'https://punch.example',
  token: 'p_x.y',
  session: 'nab-floor',
  stream: undefined,
  role: 'receiver',
  srtListen: { host: '127.0.0.1', port: 9000 },
  srtTarget: { host: '127.0.0.1', port: 9100 },
  map: new Map(),
  mediaPort: 0,
  bind: '0.0.0.0',
  lan: true,
  takeover: false,
  stun: undefined,
  exec: undefined,
  json: false,
  punchTimeout: 30,
};

describe('streamOptions', () => {
  it('one stream keeps the options as given, its source port just above the listener', () => {
    const o = streamOptions({ ...BASE, stream: 'cam-2', mediaPort: 5000 }, 'cam-2', 0);
    expect(o).toMatchObject({
      stream: 'cam-2',
      srtTarget: { host: '127.0.0.1', port: 9100 },
      sourcePort: 9101,
      mediaPort: 5000,
    });
    expect(o).not.toHaveProperty('map');
  });

  it('every stream: stream i at --srt-target + i, its source ports out of that range', () => {
    const all = ['cam-1', 'cam-2', 'cam-3'].map((n, i) => streamOptions(BASE, n, i));
    expect(all.map((o) => o.srtTarget.port)).toEqual([9100, 9101, 9102]);
    expect(all.map((o) => o.sourcePort)).toEqual([9200, 9201, 9202]);
    // No source port is any stream's listener, even with the most streams a session holds (32).
    const listeners = new Set(Array.from({ length: 32 }, (_, i) => 9100 + i));
    for (let i = 0; i < 32; i++)
      expect(listeners.has(streamOptions(BASE, `cam-${i}`, i).sourcePort)).toBe(false);
    expect(all.map((o) => o.mediaPort)).toEqual([0, 0, 0]); // any port stays any port
  });

  it('every stream: --map wins, --port and --exec move up by the stream number', () => {
    const o = streamOptions(
      {
        ...BASE,
        map: new Map([['cam-2', { host: '10.0.0.9', port: 7000 }]]),
        mediaPort: 5000,
        exec: 'udp://127.0.0.1:6000',
      },
      'cam-2',
      1,
    );
    expect(o.srtTarget).toEqual({ host: '10.0.0.9', port: 7000 });
    expect(o.sourcePort).toBe(9201);
    expect(o.mediaPort).toBe(5001);
    expect(o.exec).toBe('udp://127.0.0.1:6001');
  });
});

describe('execFor', () => {
  it("moves the URI's port up by the stream number, or names the stream", () => {
    expect(execFor('udp://127.0.0.1:6000', 'cam-1', 0)).toBe('udp://127.0.0.1:6000');
    expect(execFor('udp://127.0.0.1:6000?rcvbuf=4194304', 'cam-3', 2)).toBe(
      'udp://127.0.0.1:6002?rcvbuf=4194304',
    );
    expect(execFor('udp://:5000', 'cam-2', 1)).toBe('udp://:5001');
    expect(execFor('srt://[::1]:7000?mode=listener', 'cam-2', 3)).toBe(
      'srt://[::1]:7003?mode=listener',
    );
    // Named per stream: the name is the difference, the port stays.
    expect(execFor('srt://dec-{stream}:9000?mode=caller', 'cam-2', 1)).toBe(
      'srt://dec-cam-2:9000?mode=caller',
    );
    expect(execFor('file://con', 'cam-2', 1)).toBe('file://con');
  });
});
