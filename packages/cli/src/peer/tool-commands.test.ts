import { describe, expect, it } from 'vitest';
import type { StreamOptions } from './stream-options.js';
import { execEnds, toolCommands } from './tool-commands.js';

const OPTIONS: StreamOptions = {
  server: 'https://punch.example',
  token: 'p_x.y',
  session: 'nab-floor',
  stream: 'cam-wide',
  role: 'sender',
  srtListen: { host: '127.0.0.1', port: 9000 },
  srtTarget: { host: '127.0.0.1', port: 9100 },
  sourcePort: 9101,
  oneOfMany: false,
  mediaPort: 0,
  bind: '0.0.0.0',
  lan: true,
  takeover: false,
  stun: undefined,
  exec: undefined,
  json: false,
  punchTimeout: 30,
};
const SRT = { passphrase: 'abcdefghijklmnopqrstuvwxyz012345', pbkeylen: 32, latencyMs: 120 };

describe('toolCommands', () => {
  it("gives a sender its encoder's commands against --srt-listen", () => {
    const c = toolCommands(OPTIONS, SRT);
    expect(Object.keys(c).sort()).toEqual([
      'ffmpeg-send',
      'gstreamer-send',
      'obs',
      'srt-live-transmit-send',
      'vmix',
    ]);
    expect(c['ffmpeg-send']).toContain('srt://127.0.0.1:9000?');
    expect(c['ffmpeg-send']).toContain(`passphrase=${SRT.passphrase}`);
  });

  it("gives a receiver its decoder's commands at --srt-target", () => {
    const c = toolCommands({ ...OPTIONS, role: 'receiver' }, SRT);
    expect(Object.keys(c).sort()).toEqual([
      'ffmpeg-receive',
      'gstreamer-receive',
      'srt-live-transmit-receive',
    ]);
    expect(c['srt-live-transmit-receive']).toContain('srt://:9100?');
    expect(c['gstreamer-receive']).toContain('srtsrc uri="srt://:9100?mode=listener" latency=120 ');
  });
});

describe('execEnds', () => {
  it("puts the user's URI on the far end of srt-live-transmit", () => {
    const q = `passphrase=${SRT.passphrase}&pbkeylen=32&latency=120`;
    expect(execEnds(OPTIONS, 'udp://:5000', SRT)).toEqual([
      'udp://:5000',
      `srt://127.0.0.1:9000?mode=caller&${q}`,
    ]);
    expect(execEnds({ ...OPTIONS, role: 'receiver' }, 'file://con', SRT)).toEqual([
      `srt://127.0.0.1:9100?mode=listener&${q}`,
      'file://con',
    ]);
  });
});
