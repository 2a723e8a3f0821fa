/**
 * The fake OBS server (fake-obs.ts) against a third-party client, obs-websocket-js: its
 * handshake (with and without a password), the requests and events the tally bridge uses
 * (obs.ts), and a wrong password refused with 4009 AuthenticationFailed as OBS does. So the
 * fake that tally-bridge-obs.test.ts runs the bridge against is checked by something other
 * than the bridge.
 */
import OBSWebSocket, {
  EventSubscription,
  OBSWebSocketError,
  type OBSEventTypes,
} from 'obs-websocket-js/json';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeObs } from './fake-obs.js';

const clients: OBSWebSocket[] = [];
const fakes: FakeObs[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.disconnect();
  for (const f of fakes.splice(0)) await f.stop();
});

async function fake(password?: string): Promise<FakeObs> {
  const obs = new FakeObs(password);
  fakes.push(obs);
  await obs.start();
  return obs;
}

function client(): OBSWebSocket {
  const c = new OBSWebSocket();
  clients.push(c);
  return c;
}

/** The next `type` event the client receives (listened for before the fake sends it). */
function next<T extends keyof OBSEventTypes>(c: OBSWebSocket, type: T): Promise<OBSEventTypes[T]> {
  return new Promise((resolve) => {
    // eventemitter3's typing of a generic event name does not narrow: the data is T's.
    c.once(type, ((data: OBSEventTypes[T]) => {
      resolve(data);
    }) as never);
  });
}

/** A request's refusal code, as obs-websocket-js reports it. */
async function refusal(p: Promise<unknown>): Promise<number> {
  const err: unknown = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OBSWebSocketError);
  return (err as OBSWebSocketError).code;
}

describe('the fake OBS server, to obs-websocket-js', () => {
  it('answers the requests the bridge makes and sends the events it follows', async () => {
    const obs = await fake();
    const input = (sourceName: string, sceneItemEnabled = true) =>
      ({ sourceName, sceneItemEnabled, sourceType: 'OBS_SOURCE_TYPE_INPUT' }) as const;
    obs.scenes.set('Cam Wide', [
      input('Cam 1'),
      { sourceName: 'Inner', sceneItemEnabled: true, sourceType: 'OBS_SOURCE_TYPE_SCENE' },
    ]);
    const c = client();
    // No eventSubscriptions: obs-websocket's default, All (Ui included).
    const hello = await c.connect(`ws://127.0.0.1:${obs.port}`);
    expect(hello).toMatchObject({ negotiatedRpcVersion: 1, obsWebSocketVersion: '5.5.4' });

    expect(await c.call('GetStudioModeEnabled')).toEqual({ studioModeEnabled: false });
    expect(await c.call('GetCurrentProgramScene')).toMatchObject({
      sceneName: 'Cam Wide',
      currentProgramSceneName: 'Cam Wide',
    });
    expect(await refusal(c.call('GetCurrentPreviewScene'))).toBe(506); // StudioModeNotActive
    const { sceneItems } = await c.call('GetSceneItemList', { sceneName: 'Cam Wide' });
    expect(sceneItems).toMatchObject([
      { sceneItemId: 1, sourceName: 'Cam 1', sceneItemEnabled: true, isGroup: null },
      { sceneItemId: 2, sourceName: 'Inner', sourceType: 'OBS_SOURCE_TYPE_SCENE', isGroup: false },
    ]);
    expect(await refusal(c.call('GetSceneItemList', { sceneName: 'Nowhere' }))).toBe(600);
    // A group's items come from GetGroupSceneItemList; each request refuses the other kind.
    obs.scenes.set('Desk', [
      { sourceName: 'Cams', sceneItemEnabled: true, sourceType: 'OBS_SOURCE_TYPE_SCENE' },
    ]);
    obs.scenes.set('Cams', [input('Cam 2')]);
    obs.groups.add('Cams');
    expect((await c.call('GetSceneItemList', { sceneName: 'Desk' })).sceneItems).toMatchObject([
      { sourceName: 'Cams', sourceType: 'OBS_SOURCE_TYPE_SCENE', isGroup: true },
    ]);
    expect((await c.call('GetGroupSceneItemList', { sceneName: 'Cams' })).sceneItems).toMatchObject(
      [{ sourceName: 'Cam 2', inputKind: 'v4l2_input' }],
    );
    expect(await refusal(c.call('GetSceneItemList', { sceneName: 'Cams' }))).toBe(602);
    expect(await refusal(c.call('GetGroupSceneItemList', { sceneName: 'Desk' }))).toBe(602);

    const studio = next(c, 'StudioModeStateChanged');
    obs.setStudio(true);
    expect(await studio).toEqual({ studioModeEnabled: true });
    expect(await c.call('GetCurrentPreviewScene')).toMatchObject({
      sceneName: 'Cam Close',
      currentPreviewSceneName: 'Cam Close',
    });
    const preview = next(c, 'CurrentPreviewSceneChanged');
    obs.setPreview('Cam Wide');
    expect(await preview).toMatchObject({ sceneName: 'Cam Wide' });
    const program = next(c, 'CurrentProgramSceneChanged');
    obs.cut('Cam Close');
    expect(await program).toMatchObject({ sceneName: 'Cam Close' });
    const item = next(c, 'SceneItemEnableStateChanged');
    obs.setEnabled('Cam Wide', 'Cam 1', false);
    expect(await item).toMatchObject({
      sceneName: 'Cam Wide',
      sceneItemId: 1,
      sceneItemEnabled: false,
    });
    expect(obs.requests).toEqual([
      'GetStudioModeEnabled',
      'GetCurrentProgramScene',
      'GetCurrentPreviewScene',
      'GetSceneItemList',
      'GetSceneItemList',
      'GetSceneItemList',
      'GetGroupSceneItemList',
      'GetSceneItemList',
      'GetGroupSceneItemList',
      'GetCurrentPreviewScene',
    ]);
  });

  it('sends only the events a client subscribed to (the bridge: Scenes, SceneItems, Ui)', async () => {
    const obs = await fake();
    obs.scenes.set('Cam Wide', [
      { sourceName: 'Cam 1', sceneItemEnabled: true, sourceType: 'OBS_SOURCE_TYPE_INPUT' },
    ]);
    const scenesOnly = client();
    await scenesOnly.connect(`ws://127.0.0.1:${obs.port}`, undefined, {
      eventSubscriptions: EventSubscription.Scenes,
    });
    const seen: string[] = [];
    scenesOnly.on('StudioModeStateChanged', () => seen.push('studio'));
    scenesOnly.on('SceneItemEnableStateChanged', () => seen.push('item'));
    const program = next(scenesOnly, 'CurrentProgramSceneChanged');
    obs.setStudio(true);
    obs.setEnabled('Cam Wide', 'Cam 1', false);
    obs.cut('Cam Close');
    // Sent in order on one socket: the cut arriving means the other two were not sent.
    expect(await program).toMatchObject({ sceneName: 'Cam Close' });
    expect(seen).toEqual([]);
  });

  it('takes the v5 authentication string, and refuses a wrong or missing password with 4009', async () => {
    const obs = await fake('show-password');
    const url = `ws://127.0.0.1:${obs.port}`;
    const c = client();
    await c.connect(url, 'show-password');
    expect(obs.identifies[0]).toHaveProperty('authentication');
    expect(await c.call('GetCurrentProgramScene')).toMatchObject({ sceneName: 'Cam Wide' });

    expect(await refusal(client().connect(url, 'wrong'))).toBe(4009);
    expect(await refusal(client().connect(url))).toBe(4009);
    // The refused clients never got in; the accepted one still works.
    expect(await c.call('GetStudioModeEnabled')).toEqual({ studioModeEnabled: false });
  });
});
