/**
 * `punch tally bridge obs://…` end to end against a fake obs-websocket v5 server (fake-obs.ts;
 * no OBS on this machine): the password from PUNCH_OBS_PASSWORD, the program scene on air at
 * once, studio mode's preview, duplicate scene events setting nothing, a wrong password and a
 * garbage frame reported, never a crash; sources
 * inside nested scenes and groups.
 */
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import type { Host } from '../conformance/host.js';
import { FakeObs } from './fake-obs.js';
import { bridgeSuite, nth, openShow, operatorSees, startBridge, tallies } from './tally-harness.js';

let host: Host;
const fakes: FakeObs[] = [];
const { children, shows } = bridgeSuite(
  (h) => {
    host = h;
  },
  async () => {
    for (const f of fakes.splice(0)) await f.stop();
  },
);

const MAP = ['--map', 'Cam Wide=cam-wide', '--map', 'Cam Close=cam-close'];

describe('punch tally bridge from OBS', () => {
  it('program and studio-mode preview scenes light their streams; duplicates set nothing', async () => {
    const show = await openShow(host);
    shows.push(show);
    const obs = new FakeObs('show-password');
    fakes.push(obs);
    obs.program = 'Slides';
    await obs.start();
    const bridge = startBridge(host, show, [`obs://127.0.0.1:${obs.port}`, ...MAP], children, {
      PUNCH_OBS_PASSWORD: 'show-password',
    });
    await bridge.waitFor((e) => e.event === 'connected', 'connected to OBS');
    // Scenes, SceneItems and Ui: program/preview changes, sources shown or hidden, studio mode.
    expect(obs.identifies[0]).toMatchObject({
      rpcVersion: 1,
      eventSubscriptions: (1 << 2) | (1 << 7) | (1 << 10),
    });
    await nth(bridge, 'tally', 1);

    // Each step waits for the bridge's own report of the PUT it made: a change that came while a
    // PUT was still in flight could be folded into the next one (the newest tally wins).
    obs.cut('Cam Wide');
    await operatorSees(show, 'program');
    await nth(bridge, 'tally', 2);
    obs.setStudio(true); // preview is Cam Close
    expect(await nth(bridge, 'tally', 3)).toMatchObject({ preview: ['cam-close'] });
    obs.setPreview('Cam Wide');
    obs.cut('Cam Close');
    await operatorSees(show, 'preview');
    await nth(bridge, 'tally', 5);
    // The same cut again, and a frame that is not obs-websocket's: nothing set, one warning.
    obs.cut('Cam Close');
    obs.sendRaw('{"op": 5, "d": 7}');
    expect(await bridge.waitFor((e) => e.event === 'bad-frame', 'the bad frame')).toMatchObject({
      count: 1,
    });
    // A scene change naming no scene: counted, and no camera turned off.
    obs.sendRaw(
      JSON.stringify({
        op: 5,
        d: { eventType: 'CurrentProgramSceneChanged', eventData: { sceneName: 12 } },
      }),
    );
    expect(await nth(bridge, 'bad-frame', 2)).toMatchObject({
      reason: 'CurrentProgramSceneChanged without a scene name',
    });
    obs.setStudio(false);
    await show.producer.next(
      'tally',
      (m) => (m.program as string[]).join() === 'cam-close' && (m.preview as string[]).length === 0,
    );
    await show.producer.settle();
    expect(tallies(show)).toEqual([
      '|',
      'cam-wide|',
      'cam-wide|cam-close',
      // Cam Wide on preview while on program: program wins.
      'cam-wide|',
      'cam-close|cam-wide',
      'cam-close|',
    ]);
    expect(bridge.child.exitCode).toBeNull();
  });

  it('studio mode turned off while the bridge was away: the old preview goes dark', async () => {
    const show = await openShow(host);
    shows.push(show);
    const obs = new FakeObs();
    fakes.push(obs);
    obs.program = 'Cam Wide';
    obs.preview = 'Cam Close';
    obs.studio = true;
    await obs.start();
    const bridge = startBridge(host, show, [`obs://127.0.0.1:${obs.port}`, ...MAP], children);
    expect(await nth(bridge, 'tally', 1)).toMatchObject({
      program: ['cam-wide'],
      preview: ['cam-close'],
    });
    // No event can tell the bridge: it learns it from GetStudioModeEnabled when it is back.
    obs.dropClients();
    obs.studio = false;
    await nth(bridge, 'connected', 2);
    expect(await nth(bridge, 'tally', 2)).toMatchObject({ program: ['cam-wide'], preview: [] });
    expect(bridge.child.exitCode).toBeNull();
  });

  it('a WebSocket server that never says Hello is given up on and retried, not waited on', async () => {
    const show = await openShow(host);
    shows.push(show);
    const silent = new WebSocketServer({
      host: '127.0.0.1',
      port: 0,
      handleProtocols: () => 'obswebsocket.json',
    });
    await new Promise<void>((r) => silent.once('listening', r));
    try {
      const { port } = silent.address() as AddressInfo;
      const bridge = startBridge(host, show, [`obs://127.0.0.1:${port}`, ...MAP], children);
      expect(await bridge.waitFor((e) => e.event === 'lost', 'given up on')).toMatchObject({
        reason: expect.stringContaining('handshake') as unknown,
      });
      expect(bridge.child.exitCode).toBeNull();
    } finally {
      for (const c of silent.clients) c.terminate();
      await new Promise<void>((r) => {
        silent.close(() => {
          r();
        });
      });
    }
  });

  it('an OBS that stops answering requests is reconnected to, not followed in silence', async () => {
    const show = await openShow(host);
    shows.push(show);
    const obs = new FakeObs();
    fakes.push(obs);
    obs.program = 'Cam Wide';
    obs.unanswered.add('GetCurrentProgramScene');
    await obs.start();
    const bridge = startBridge(host, show, [`obs://127.0.0.1:${obs.port}`, ...MAP], children);
    await bridge.waitFor((e) => e.event === 'connected', 'connected to OBS');
    // Pings are answered, the request is not: the bridge knows nothing of the program scene.
    // Found at the second ping after it (5 to 10 s).
    expect(await bridge.waitFor((e) => e.event === 'lost', 'given up on', 20_000)).toMatchObject({
      reason: expect.stringContaining('did not answer GetCurrentProgramScene') as unknown,
    });
    obs.unanswered.clear();
    await nth(bridge, 'connected', 2);
    expect(await nth(bridge, 'tally', 1)).toMatchObject({ program: ['cam-wide'] });
    expect(bridge.child.exitCode).toBeNull();
  });

  it('a camera source visible in the program scene (nested scenes too) lights its stream', async () => {
    const show = await openShow(host);
    shows.push(show);
    const obs = new FakeObs();
    fakes.push(obs);
    const input = (sourceName: string, sceneItemEnabled = true) =>
      ({ sourceName, sceneItemEnabled, sourceType: 'OBS_SOURCE_TYPE_INPUT' }) as const;
    obs.scenes.set('Interview', [input('Cam 1'), input('Cam 2', false), input('Lower third')]);
    obs.scenes.set('Wide', [
      { sourceName: 'Inner', sceneItemEnabled: true, sourceType: 'OBS_SOURCE_TYPE_SCENE' },
    ]);
    obs.scenes.set('Inner', [input('Cam 2')]);
    obs.program = 'Interview';
    await obs.start();
    const bridge = startBridge(
      host,
      show,
      [`obs://127.0.0.1:${obs.port}`, '--map', 'Cam 1=cam-wide', '--map', 'Cam 2=cam-close'],
      children,
    );
    await bridge.waitFor((e) => e.event === 'connected', 'connected to OBS');
    // Cam 1 is shown in Interview; Cam 2 is in it too, but hidden. Each step waits for the
    // bridge's report of its PUT (see the test above).
    await operatorSees(show, 'program');
    expect(await nth(bridge, 'tally', 1)).toMatchObject({ program: ['cam-wide'], preview: [] });
    obs.setEnabled('Interview', 'Cam 2', true);
    expect(await nth(bridge, 'tally', 2)).toMatchObject({ program: ['cam-wide', 'cam-close'] });
    obs.setEnabled('Interview', 'Cam 1', false);
    await operatorSees(show, 'none');
    await nth(bridge, 'tally', 3);
    obs.setEnabled('Interview', 'Cam 2', false);
    await nth(bridge, 'tally', 4);
    // Wide shows Cam 2 through the nested scene Inner.
    obs.cut('Wide');
    expect(await nth(bridge, 'tally', 5)).toMatchObject({ program: ['cam-close'] });
    // Off air, and the same cut again: nothing. Then hiding Cam 2 in Inner (on air) clears it.
    obs.setEnabled('Interview', 'Cam 1', true);
    obs.cut('Wide');
    obs.setEnabled('Inner', 'Cam 2', false);
    await nth(bridge, 'tally', 6);
    await show.producer.settle();
    expect(tallies(show)).toEqual([
      'cam-wide|',
      'cam-wide+cam-close|',
      'cam-close|',
      '|',
      'cam-close|',
      '|',
    ]);
    expect(bridge.child.exitCode).toBeNull();
  });

  it("a camera in a group lights its stream (its items asked for as a group's)", async () => {
    const show = await openShow(host);
    shows.push(show);
    const obs = new FakeObs();
    fakes.push(obs);
    obs.scenes.set('Desk', [
      { sourceName: 'Cams', sceneItemEnabled: true, sourceType: 'OBS_SOURCE_TYPE_SCENE' },
    ]);
    obs.scenes.set('Cams', [
      { sourceName: 'Cam 1', sceneItemEnabled: true, sourceType: 'OBS_SOURCE_TYPE_INPUT' },
    ]);
    obs.groups.add('Cams');
    obs.program = 'Desk';
    await obs.start();
    const bridge = startBridge(
      host,
      show,
      [`obs://127.0.0.1:${obs.port}`, '--map', 'Cam 1=cam-wide'],
      children,
    );
    await bridge.waitFor((e) => e.event === 'connected', 'connected to OBS');
    expect(await nth(bridge, 'tally', 1)).toMatchObject({ program: ['cam-wide'] });
    expect(obs.requests).toContain('GetGroupSceneItemList');
    // Hidden inside the group: OBS names the group as the item's scene.
    obs.setEnabled('Cams', 'Cam 1', false);
    expect(await nth(bridge, 'tally', 2)).toMatchObject({ program: [] });
    await show.producer.settle();
    expect(tallies(show)).toEqual(['cam-wide|', '|']);
    expect(bridge.child.exitCode).toBeNull();
  });

  it('says when OBS refuses the password, and keeps trying', async () => {
    const show = await openShow(host);
    shows.push(show);
    const obs = new FakeObs('right');
    fakes.push(obs);
    await obs.start();
    const bridge = startBridge(host, show, [`obs://127.0.0.1:${obs.port}`, ...MAP], children, {
      PUNCH_OBS_PASSWORD: 'wrong',
    });
    const lost = await bridge.waitFor((e) => e.event === 'lost', 'the refusal');
    expect(lost.reason).toMatch(/refused the password/);
    expect(bridge.events.some((e) => e.event === 'tally')).toBe(false);
    await nth(bridge, 'lost', 2);
    expect(bridge.child.exitCode).toBeNull();
  });
});
