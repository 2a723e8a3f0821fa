/**
 * A fake OBS Studio obs-websocket v5 server (no OBS here), following the protocol reference
 * (obsproject/obs-websocket docs/generated/protocol.md) for what the tally bridge uses: the
 * `obswebsocket.json` subprotocol; Hello (op 0) with an authentication challenge and salt when
 * a password is set; Identify (op 1) checked (a wrong authentication string closes with 4009
 * AuthenticationFailed); Identified (op 2); Events (op 5: CurrentProgramSceneChanged,
 * CurrentPreviewSceneChanged, StudioModeStateChanged, each sent only to clients subscribed to
 * its category); Requests (op 6) answered (op 7) for GetStudioModeEnabled,
 * GetCurrentProgramScene, GetCurrentPreviewScene (506 StudioModeNotActive when off),
 * GetSceneItemList (600 ResourceNotFound for a scene that does not exist); and
 * SceneItemEnableStateChanged (SceneItems category) when a source is shown or hidden.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/** EventSubscription bits (protocol.md): Scenes, SceneItems and Ui. */
const SCENES = 1 << 2;
const SCENE_ITEMS = 1 << 7;
const UI = 1 << 10;
/** RequestStatus codes. */
const SUCCESS = 100;
const STUDIO_MODE_NOT_ACTIVE = 506;
const RESOURCE_NOT_FOUND = 600;

/** A scene item as GetSceneItemList lists it (the fields the protocol documents, abridged). */
export interface FakeItem {
  sourceName: string;
  sceneItemEnabled: boolean;
  /** `OBS_SOURCE_TYPE_INPUT` or `OBS_SOURCE_TYPE_SCENE` (a nested scene). */
  sourceType: 'OBS_SOURCE_TYPE_INPUT' | 'OBS_SOURCE_TYPE_SCENE';
}

interface Client {
  readonly ws: WebSocket;
  identified: boolean;
  subscriptions: number;
}

export class FakeObs {
  readonly #password: string | undefined;
  #server: WebSocketServer | undefined;
  readonly #clients = new Set<Client>();
  program = 'Cam Wide';
  preview = 'Cam Close';
  studio = false;
  /** Each scene's items, in order (scene item ids are their place + 1). */
  readonly scenes = new Map<string, FakeItem[]>();
  port = 0;
  /** Identify messages received, as sent. */
  readonly identifies: Record<string, unknown>[] = [];

  constructor(password?: string) {
    this.#password = password;
  }

  async start(): Promise<void> {
    const server = new WebSocketServer({
      host: '127.0.0.1',
      port: 0,
      handleProtocols: (protocols) =>
        protocols.has('obswebsocket.json') ? 'obswebsocket.json' : false,
    });
    this.#server = server;
    await new Promise<void>((resolve) => server.once('listening', resolve));
    this.port = (server.address() as AddressInfo).port;
    server.on('connection', (ws) => {
      const client: Client = { ws, identified: false, subscriptions: 0 };
      this.#clients.add(client);
      ws.on('close', () => this.#clients.delete(client));
      const challenge = randomBytes(24).toString('base64');
      const salt = randomBytes(24).toString('base64');
      const hello: Record<string, unknown> = { obsWebSocketVersion: '5.5.4', rpcVersion: 1 };
      if (this.#password !== undefined) hello.authentication = { challenge, salt };
      ws.send(JSON.stringify({ op: 0, d: hello }));
      ws.on('message', (data: Buffer) => {
        const m = JSON.parse(data.toString('utf8')) as { op: number; d: Record<string, unknown> };
        if (m.op === 1) this.#identify(client, m.d, challenge, salt);
        else if (m.op === 6 && client.identified) this.#request(client, m.d);
        // Anything else before Identify: obs-websocket closes with 4007 NotIdentified.
        else ws.close(4007, 'NotIdentified');
      });
    });
  }

  /** A cut to `scene`: CurrentProgramSceneChanged (OBS repeats it if the scene is the same). */
  cut(scene: string): void {
    this.program = scene;
    this.#event('CurrentProgramSceneChanged', SCENES, {
      sceneName: scene,
      sceneUuid: uuidOf(scene),
    });
  }

  /** A new preview scene (studio mode). */
  setPreview(scene: string): void {
    this.preview = scene;
    this.#event('CurrentPreviewSceneChanged', SCENES, {
      sceneName: scene,
      sceneUuid: uuidOf(scene),
    });
  }

  /** Shows or hides a scene's item, as the eye icon in OBS does. */
  setEnabled(scene: string, sourceName: string, enabled: boolean): void {
    const items = this.scenes.get(scene) ?? [];
    const i = items.findIndex((it) => it.sourceName === sourceName);
    const item = items[i];
    if (item === undefined) throw new Error(`no ${sourceName} in ${scene}`);
    item.sceneItemEnabled = enabled;
    this.#event('SceneItemEnableStateChanged', SCENE_ITEMS, {
      sceneName: scene,
      sceneUuid: uuidOf(scene),
      sceneItemId: i + 1,
      sceneItemEnabled: enabled,
    });
  }

  setStudio(on: boolean): void {
    this.studio = on;
    this.#event('StudioModeStateChanged', UI, { studioModeEnabled: on });
  }

  /** Raw text to every identified client (malformed frames, for the tests). */
  sendRaw(text: string): void {
    for (const c of this.#clients) if (c.identified) c.ws.send(text);
  }

  async stop(): Promise<void> {
    for (const c of this.#clients) c.ws.terminate();
    const server = this.#server;
    this.#server = undefined;
    if (server !== undefined)
      await new Promise<void>((r) => {
        server.close(() => {
          r();
        });
      });
  }

  #identify(client: Client, d: Record<string, unknown>, challenge: string, salt: string): void {
    this.identifies.push(d);
    if (this.#password !== undefined) {
      // The protocol's recipe, written out here on its own (not the bridge's function).
      const secret = createHash('sha256').update(`${this.#password}${salt}`).digest('base64');
      const expected = createHash('sha256').update(`${secret}${challenge}`).digest('base64');
      if (d.authentication !== expected) {
        client.ws.close(4009, 'Authentication failed.');
        return;
      }
    }
    client.identified = true;
    client.subscriptions = typeof d.eventSubscriptions === 'number' ? d.eventSubscriptions : 0x3ff;
    client.ws.send(JSON.stringify({ op: 2, d: { negotiatedRpcVersion: 1 } }));
  }

  #request(client: Client, d: Record<string, unknown>): void {
    const requestType = String(d.requestType);
    const reply = (code: number, responseData?: Record<string, unknown>): void => {
      client.ws.send(
        JSON.stringify({
          op: 7,
          d: {
            requestType,
            requestId: d.requestId,
            requestStatus:
              code === SUCCESS
                ? { result: true, code }
                : { result: false, code, comment: 'The request failed.' },
            ...(responseData === undefined ? {} : { responseData }),
          },
        }),
      );
    };
    if (requestType === 'GetStudioModeEnabled') reply(SUCCESS, { studioModeEnabled: this.studio });
    else if (requestType === 'GetCurrentProgramScene')
      reply(SUCCESS, {
        sceneName: this.program,
        sceneUuid: uuidOf(this.program),
        currentProgramSceneName: this.program,
        currentProgramSceneUuid: uuidOf(this.program),
      });
    else if (requestType === 'GetCurrentPreviewScene')
      if (this.studio)
        reply(SUCCESS, {
          sceneName: this.preview,
          sceneUuid: uuidOf(this.preview),
          currentPreviewSceneName: this.preview,
          currentPreviewSceneUuid: uuidOf(this.preview),
        });
      else reply(STUDIO_MODE_NOT_ACTIVE);
    else if (requestType === 'GetSceneItemList') {
      const data = (d.requestData ?? {}) as Record<string, unknown>;
      const items =
        typeof data.sceneName === 'string' ? this.scenes.get(data.sceneName) : undefined;
      if (items === undefined) reply(RESOURCE_NOT_FOUND);
      else
        reply(SUCCESS, {
          sceneItems: items.map((it, i) => ({
            sceneItemId: i + 1,
            sceneItemIndex: i,
            sceneItemEnabled: it.sceneItemEnabled,
            sceneItemLocked: false,
            sourceName: it.sourceName,
            sourceUuid: uuidOf(it.sourceName),
            sourceType: it.sourceType,
            inputKind: it.sourceType === 'OBS_SOURCE_TYPE_INPUT' ? 'v4l2_input' : null,
            isGroup: it.sourceType === 'OBS_SOURCE_TYPE_SCENE' ? false : null,
          })),
        });
    } else reply(204); // UnknownRequestType
  }

  #event(eventType: string, intent: number, eventData: Record<string, unknown>): void {
    for (const c of this.#clients)
      if (c.identified && (c.subscriptions & intent) !== 0)
        c.ws.send(JSON.stringify({ op: 5, d: { eventType, eventIntent: intent, eventData } }));
  }
}

function uuidOf(name: string): string {
  const h = createHash('sha256').update(name).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
