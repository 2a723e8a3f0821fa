/**
 * A fake OBS Studio obs-websocket v5 server (no OBS here), following the protocol reference
 * (obsproject/obs-websocket docs/generated/protocol.md) for what the tally bridge uses: the
 * `obswebsocket.json` subprotocol; Hello (op 0) with an authentication challenge and salt when
 * a password is set; Identify (op 1) checked (a wrong authentication string closes with 4009
 * AuthenticationFailed); Identified (op 2); Events (op 5: CurrentProgramSceneChanged,
 * CurrentPreviewSceneChanged, StudioModeStateChanged, each sent only to clients subscribed to
 * its category); Requests (op 6) answered (op 7) for GetStudioModeEnabled,
 * GetCurrentProgramScene, GetCurrentPreviewScene (506 StudioModeNotActive when off),
 * GetSceneItemList and GetGroupSceneItemList (600 ResourceNotFound for a scene that does not
 * exist, 602 InvalidResourceType for a group asked as a scene or the other way round); and
 * SceneItemEnableStateChanged (SceneItems category) when a source is shown or hidden.
 *
 * Every message it sends is typed with obs-websocket-js's protocol types (generated from
 * obs-websocket's own protocol description), so a field the real OBS would not send, or one it
 * would name differently, fails `tsc`; fake-obs.test.ts connects obs-websocket-js's client to it.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import {
  EventSubscription,
  WebSocketOpCode,
  type IncomingMessage,
  type OBSEventTypes,
  type OBSResponseTypes,
  type OutgoingMessage,
} from 'obs-websocket-js/json';
import { WebSocketServer, type WebSocket } from 'ws';

/** RequestStatus codes. */
const SUCCESS = 100;
const STUDIO_MODE_NOT_ACTIVE = 506;
const RESOURCE_NOT_FOUND = 600;
const INVALID_RESOURCE_TYPE = 602;

/** A scene item as GetSceneItemList lists it (the fields the protocol documents, abridged). */
export interface FakeItem {
  sourceName: string;
  sceneItemEnabled: boolean;
  /** `OBS_SOURCE_TYPE_INPUT` or `OBS_SOURCE_TYPE_SCENE` (a nested scene). */
  sourceType: 'OBS_SOURCE_TYPE_INPUT' | 'OBS_SOURCE_TYPE_SCENE';
}

/**
 * One entry of GetSceneItemList's `sceneItems` (obs-websocket-js types it only as a JSON object):
 * the fields obs-websocket's GetSceneItemList sets, less the transform and blend mode.
 */
export interface SceneItemEntry {
  sceneItemId: number;
  sceneItemIndex: number;
  sceneItemEnabled: boolean;
  sceneItemLocked: boolean;
  sourceName: string;
  sourceUuid: string;
  sourceType: FakeItem['sourceType'];
  inputKind: string | null;
  isGroup: boolean | null;
}

/** A success answer's data, as obs-websocket-js's types say OBS sends it. */
type Answer = {
  [T in keyof OBSResponseTypes]: { requestType: T; responseData: OBSResponseTypes[T] };
}[keyof OBSResponseTypes];

/** An event as obs-websocket-js's types say OBS sends it. */
type Event = {
  [T in keyof OBSEventTypes]: { eventType: T; eventData: OBSEventTypes[T] };
}[keyof OBSEventTypes];

/** Sends one server message, typed as obs-websocket-js receives it. */
function send(ws: WebSocket, m: IncomingMessage): void {
  ws.send(JSON.stringify(m));
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
  /**
   * Which of `scenes` are groups: an item of theirs is `OBS_SOURCE_TYPE_SCENE` with `isGroup`
   * true, and their items are listed by GetGroupSceneItemList only.
   */
  readonly groups = new Set<string>();
  port = 0;
  /** Identify messages received, as sent. */
  readonly identifies: Record<string, unknown>[] = [];
  /** Requests received, by type, in order. */
  readonly requests: string[] = [];
  /** Request types received and never answered (a wedged OBS), for the tests. */
  readonly unanswered = new Set<string>();

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
      send(ws, {
        op: WebSocketOpCode.Hello,
        d: {
          obsWebSocketVersion: '5.5.4',
          rpcVersion: 1,
          ...(this.#password === undefined ? {} : { authentication: { challenge, salt } }),
        },
      });
      ws.on('message', (data: Buffer) => {
        // What a client sends, as obs-websocket-js's types say a client sends it (not checked:
        // this is a test's fake, fed by the bridge and by obs-websocket-js).
        const m = JSON.parse(data.toString('utf8')) as OutgoingMessage;
        if (m.op === WebSocketOpCode.Identify) this.#identify(client, m.d, challenge, salt);
        else if (m.op === WebSocketOpCode.Request && client.identified) this.#request(client, m.d);
        // Anything else before Identify: obs-websocket closes with 4007 NotIdentified.
        else if (!client.identified) ws.close(4007, 'NotIdentified');
        // Reidentify and RequestBatch, which OBS answers, are not faked: nobody here sends them.
        else ws.close(4006, 'UnknownOpCode (not faked)');
      });
    });
  }

  /** A cut to `scene`: CurrentProgramSceneChanged (OBS repeats it if the scene is the same). */
  cut(scene: string): void {
    this.program = scene;
    this.#event(EventSubscription.Scenes, {
      eventType: 'CurrentProgramSceneChanged',
      eventData: { sceneName: scene, sceneUuid: uuidOf(scene) },
    });
  }

  /** A new preview scene (studio mode). */
  setPreview(scene: string): void {
    this.preview = scene;
    this.#event(EventSubscription.Scenes, {
      eventType: 'CurrentPreviewSceneChanged',
      eventData: { sceneName: scene, sceneUuid: uuidOf(scene) },
    });
  }

  /** Shows or hides a scene's item, as the eye icon in OBS does. */
  setEnabled(scene: string, sourceName: string, enabled: boolean): void {
    const items = this.scenes.get(scene) ?? [];
    const i = items.findIndex((it) => it.sourceName === sourceName);
    const item = items[i];
    if (item === undefined) throw new Error(`no ${sourceName} in ${scene}`);
    item.sceneItemEnabled = enabled;
    this.#event(EventSubscription.SceneItems, {
      eventType: 'SceneItemEnableStateChanged',
      eventData: {
        sceneName: scene,
        sceneUuid: uuidOf(scene),
        sceneItemId: i + 1,
        sceneItemEnabled: enabled,
      },
    });
  }

  setStudio(on: boolean): void {
    this.studio = on;
    this.#event(EventSubscription.Ui, {
      eventType: 'StudioModeStateChanged',
      eventData: { studioModeEnabled: on },
    });
  }

  /** Cuts every client off, as a network fault would; the server stays up for reconnections. */
  dropClients(): void {
    for (const c of this.#clients) c.ws.terminate();
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

  #identify(
    client: Client,
    d: Extract<OutgoingMessage, { op: WebSocketOpCode.Identify }>['d'],
    challenge: string,
    salt: string,
  ): void {
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
    // Without eventSubscriptions obs-websocket subscribes the client to All (not the
    // high-volume events).
    client.subscriptions =
      typeof d.eventSubscriptions === 'number' ? d.eventSubscriptions : EventSubscription.All;
    send(client.ws, { op: WebSocketOpCode.Identified, d: { negotiatedRpcVersion: 1 } });
  }

  #request(
    client: Client,
    d: Extract<OutgoingMessage, { op: WebSocketOpCode.Request }>['d'],
  ): void {
    const { requestType, requestId } = d;
    this.requests.push(requestType);
    if (this.unanswered.has(requestType)) return;
    const ok = (answer: Answer): void => {
      send(client.ws, {
        op: WebSocketOpCode.RequestResponse,
        d: { ...answer, requestId, requestStatus: { result: true, code: SUCCESS } },
      });
    };
    // A failure carries a comment and no responseData (which obs-websocket-js's types, written
    // for successes, always have).
    const fail = (code: number): void => {
      client.ws.send(
        JSON.stringify({
          op: WebSocketOpCode.RequestResponse,
          d: { requestType, requestId, requestStatus: { result: false, code, comment: 'failed' } },
        }),
      );
    };
    if (requestType === 'GetStudioModeEnabled')
      ok({ requestType, responseData: { studioModeEnabled: this.studio } });
    else if (requestType === 'GetCurrentProgramScene')
      ok({
        requestType,
        responseData: {
          sceneName: this.program,
          sceneUuid: uuidOf(this.program),
          currentProgramSceneName: this.program,
          currentProgramSceneUuid: uuidOf(this.program),
        },
      });
    else if (requestType === 'GetCurrentPreviewScene')
      if (this.studio)
        ok({
          requestType,
          responseData: {
            sceneName: this.preview,
            sceneUuid: uuidOf(this.preview),
            currentPreviewSceneName: this.preview,
            currentPreviewSceneUuid: uuidOf(this.preview),
          },
        });
      else fail(STUDIO_MODE_NOT_ACTIVE);
    else if (requestType === 'GetSceneItemList' || requestType === 'GetGroupSceneItemList') {
      const { sceneName } = d.requestData;
      const items = sceneName === undefined ? undefined : this.scenes.get(sceneName);
      if (items === undefined || sceneName === undefined) fail(RESOURCE_NOT_FOUND);
      // Each asks for its own kind only ("The specified source is not a scene. (Is group)").
      else if (this.groups.has(sceneName) !== (requestType === 'GetGroupSceneItemList'))
        fail(INVALID_RESOURCE_TYPE);
      else {
        const sceneItems: SceneItemEntry[] = items.map((it, i) => ({
          sceneItemId: i + 1,
          sceneItemIndex: i,
          sceneItemEnabled: it.sceneItemEnabled,
          sceneItemLocked: false,
          sourceName: it.sourceName,
          sourceUuid: uuidOf(it.sourceName),
          sourceType: it.sourceType,
          inputKind: it.sourceType === 'OBS_SOURCE_TYPE_INPUT' ? 'v4l2_input' : null,
          isGroup:
            it.sourceType === 'OBS_SOURCE_TYPE_SCENE' ? this.groups.has(it.sourceName) : null,
        }));
        const responseData = { sceneItems: sceneItems.map((it) => ({ ...it })) };
        ok({ requestType, responseData });
      }
    } else fail(204); // UnknownRequestType
  }

  #event(intent: EventSubscription, event: Event): void {
    for (const c of this.#clients)
      if (c.identified && (c.subscriptions & intent) !== 0)
        send(c.ws, {
          op: WebSocketOpCode.Event,
          d: { ...event, eventIntent: intent },
        });
  }
}

function uuidOf(name: string): string {
  const h = createHash('sha256').update(name).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
