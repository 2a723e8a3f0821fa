/**
 * `punch tally bridge atem://…` end to end against a fake ATEM. There is no ATEM simulator to be
 * had (none on npm or in Debian), so fake-atem.ts is a recorded-packet fake: it speaks the ATEM
 * UDP protocol's handshake, state dump and `TlSr` (tally by source) packets, and the bridge talks
 * to it through the real atem-connection client. Each cut on "the ATEM" turns the operator's
 * WebSocket red, green, off; an input the ATEM marks on program because a keyer shows it lights
 * its stream; a repeat sets nothing; a broken command is counted; an ATEM sending no TlSr is
 * followed by ME 1's program and preview; an ATEM that goes away and comes back is reconnected
 * to; SIGTERM stops the bridge cleanly (atem-connection's exit hook would otherwise end it with
 * 143).
 */
import { describe, expect, it } from 'vitest';
import type { Host } from '../conformance/host.js';
import { FakeAtem, command } from './fake-atem.js';
import { bridgeSuite, nth, openShow, operatorSees, startBridge, tallies } from './tally-harness.js';

let host: Host;
const atems: FakeAtem[] = [];
const { children, shows } = bridgeSuite(
  (h) => {
    host = h;
  },
  async () => {
    for (const a of atems.splice(0)) await a.stop();
  },
);

const MAP = ['--map', '1=cam-wide', '--map', '2=cam-close'];

describe('punch tally bridge from an ATEM', () => {
  it('follows TlSr: program, preview, off; keyed inputs are on program; repeats set nothing', async () => {
    const show = await openShow(host);
    shows.push(show);
    const atem = new FakeAtem({ 1: 'program', 2: 'preview', 3: 'off', 6000: 'off' });
    atems.push(atem);
    await atem.start();
    const bridge = startBridge(host, show, [`atem://127.0.0.1:${atem.port}`, ...MAP], children);
    await bridge.waitFor((e) => e.event === 'connected', 'connected to the ATEM');
    // The tally in the state dump is set at once.
    await operatorSees(show, 'program');

    atem.setTally({ 1: 'preview', 2: 'program', 3: 'off', 6000: 'off' });
    await operatorSees(show, 'preview');
    atem.setTally({ 1: 'off', 2: 'off', 3: 'program', 6000: 'off' });
    await operatorSees(show, 'none');
    // Input 2 on program, input 1 over it through an upstream keyer: the ATEM lights both.
    atem.setTally({ 1: 'program', 2: 'program', 3: 'off', 6000: 'off' });
    await operatorSees(show, 'program');
    const keyed = await nth(bridge, 'tally', 4);
    expect(keyed).toMatchObject({ program: ['cam-wide', 'cam-close'], preview: [] });
    expect(typeof keyed.latencyMs).toBe('number');

    // The same again, then a change to an unmapped source (SuperSource): nothing to set.
    atem.setTally({ 1: 'program', 2: 'program', 3: 'off', 6000: 'off' });
    atem.setTally({ 1: 'program', 2: 'program', 3: 'off', 6000: 'program' });
    // A TlSr saying 5 sources and carrying one: atem-connection cannot read it.
    const broken = Buffer.alloc(5);
    broken.writeUInt16BE(5, 0);
    broken.writeUInt16BE(1, 2);
    atem.sendRaw(command('TlSr', broken));
    expect(await bridge.waitFor((e) => e.event === 'bad-frame', 'the broken TlSr')).toMatchObject({
      count: 1,
    });
    atem.setTally({ 1: 'off', 2: 'both', 3: 'off', 6000: 'off' });
    await show.producer.next(
      'tally',
      (m) => (m.program as string[]).join() === 'cam-close' && (m.preview as string[]).length === 0,
    );
    await show.producer.settle();
    expect(tallies(show)).toEqual([
      'cam-wide|cam-close',
      'cam-close|cam-wide',
      '|',
      'cam-wide+cam-close|',
      'cam-close|',
    ]);
    await nth(bridge, 'tally', 5);
    expect(bridge.events.filter((e) => e.event === 'tally')).toHaveLength(5);
    const source = `ATEM at 127.0.0.1:${atem.port}`;
    expect(show.producer.all('tally').map((m) => (m.origin as { source: unknown }).source)).toEqual(
      Array(5).fill(source),
    );

    // Stopped by SIGTERM, the bridge says so and exits 0.
    const exited = new Promise<number | null>((r) => bridge.child.once('exit', r));
    bridge.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(bridge.events.at(-1)).toMatchObject({ event: 'stopped', reason: 'interrupted' });
  });

  it('reconnects when the ATEM goes away, and catches up with the tally it finds', async () => {
    const show = await openShow(host);
    shows.push(show);
    const atem = new FakeAtem({ 1: 'off', 2: 'off' });
    atems.push(atem);
    await atem.start();
    const bridge = startBridge(host, show, [`atem://127.0.0.1:${atem.port}`, ...MAP], children);
    await bridge.waitFor((e) => e.event === 'connected', 'connected to the ATEM');
    await nth(bridge, 'tally', 1);

    await atem.stop();
    // atem-connection notices after 5 s of silence.
    await bridge.waitFor((e) => e.event === 'lost', 'the loss');
    // Cut while the bridge could not see it.
    const back = new FakeAtem({ 1: 'program', 2: 'off' });
    atems.push(back);
    await back.start(atem.port);
    await nth(bridge, 'connected', 2);
    await operatorSees(show, 'program');
    expect(back.hellos).toBeGreaterThanOrEqual(1);
    expect(bridge.child.exitCode).toBeNull();
  }, 30_000);

  it('without TlSr from the ATEM, follows ME 1 program and preview', async () => {
    const show = await openShow(host);
    shows.push(show);
    const atem = new FakeAtem({}, { program: 1, preview: 2 });
    atems.push(atem);
    await atem.start();
    const bridge = startBridge(host, show, [`atem://127.0.0.1:${atem.port}`, ...MAP], children);
    expect(await bridge.waitFor((e) => e.event === 'connected', 'connected')).toMatchObject({
      detail: expect.stringContaining('ME 1') as unknown,
    });
    await operatorSees(show, 'program');
    atem.setMixEffect(2, 1);
    await operatorSees(show, 'preview');
    atem.setMixEffect(3, 2);
    await operatorSees(show, 'none');
    await show.producer.settle();
    expect(tallies(show)).toEqual(['cam-wide|cam-close', 'cam-close|cam-wide', '|cam-close']);
  });

  it('says when no ATEM answers at the address', async () => {
    const show = await openShow(host);
    shows.push(show);
    // A port nobody listens on: UDP gets no answer at all.
    const silent = new FakeAtem({});
    await silent.start();
    const port = silent.port;
    await silent.stop();
    const bridge = startBridge(host, show, [`atem://127.0.0.1:${port}`, ...MAP], children);
    expect(await bridge.waitFor((e) => e.event === 'lost', 'no answer')).toMatchObject({
      reason: expect.stringContaining('no answer') as unknown,
    });
    expect(bridge.child.exitCode).toBeNull();
  });
});
