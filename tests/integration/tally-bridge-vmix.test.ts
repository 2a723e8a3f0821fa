/**
 * `punch tally bridge vmix://…` end to end against a fake vMix TCP API server (vMix runs only
 * on Windows; fake-vmix.ts follows vMix's published TCP API): each switch in "vMix" turns the
 * operator's WebSocket red, green, off; a repeat sets nothing; a garbage line is counted; a
 * vMix that goes away and comes back is reconnected to.
 */
import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { call } from '../conformance/client.js';
import { startHost, type Host } from '../conformance/host.js';
import { FakeVmix } from './fake-vmix.js';
import {
  bridgeSuite,
  nth,
  openShow,
  operatorSees,
  pressTally,
  startBridge,
  tallies,
} from './tally-harness.js';

let host: Host;
const vmixes: FakeVmix[] = [];
const { children, shows } = bridgeSuite(
  (h) => {
    host = h;
  },
  async () => {
    for (const v of vmixes.splice(0)) await v.stop();
  },
);

describe('punch tally bridge from vMix', () => {
  it('follows TALLY OK lines: program, preview, off; repeats set nothing; garbage is counted', async () => {
    const show = await openShow(host);
    shows.push(show);
    const vmix = new FakeVmix('1200');
    vmixes.push(vmix);
    await vmix.start();
    const bridge = startBridge(
      host,
      show,
      [`vmix://127.0.0.1:${vmix.port}`, '--map', '1=cam-wide', '--map', '2=cam-close'],
      children,
    );
    await bridge.waitFor((e) => e.event === 'connected', 'connected to vMix');
    // The state at connection (answer to TALLY) is set at once.
    await operatorSees(show, 'program');
    expect(vmix.commands.slice(0, 2)).toEqual(['SUBSCRIBE TALLY', 'TALLY']);

    vmix.setTally('2100');
    await operatorSees(show, 'preview');
    vmix.setTally('0000');
    await operatorSees(show, 'none');
    const set = await nth(bridge, 'tally', 3);
    expect(set).toMatchObject({ program: [], preview: [] });
    expect(typeof set.latencyMs).toBe('number');

    // Input 4 is not mapped, so this is no change; then the same line again.
    vmix.setTally('0001');
    vmix.setTally('0001');
    vmix.sendRaw('TALLY OK 01\u0007x\r\n');
    expect(await bridge.waitFor((e) => e.event === 'bad-frame', 'the bad line')).toMatchObject({
      count: 1,
    });
    vmix.setTally('0101');
    // The producer's socket saw earlier messages with cam-close too: wait for this one exactly.
    await show.producer.next(
      'tally',
      (m) => (m.program as string[]).join() === 'cam-close' && (m.preview as string[]).length === 0,
    );
    await show.producer.settle();
    expect(tallies(show)).toEqual(['cam-wide|cam-close', 'cam-close|cam-wide', '|', 'cam-close|']);
    // The bridge prints a set once Punch answers, which may come after the push: wait for it.
    await nth(bridge, 'tally', 4);
    expect(bridge.events.filter((e) => e.event === 'tally')).toHaveLength(4);
    // Each set names vMix: the producer's socket and view say so, the operator's never do.
    const source = `vMix at 127.0.0.1:${vmix.port}`;
    expect(show.producer.all('tally').map((m) => (m.origin as { source: unknown }).source)).toEqual(
      Array(4).fill(source),
    );
    await show.operator.settle();
    expect(show.operator.all('tally').filter((m) => 'origin' in m)).toEqual([]);
    const path = `/api/session/${show.created.session}`;
    const view = await call(host.url, 'GET', path, { token: show.created.token });
    expect(view.json).toMatchObject({ tallyOrigin: { source } });
  });

  it('a line too long is dropped whole: its end is not read as a tally line', async () => {
    const show = await openShow(host);
    shows.push(show);
    const vmix = new FakeVmix('1000');
    vmixes.push(vmix);
    await vmix.start();
    const bridge = startBridge(
      host,
      show,
      [`vmix://127.0.0.1:${vmix.port}`, '--map', '1=cam-wide', '--map', '2=cam-close'],
      children,
    );
    await operatorSees(show, 'program');
    // 40 KiB without a newline, ending as a tally line would: one line, dropped once.
    vmix.sendRaw('x'.repeat(40 * 1024));
    await bridge.waitFor((e) => e.event === 'bad-frame', 'the long line');
    vmix.sendRaw('TALLY OK 02\r\n');
    vmix.setTally('0100');
    await show.producer.next('tally', (m) => (m.program as string[]).join() === 'cam-close');
    await show.producer.settle();
    expect(tallies(show)).toEqual(['cam-wide|', 'cam-close|']);
    expect(bridge.events.filter((e) => e.event === 'bad-frame')).toHaveLength(1);
  });

  it('reconnects with backoff when vMix goes away, and catches up with the state it finds', async () => {
    const show = await openShow(host);
    shows.push(show);
    const vmix = new FakeVmix('0000');
    vmixes.push(vmix);
    await vmix.start();
    const bridge = startBridge(
      host,
      show,
      [`vmix://127.0.0.1:${vmix.port}`, '--map', '1=cam-wide'],
      children,
    );
    await bridge.waitFor((e) => e.event === 'connected', 'connected to vMix');
    await nth(bridge, 'tally', 1);

    await vmix.stop();
    await bridge.waitFor((e) => e.event === 'lost', 'the loss');
    // Switched while the bridge could not see it.
    const back = new FakeVmix('1000');
    vmixes.push(back);
    await back.start(vmix.port);
    await nth(bridge, 'connected', 2);
    await operatorSees(show, 'program');
    expect(back.subscribers).toBe(1);
    expect(bridge.child.exitCode).toBeNull();
  });

  it('a port that accepts and hangs up at once is not vMix: each try waits longer', async () => {
    const show = await openShow(host);
    shows.push(show);
    const rude = createServer((socket) => socket.destroy());
    await new Promise<void>((r) => rude.listen(0, '127.0.0.1', r));
    try {
      const { port } = rude.address() as AddressInfo;
      const bridge = startBridge(
        host,
        show,
        [`vmix://127.0.0.1:${port}`, '--map', '1=cam-wide'],
        children,
      );
      // 0.5 s, 1 s, 2 s (give or take a quarter): a connection alone is no reason to start over.
      const third = await nth(bridge, 'lost', 3);
      expect(third.retryInMs).toBeGreaterThanOrEqual(1500);
      expect(bridge.child.exitCode).toBeNull();
    } finally {
      await new Promise<void>((r) => {
        rude.close(() => {
          r();
        });
      });
    }
  });

  it('sets tally over its session socket: a fast switcher is not held to the HTTP write limit', async () => {
    // Two tally PUTs a minute for the whole network: the producer's dashboard needs them.
    const strict = await startHost({ extraArgs: ['--rate-limit', 'write=2/60'] });
    try {
      const show = await openShow(strict);
      shows.push(show);
      const vmix = new FakeVmix('0000');
      vmixes.push(vmix);
      await vmix.start();
      const bridge = startBridge(
        strict,
        show,
        [`vmix://127.0.0.1:${vmix.port}`, '--map', '1=cam-wide', '--map', '2=cam-close'],
        children,
      );
      await bridge.waitFor((e) => e.event === 'connected', 'connected to vMix');
      // The state found at connection (all off) is set first: by PUT if that came before the
      // session link was up.
      await nth(bridge, 'tally', 1);
      const cuts = ['1200', '2100', '1200', '2100', '1200', '2100', '1000', '0000'];
      for (const [i, state] of cuts.entries()) {
        vmix.setTally(state);
        await nth(bridge, 'tally', i + 2);
      }
      expect(bridge.events.filter((e) => e.event === 'punch-retrying')).toEqual([]);
      await show.producer.settle();
      expect(tallies(show)).toHaveLength(cuts.length + 1);
      // The producer's own press still has what the HTTP budget has left.
      await pressTally(strict, show, ['cam-close'], []);
    } finally {
      await children.stopAll();
      await strict.stop();
    }
  });

  it('takes the fresh admin token an extension brings, and stops when the session is closed', async () => {
    const show = await openShow(host);
    shows.push(show);
    const vmix = new FakeVmix('0000');
    vmixes.push(vmix);
    await vmix.start();
    const bridge = startBridge(
      host,
      show,
      [`vmix://127.0.0.1:${vmix.port}`, '--map', '1=cam-wide'],
      children,
    );
    await nth(bridge, 'tally', 1);
    // Fresh tokens go to the sockets open at the extension: the bridge's must be.
    await bridge.waitFor(
      (e) => e.event === 'note' && String(e.text).startsWith('following session'),
      'the session link',
    );
    const path = `/api/session/${show.created.session}`;
    const extended = await call(host.url, 'PATCH', path, {
      token: show.created.token,
      body: { ttl: 7200 },
    });
    expect(extended.status).toBe(200);
    await bridge.waitFor(
      (e) => e.event === 'note' && String(e.text).includes('fresh admin token'),
      'the fresh token',
    );
    vmix.setTally('1000');
    await operatorSees(show, 'program');

    const closed = await call(host.url, 'DELETE', path, { token: show.created.token });
    expect(closed.status).toBe(204);
    expect(await bridge.exited).toBe(0);
    expect(bridge.events.at(-1)).toMatchObject({ event: 'stopped' });
  });

  it('refuses a map key vMix can never send (an input name), before connecting', async () => {
    const show = await openShow(host);
    shows.push(show);
    const bridge = startBridge(
      host,
      show,
      ['vmix://127.0.0.1:1', '--map', 'Camera 1=cam-wide', '--map', '2=cam-close'],
      children,
    );
    expect(await bridge.exited).toBe(2);
    expect(bridge.stderr.join('\n')).toContain('"Camera 1": vMix keys are input numbers');
  });

  it('refuses a map naming a stream the session does not have, before connecting', async () => {
    const show = await openShow(host);
    shows.push(show);
    // Given the producer's dashboard link instead of the token: it names the server too (the
    // PUNCH_SERVER here leads nowhere).
    const link = `${host.url}/session/${show.created.session}#t=${show.created.token}`;
    const bridge = startBridge(
      host,
      show,
      ['vmix://127.0.0.1:1', '--map', '1=cam-wdie'],
      children,
      {
        // As pasted from a chat or a file: with its line break.
        PUNCH_TOKEN: `${link}\n`,
        PUNCH_SERVER: 'http://127.0.0.1:9',
      },
    );
    expect(await bridge.exited).toBe(2);
    expect(bridge.stderr.join('\n')).toMatch(/cam-wdie.*cam-wide, cam-close/);
  });
});
