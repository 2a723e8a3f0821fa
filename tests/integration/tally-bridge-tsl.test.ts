/**
 * `punch tally bridge tsl5+udp://…` and `tsl5+tcp://…` end to end: tsl-umd-v5 (a real TSL UMD
 * v5.0 implementation) sends as a router would, the bridge sets the session's tally, and the
 * operator's WebSocket turns red, green, off. `--tsl-out` sends the session's tally on, read by
 * tsl-umd-v5's parser.
 */
import { createSocket } from 'node:dgram';
import { connect, createServer, type AddressInfo } from 'node:net';
import TSL5 from 'tsl-umd-v5';
import { describe, expect, it } from 'vitest';
import type { Host } from '../conformance/host.js';
import { freeUdpPort, type AgentProc } from './agents.js';
import {
  bridgeSuite,
  nth,
  openShow,
  operatorSees,
  pressTally,
  startBridge,
  tallies,
  type Show,
} from './tally-harness.js';

let host: Host;
const { children, shows } = bridgeSuite((h) => {
  host = h;
});

/** A TSL display message as tsl-umd-v5 takes it: all three lamps `lamp` (0 off, 1 red, 2 green). */
const display = (index: number, lamp: number, text = `CAM ${index}`): TSL5.Tally => ({
  screen: 0,
  index,
  display: { rh_tally: lamp, text_tally: lamp, lh_tally: 0, brightness: 3, text },
});

/** A free TCP port on 127.0.0.1, released for the bridge to listen on. */
async function freeTcpPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) =>
    s.close(() => {
      r();
    }),
  );
  return port;
}

/** A show, and a bridge listening for TSL on a free UDP port: display 1 cam-wide, 2 cam-close. */
async function udpBridge(): Promise<{ show: Show; port: number; bridge: AgentProc }> {
  const show = await openShow(host);
  shows.push(show);
  const port = await freeUdpPort();
  const bridge = startBridge(
    host,
    show,
    [`tsl5+udp://127.0.0.1:${port}`, '--map', '1=cam-wide', '--map', '2=cam-close'],
    children,
  );
  await bridge.waitFor((e) => e.event === 'connected', 'listening');
  return { show, port, bridge };
}

describe('punch tally bridge from TSL UMD v5.0', () => {
  it('UDP: red is program, green preview, off is off; repeats and unmapped displays set nothing; garbage is counted', async () => {
    const { show, port, bridge } = await udpBridge();
    const umd = new TSL5();

    umd.sendTallyUDP('127.0.0.1', port, display(1, 1));
    await operatorSees(show, 'program');
    umd.sendTallyUDP('127.0.0.1', port, display(1, 2));
    await operatorSees(show, 'preview');
    umd.sendTallyUDP('127.0.0.1', port, display(1, 0));
    await operatorSees(show, 'none');
    await nth(bridge, 'tally', 3);

    // The same state again, and a display nobody mapped: no change, so no tally set.
    umd.sendTallyUDP('127.0.0.1', port, display(1, 0));
    umd.sendTallyUDP('127.0.0.1', port, display(7, 1));
    // Garbage: a packet whose byte count lies.
    const junk = createSocket('udp4');
    await new Promise<void>((r) => {
      junk.send(Buffer.from([0x40, 0, 0, 0, 0, 0, 1, 0]), port, '127.0.0.1', () => {
        r();
      });
    });
    junk.close();
    const bad = await bridge.waitFor((e) => e.event === 'bad-frame', 'the bad frame');
    expect(bad).toMatchObject({ count: 1 });

    umd.sendTallyUDP('127.0.0.1', port, display(2, 1));
    await show.producer.next('tally', (m) => (m.program as string[]).includes('cam-close'));
    await show.producer.settle();
    // Exactly one tally message per change, none for the repeat or the unmapped display.
    expect(tallies(show)).toEqual(['cam-wide|', '|cam-wide', '|', 'cam-close|']);
    // The bridge prints its set once Punch answered the PUT, which can come after the push.
    await nth(bridge, 'tally', 4);
    expect(bridge.events.filter((e) => e.event === 'tally')).toHaveLength(4);
    expect(bridge.child.exitCode).toBeNull();
  });

  it('the broadcast display (65535) speaks for every display, those never named too', async () => {
    const { show, port, bridge } = await udpBridge();
    const umd = new TSL5();
    umd.sendTallyUDP('127.0.0.1', port, display(1, 2));
    await nth(bridge, 'tally', 1);
    // All red, then display 2 alone off, then all off (a router clearing its lamps).
    umd.sendTallyUDP('127.0.0.1', port, display(0xffff, 1));
    await nth(bridge, 'tally', 2);
    umd.sendTallyUDP('127.0.0.1', port, display(2, 0));
    await nth(bridge, 'tally', 3);
    umd.sendTallyUDP('127.0.0.1', port, display(0xffff, 0));
    await nth(bridge, 'tally', 4);
    await show.producer.settle();
    expect(tallies(show)).toEqual(['|cam-wide', 'cam-wide+cam-close|', 'cam-wide|', '|']);
  });

  it('TCP: DLE/STX-framed packets from tsl-umd-v5 set tally; bytes outside framing are counted', async () => {
    const show = await openShow(host);
    shows.push(show);
    const port = await freeTcpPort();
    const bridge = startBridge(
      host,
      show,
      [`tsl5+tcp://127.0.0.1:${port}`, '--map', '3=cam-wide'],
      children,
    );
    await bridge.waitFor((e) => e.event === 'connected', 'listening');
    const umd = new TSL5();
    umd.sendTallyTCP('127.0.0.1', port, display(3, 1));
    await operatorSees(show, 'program');
    umd.sendTallyTCP('127.0.0.1', port, display(3, 2));
    await operatorSees(show, 'preview');

    const raw = connect(port, '127.0.0.1');
    await new Promise<void>((r) => raw.once('connect', r));
    raw.end('not TSL at all');
    const bad = await bridge.waitFor((e) => e.event === 'bad-frame', 'the bad frame');
    expect(bad).toMatchObject({ count: 1 });

    umd.sendTallyTCP('127.0.0.1', port, display(3, 0));
    await operatorSees(show, 'none');
    expect(bridge.child.exitCode).toBeNull();
  });

  it('TCP: connections that never send cannot shut the switcher out', async () => {
    const show = await openShow(host);
    shows.push(show);
    const port = await freeTcpPort();
    const bridge = startBridge(
      host,
      show,
      [`tsl5+tcp://127.0.0.1:${port}`, '--map', '3=cam-wide'],
      children,
    );
    await bridge.waitFor((e) => e.event === 'connected', 'listening');
    // Eight silent connections (the bridge takes eight senders at most), as a port scanner or
    // a switcher's half-open sockets from before its reboots would leave them.
    const idle = [];
    for (let i = 0; i < 8; i++) {
      const c = connect(port, '127.0.0.1');
      c.on('error', () => undefined);
      await new Promise<void>((r) => c.once('connect', r));
      idle.push(c);
    }
    await bridge.waitFor(
      () => bridge.events.filter((e) => e.event === 'note').length >= 9,
      'eight senders connected',
    );
    try {
      new TSL5().sendTallyTCP('127.0.0.1', port, display(3, 1));
      await operatorSees(show, 'program');
      expect(await bridge.waitFor((e) => e.event === 'bad-frame', 'the warning')).toMatchObject({
        reason: expect.stringContaining('silent the longest') as unknown,
      });
      // Stopped, the bridge ends though the senders are still connected.
      expect(bridge.child.exitCode).toBeNull();
      const exited = new Promise<number | null>((r) => bridge.child.once('exit', r));
      bridge.child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      for (const c of idle) c.destroy();
    }
  });

  it('--tsl-out: a TSL receiver gets the stream name and red on program, whoever set it', async () => {
    const show = await openShow(host);
    shows.push(show);
    const receiver = createSocket('udp4');
    await new Promise<void>((r) => receiver.bind(0, '127.0.0.1', r));
    const umd = new TSL5();
    const got: TSL5.Received[] = [];
    umd.on('message', (m) => got.push(m));
    // tsl-umd-v5's own listener cannot bind port 0 or be closed: its parser reads our socket.
    receiver.on('message', (msg) => {
      umd.processTally(msg);
    });
    const received = (pred: (m: TSL5.Received) => boolean): Promise<TSL5.Received> =>
      new Promise((resolve, reject) => {
        const seen = got.find(pred);
        if (seen !== undefined) {
          resolve(seen);
          return;
        }
        const timer = setTimeout(() => {
          reject(new Error(`no such TSL message; got ${JSON.stringify(got.slice(-4))}`));
        }, 10_000);
        umd.on('message', (m) => {
          if (!pred(m)) return;
          clearTimeout(timer);
          resolve(m);
        });
      });

    const inPort = await freeUdpPort();
    const out = receiver.address().port;
    const bridge = startBridge(
      host,
      show,
      [
        `tsl5+udp://127.0.0.1:${inPort}`,
        '--map',
        '5=cam-wide',
        '--tsl-out',
        `tsl5+udp://127.0.0.1:${out}`,
      ],
      children,
    );
    try {
      await bridge.waitFor((e) => e.event === 'tsl-out', 'the first send');
      // cam-close is not mapped: its index is its place in the session (2).
      const idle = await received((m) => m.index === 2 && m.display.text === 'cam-close');
      expect(idle.display).toMatchObject({ rh_tally: 0, text_tally: 0 });

      new TSL5().sendTallyUDP('127.0.0.1', inPort, display(5, 1));
      const red = await received((m) => m.index === 5 && m.display.rh_tally === 1);
      expect(red.display).toMatchObject({ text: 'cam-wide', text_tally: 1 });

      // A producer's press on the dashboard goes out too (last writer wins).
      await pressTally(host, show, [], ['cam-close']);
      const green = await received((m) => m.index === 2 && m.display.rh_tally === 2);
      expect(green.display.text).toBe('cam-close');
    } finally {
      receiver.close();
    }
  });
});
