/**
 * State follows the media, with real SRT: two `punch peer` agents on loopback, each running
 * srt-live-transmit (`--exec`). While bytes flow into the sender's srt-live-transmit the agents
 * report SRT media and the stream is `connected`; when the input stops, srt-live-transmit keeps
 * its SRT connection up with its own control packets (keepalives, ACKs), the agents report no
 * media, and the stream turns `no-signal` (and `punch session show` says so); media again makes
 * it `connected`.
 */
import { execFileSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { call, createSession, peerToken, type Created } from '../conformance/client.js';
import { startHost, type Host } from '../conformance/host.js';
import {
  CLI,
  Children,
  freeUdpPort,
  installed,
  spawnAgent,
  type AgentProc,
  type Event,
} from './agents.js';

const slt = installed('srt-live-transmit');
const inCi = process.env.CI === 'true';
if (!slt && !inCi)
  console.warn(
    '\n!!! SKIPPING the real-SRT no-signal test: srt-live-transmit is not installed (apt-get install srt-tools)\n',
  );
it.runIf(inCi)('CI has srt-live-transmit for the real-SRT no-signal test', () => {
  expect(slt).toBe(true);
});

let host: Host;
const children = new Children();
const sockets: Socket[] = [];
beforeAll(async () => {
  host = await startHost();
});
afterAll(async () => {
  for (const s of sockets) s.close();
  // SIGTERM: the agents stop the srt-live-transmit they started; SIGKILL only as a backstop.
  await children.stopAll();
  await host.stop();
});

/** A `punch peer --json` agent and the events it printed (read, never waited for). */
const agent = (args: string[]): AgentProc => spawnAgent(args, { children, waitMs: 15_000 });

/** A UDP socket bound on 127.0.0.1 (port 0: the OS picks), kept until the end. */
function udp(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      sockets.push(s);
      resolve(s);
    });
  });
}

const stateOf = async (s: Created): Promise<string> => {
  const r = await call(host.url, 'GET', `/api/session/${s.session}`, { token: s.token });
  return (r.json as { streams: { state: string }[] }).streams[0]!.state;
};

/** Polls `GET` every 250 ms until the stream is in `want` (at most `ms`). */
async function until(s: Created, want: string, ms: number): Promise<void> {
  let seen = '';
  for (let waited = 0; waited <= ms; waited += 250) {
    seen = await stateOf(s);
    if (seen === want) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`cam-1 stayed "${seen}", never "${want}" within ${ms} ms`);
}

type Stats = { path?: string; mediaBps?: number; sendBps?: number; recvBps?: number };
const healthOf = (a: { events: Event[] }): Stats[] =>
  a.events.filter((e) => e.event === 'health').map((e) => e.stats as Stats);

it.skipIf(!slt)(
  'real SRT: media makes the stream connected; SRT keepalives alone make it no-signal; media again, connected',
  async () => {
    const s = await createSession(host.url, { streams: ['cam-1'] });
    const input = await freeUdpPort();
    const output = await udp();
    let delivered = 0;
    output.on('message', (m) => {
      delivered += m.byteLength;
    });
    const send = agent([
      '--server',
      host.url,
      '--token',
      await peerToken(host.url, s, 'cam-1'),
      '--send',
      '--srt-listen',
      `127.0.0.1:${await freeUdpPort()}`,
      '--exec',
      `udp://127.0.0.1:${input}`,
    ]);
    const recv = agent([
      '--server',
      host.url,
      '--token',
      await peerToken(host.url, s, 'cam-1'),
      '--receive',
      '--srt-target',
      `127.0.0.1:${await freeUdpPort(2)}`,
      '--exec',
      `udp://127.0.0.1:${output.address().port}`,
    ]);

    // About 2 Mbit/s of 1316-byte datagrams (7 MPEG-TS packets each) into the sender's
    // srt-live-transmit while `feeding`; bounded by the test's own end.
    const source = await udp();
    let feeding = true;
    const payload = Buffer.alloc(1316, 0x47);
    const feeder = setInterval(() => {
      if (feeding) source.send(payload, input, '127.0.0.1');
    }, 5);
    try {
      await until(s, 'connected', 20_000);
      await expect.poll(() => delivered, { timeout: 10_000 }).toBeGreaterThan(100_000);
      const live = (h: Stats[]) => h.some((x) => (x.mediaBps ?? 0) > 100_000);
      await expect.poll(() => live(healthOf(send)), { timeout: 5000 }).toBe(true);
      await expect.poll(() => live(healthOf(recv)), { timeout: 5000 }).toBe(true);

      // The encoder stops; srt-live-transmit keeps the SRT connection up on its own.
      feeding = false;
      const before = [healthOf(send).length, healthOf(recv).length];
      await until(s, 'no-signal', 15_000);
      const quiet = [healthOf(send).slice(before[0]), healthOf(recv).slice(before[1])];
      // SRT's control packets still crossed the path, and none of them counted as media.
      const control = quiet.flat().filter((x) => (x.sendBps ?? 0) + (x.recvBps ?? 0) > 0);
      expect(control.length).toBeGreaterThan(0);
      for (const side of quiet) {
        expect(side.slice(-2).map((x) => [x.path, x.mediaBps])).toEqual([
          ['direct', 0],
          ['direct', 0],
        ]);
      }

      // `punch session show` reads it as the alarm it is.
      const show = execFileSync(process.execPath, [CLI, 'session', 'show'], {
        env: { ...process.env, PUNCH_SERVER: host.url, PUNCH_TOKEN: s.token },
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(show).toMatch(/cam-1\s+NO SIGNAL \(path up, no media\)\s+direct\s+direct/);

      feeding = true;
      await until(s, 'connected', 15_000);
    } finally {
      clearInterval(feeder);
    }
  },
  90_000,
);
