import { describe, expect, it } from 'vitest';
import { connectionStrings, type ConnectInput } from './connect.js';

const INPUT: ConnectInput = {
  server: 'https://punch.example',
  session: 'nab-floor',
  stream: 'cam-wide',
  index: 1,
  passphrase: 'abcdefghijklmnopqrstuvwxyz012345',
  pbkeylen: 32,
  latencyMs: 120,
  sender: { ip: '203.0.113.5', port: 4000 },
  receiver: { ip: '2001:db8::7', port: 5000 },
};
const P = INPUT.passphrase;

describe('connectionStrings', () => {
  const c = connectionStrings(INPUT);

  it("gives punch peer lines a LINK placeholder for the stream's operator link, never a token variable", () => {
    expect(c['punch-peer-send']).toBe("punch peer 'LINK' --send");
    expect(c['punch-peer-receive']).toBe("punch peer 'LINK' --receive");
    for (const line of Object.values(c)) expect(line).not.toContain('PUNCH_TOKEN');
  });

  it('gives each tool the latency in its own unit', () => {
    // ffmpeg's srt URI (and OBS, which hands its URL to ffmpeg) counts microseconds.
    expect(c['ffmpeg-send']).toContain('latency=120000"');
    expect(c['ffmpeg-receive']).toContain('latency=120000"');
    expect(c.obs).toContain('latency=120000');
    // srt-live-transmit's URI, GStreamer's property and vMix's field count milliseconds.
    expect(c['srt-live-transmit-send']).toContain('latency=120"');
    expect(c['srt-live-transmit-receive']).toContain('latency=120"');
    expect(c['gstreamer-send']).toContain(' latency=120 ');
    expect(c['gstreamer-receive']).toContain(' latency=120 ');
    expect(c.vmix).toContain('Latency 120,');
  });

  it('gives GStreamer srtsink as caller to the agent and srtsrc as its listener', () => {
    expect(c['gstreamer-send']).toBe(
      'gst-launch-1.0 -e filesrc location=input.ts ! tsparse set-timestamps=true alignment=7 ! ' +
        `srtsink uri="srt://127.0.0.1:9000?mode=caller" latency=120 passphrase=${P} pbkeylen=32`,
    );
    expect(c['gstreamer-receive']).toBe(
      `gst-launch-1.0 -e srtsrc uri="srt://:9100?mode=listener" latency=120 passphrase=${P} ` +
        'pbkeylen=32 ! filesink location=out.ts',
    );
  });

  it("points every tool at the agent's own ports when they are not the defaults", () => {
    const moved = connectionStrings({ ...INPUT, sendPort: 9010, receivePort: 9110 });
    for (const k of ['ffmpeg-send', 'srt-live-transmit-send', 'gstreamer-send', 'obs'])
      expect(moved[k]).toContain('127.0.0.1:9010?');
    for (const k of ['ffmpeg-receive', 'srt-live-transmit-receive', 'gstreamer-receive'])
      expect(moved[k]).toContain(':9110?');
    expect(moved.vmix).toContain('Port 9010,');
  });

  it('gives rendezvous lines toward the other side on the agreed port, IPv6 in brackets', () => {
    expect(c['srt-live-transmit-rendezvous-send']).toContain(
      'srt://[2001:db8::7]:20001?mode=rendezvous',
    );
    expect(c['srt-live-transmit-rendezvous-receive']).toContain(
      'srt://203.0.113.5:20001?mode=rendezvous',
    );
    const alone = connectionStrings({ ...INPUT, sender: null, receiver: null });
    expect(Object.keys(alone).filter((k) => k.includes('rendezvous'))).toEqual([]);
  });
});
