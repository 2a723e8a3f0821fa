/**
 * `obs://HOST[:4455]`: OBS Studio through obs-websocket v5 (built into OBS 28 and later;
 * https://github.com/obsproject/obs-websocket/blob/master/docs/generated/protocol.md). JSON
 * over a WebSocket with the `obswebsocket.json` subprotocol: the server says Hello (op 0, with
 * an authentication challenge when a password is set), the client Identifies (op 1), the server
 * answers Identified (op 2); then Events (op 5) and Request/RequestResponse (op 6/7). Keys are
 * scene names, and the names of sources visible in them (obs-scenes.ts): what the program scene
 * shows is on program, what the preview scene shows (studio mode) on preview.
 */
import { createHash } from 'node:crypto';
import WebSocket from 'ws';
import { z } from 'zod';
import { ObsScenes, readSceneItems } from './obs-scenes.js';
import { Retry, hostPort, type SourceEvent, type SourceUrl, type TallySource } from './source.js';

/**
 * obs-websocket's EventSubscription bits: Scenes (program/preview), SceneItems (a source shown
 * or hidden) and Ui (studio mode).
 */
const SUBSCRIBE = (1 << 2) | (1 << 7) | (1 << 10);
/** Scene-item events after which a scene's visible sources are asked for again. */
const ITEM_EVENTS = new Set([
  'SceneItemEnableStateChanged',
  'SceneItemCreated',
  'SceneItemRemoved',
]);
/**
 * A frame larger than this is not one the bridge asked for. GetSceneItemList lists every item
 * with its transform (about 700 bytes each): a scene of a few hundred items is well over
 * 256 KiB, and refusing it would close the connection on every try.
 */
const MAX_FRAME = 8 * 1024 * 1024;
const CONNECT_TIMEOUT_MS = 5000;
/** obs-websocket's WebSocketCloseCode AuthenticationFailed (OBS's code, not Punch's). */
const OBS_AUTHENTICATION_FAILED = 4009;
/**
 * How often the connection is pinged; a ping unanswered by the next one loses it, and so does a
 * request unanswered for as long: an OBS that answers pings but not requests (wedged on a huge
 * scene collection, or a proxy that drops them) would otherwise keep the last tally on air.
 */
const PING_MS = 5000;
/** How long a state waits for the item lists of the scenes it shows. */
const LIST_WAIT_MS = 1000;

const Message = z.discriminatedUnion('op', [
  z.object({
    op: z.literal(0),
    d: z.object({
      rpcVersion: z.number(),
      authentication: z.object({ challenge: z.string(), salt: z.string() }).optional(),
    }),
  }),
  z.object({ op: z.literal(2), d: z.object({ negotiatedRpcVersion: z.number() }) }),
  z.object({
    op: z.literal(5),
    d: z.object({ eventType: z.string(), eventData: z.record(z.string(), z.unknown()).optional() }),
  }),
  z.object({
    op: z.literal(7),
    d: z.object({
      requestType: z.string(),
      requestId: z.string().optional(),
      requestStatus: z.object({ result: z.boolean(), code: z.number() }),
      responseData: z.record(z.string(), z.unknown()).optional(),
    }),
  }),
]);

/**
 * obs-websocket's authentication string: base64(sha256(base64(sha256(password + salt)) + challenge)).
 *
 * @example
 * obsAuth('supersecretpassword', 'PZVbYpvAnZut2SS6JNJytDm9', 'ztTBnnuqrqaKDzRM3xcVdbYm');
 */
export function obsAuth(password: string, salt: string, challenge: string): string {
  const secret = createHash('sha256')
    .update(password + salt)
    .digest('base64');
  return createHash('sha256')
    .update(secret + challenge)
    .digest('base64');
}

const sceneName = (data: Record<string, unknown> | undefined, key: string): string | undefined => {
  const v = data?.[key];
  return typeof v === 'string' ? v : undefined;
};

export class ObsSource implements TallySource {
  readonly label: string;
  readonly #url: SourceUrl;
  readonly #password: string | undefined;
  readonly #emit: (e: SourceEvent) => void;
  readonly #retry = new Retry();
  #ws: WebSocket | undefined;
  #stopped = false;
  readonly #scenes = new ObsScenes();
  /** Item lists asked for and not answered yet: request id → scene. */
  readonly #asked = new Map<string, string>();
  /** The state last emitted, as text: OBS repeats itself, the bridge does not. */
  #last = '';
  #studio = false;
  /** The current connection got Identified (op 2). */
  #identified = false;
  #requests = 0;
  /** Requests of the current connection not answered yet: id → type and when it was sent. */
  readonly #outstanding = new Map<string, { type: string; at: number }>();
  #deferred: NodeJS.Timeout | undefined;

  constructor(url: SourceUrl, password: string | undefined, emit: (e: SourceEvent) => void) {
    this.#url = url;
    this.#password = password === '' ? undefined : password;
    this.#emit = emit;
    this.label = `OBS at ${hostPort(url.host, url.port)}`;
  }

  start(): void {
    if (this.#stopped) return;
    const host = this.#url.host.includes(':') ? `[${this.#url.host}]` : this.#url.host;
    const ws = new WebSocket(`ws://${host}:${this.#url.port}`, ['obswebsocket.json'], {
      handshakeTimeout: CONNECT_TIMEOUT_MS,
      maxPayload: MAX_FRAME,
    });
    this.#ws = ws;
    this.#identified = false;
    this.#outstanding.clear();
    let lost = false;
    let answered = true;
    let liveness: NodeJS.Timeout | undefined;
    let identifyBy: NodeJS.Timeout | undefined;
    const lose = (reason: string): void => {
      if (lost) return;
      lost = true;
      clearInterval(liveness);
      clearTimeout(identifyBy);
      ws.removeAllListeners();
      // A socket closed while connecting emits an error that is already this loss.
      ws.on('error', () => undefined);
      ws.terminate();
      this.#lost(reason);
    };
    ws.on('open', () => {
      // An open socket is not yet OBS: one that never says Hello, or never answers Identify,
      // would otherwise hold the bridge forever without a word.
      identifyBy = setTimeout(() => {
        if (!this.#identified) lose(`no obs-websocket v5 handshake in ${CONNECT_TIMEOUT_MS} ms`);
      }, CONNECT_TIMEOUT_MS);
      identifyBy.unref();
      // A dead OBS machine (power, cable) sends no FIN: a ping unanswered for a whole period
      // finds it, where a silent socket would keep the last tally on air.
      liveness = setInterval(() => {
        if (!answered) {
          lose(`OBS stopped answering (no pong in ${PING_MS} ms)`);
          return;
        }
        const late = this.#late();
        if (late !== undefined) {
          lose(`OBS did not answer ${late} in ${PING_MS} ms`);
          return;
        }
        answered = false;
        ws.ping();
      }, PING_MS);
      liveness.unref();
    });
    ws.on('pong', () => {
      answered = true;
    });
    ws.on('message', (data: Buffer, binary: boolean) => {
      answered = true;
      const at = performance.now();
      if (binary) {
        this.#emit({
          type: 'bad-frame',
          reason: 'a binary frame (the bridge speaks obswebsocket.json)',
        });
        return;
      }
      let json: unknown;
      try {
        json = JSON.parse(data.toString('utf8'));
      } catch {
        // Not JSON: counted as a bad frame below.
        json = undefined;
      }
      const m = Message.safeParse(json);
      if (!m.success) {
        // Other op codes (batch responses nobody asked for) parse as failures too: all ignored.
        this.#emit({
          type: 'bad-frame',
          reason: 'not an obs-websocket v5 message the bridge reads',
        });
        return;
      }
      this.#message(ws, m.data, at, lose);
    });
    ws.on('error', (err: NodeJS.ErrnoException) => {
      lose(
        err.code === 'ECONNREFUSED'
          ? 'connection refused: is OBS running, with Tools → WebSocket Server Settings → Enable on?'
          : (err.code ?? err.message),
      );
    });
    ws.on('close', (code, reason) => {
      lose(
        code === OBS_AUTHENTICATION_FAILED
          ? 'OBS refused the password (PUNCH_OBS_PASSWORD)'
          : `OBS closed the connection (${code}${reason.length > 0 ? `: ${reason.toString()}` : ''})`,
      );
    });
  }

  stop(): void {
    this.#stopped = true;
    this.#retry.cancel();
    clearTimeout(this.#deferred);
    this.#ws?.terminate();
    this.#ws = undefined;
  }

  #lost(reason: string): void {
    this.#ws = undefined;
    if (this.#stopped) return;
    const retryInMs = this.#retry.schedule(() => {
      this.start();
    });
    this.#emit({ type: 'lost', reason, retryInMs });
  }

  #request(ws: WebSocket, requestType: string, requestData?: Record<string, unknown>): string {
    const requestId = `punch-${++this.#requests}`;
    const d =
      requestData === undefined
        ? { requestType, requestId }
        : { requestType, requestId, requestData };
    ws.send(JSON.stringify({ op: 6, d }));
    this.#outstanding.set(requestId, { type: requestType, at: performance.now() });
    return requestId;
  }

  /** The type of a request unanswered for a whole ping period, if any. */
  #late(): string | undefined {
    const due = performance.now() - PING_MS;
    for (const { type, at } of this.#outstanding.values()) if (at <= due) return type;
    return undefined;
  }

  #message(
    ws: WebSocket,
    m: z.infer<typeof Message>,
    at: number,
    lose: (reason: string) => void,
  ): void {
    switch (m.op) {
      case 0: {
        const auth = m.d.authentication;
        if (auth !== undefined && this.#password === undefined) {
          lose('OBS asks for a password: set PUNCH_OBS_PASSWORD');
          return;
        }
        const identify: Record<string, unknown> = { rpcVersion: 1, eventSubscriptions: SUBSCRIBE };
        if (auth !== undefined && this.#password !== undefined)
          identify.authentication = obsAuth(this.#password, auth.salt, auth.challenge);
        ws.send(JSON.stringify({ op: 1, d: identify }));
        return;
      }
      case 2:
        this.#identified = true;
        this.#retry.reset();
        // A new connection: the scene collection may have changed meanwhile.
        this.#scenes.reset();
        this.#asked.clear();
        this.#emit({
          type: 'connected',
          detail: 'connected, following the program and preview scenes',
        });
        // What is on air now: the program scene, and whether studio mode gives a preview.
        this.#request(ws, 'GetStudioModeEnabled');
        this.#request(ws, 'GetCurrentProgramScene');
        return;
      case 5:
        this.#event(ws, m.d.eventType, m.d.eventData, at);
        return;
      case 7:
        if (m.d.requestId !== undefined) this.#outstanding.delete(m.d.requestId);
        this.#answer(ws, m.d, at);
    }
  }

  #answer(ws: WebSocket, d: Extract<z.infer<typeof Message>, { op: 7 }>['d'], at: number): void {
    const data = d.responseData;
    const ok = d.requestStatus.result;
    switch (d.requestType) {
      case 'GetCurrentProgramScene':
        if (ok) this.#scenes.program = sceneName(data, 'currentProgramSceneName');
        break;
      case 'GetCurrentPreviewScene':
        // Failure is 506 StudioModeNotActive: no preview scene, which is a state, not a fault.
        this.#scenes.preview = ok ? sceneName(data, 'currentPreviewSceneName') : undefined;
        break;
      case 'GetStudioModeEnabled':
        this.#studio = ok && data?.studioModeEnabled === true;
        if (this.#studio) {
          this.#request(ws, 'GetCurrentPreviewScene');
          return;
        }
        // Studio mode off (perhaps turned off while the bridge was away): no preview, whatever
        // the last connection knew. Published with the answer to GetCurrentProgramScene, asked
        // right after: publishing now would show a program scene not read yet.
        this.#scenes.preview = undefined;
        return;
      case 'GetSceneItemList':
      case 'GetGroupSceneItemList': {
        const scene = d.requestId === undefined ? undefined : this.#asked.get(d.requestId);
        if (scene === undefined) return;
        if (d.requestId !== undefined) this.#asked.delete(d.requestId);
        // A scene that is gone (or a list that cannot be read) shows nothing more than its name.
        this.#scenes.learn(
          scene,
          (ok ? readSceneItems(data?.sceneItems) : undefined) ?? {
            sources: [],
            scenes: [],
            groups: [],
          },
        );
        break;
      }
      default:
        return;
    }
    this.#update(ws, at);
  }

  #event(ws: WebSocket, type: string, data: Record<string, unknown> | undefined, at: number): void {
    const scene = type.startsWith('Current') ? sceneName(data, 'sceneName') : '';
    if (scene === undefined) {
      // A scene change that names no scene is not one: taken as "no scene", it would turn
      // every camera off.
      this.#emit({ type: 'bad-frame', reason: `${type} without a scene name` });
      return;
    }
    if (type === 'CurrentProgramSceneChanged') this.#scenes.program = scene;
    else if (type === 'CurrentPreviewSceneChanged' && this.#studio) this.#scenes.preview = scene;
    else if (type === 'StudioModeStateChanged') {
      this.#studio = data?.studioModeEnabled === true;
      if (this.#studio) {
        this.#request(ws, 'GetCurrentPreviewScene');
        return;
      }
      this.#scenes.preview = undefined;
    } else if (ITEM_EVENTS.has(type)) {
      const scene = sceneName(data, 'sceneName');
      if (scene === undefined) return;
      // An answer already on its way describes the scene before this change: not waited for.
      for (const [id, asked] of this.#asked) if (asked === scene) this.#asked.delete(id);
      if (!this.#scenes.forget(scene)) return;
    } else return;
    this.#update(ws, at);
  }

  /**
   * Asks for the item lists of scenes on air not known yet and, once they are known, emits the
   * state when it differs from the last one (a repeated scene event, or an item change off air,
   * changes nothing). Waiting for the lists keeps a camera that is in both the old and the new
   * scene from blinking off at the cut; an answer that never comes is waited for 1 s at most.
   */
  #update(ws: WebSocket, at: number): void {
    const pending = new Set(this.#asked.values());
    const missing = this.#scenes.missing();
    for (const scene of missing)
      if (!pending.has(scene)) {
        // OBS refuses GetSceneItemList for a group (602 InvalidResourceType): it has its own.
        const type = this.#scenes.isGroup(scene) ? 'GetGroupSceneItemList' : 'GetSceneItemList';
        this.#asked.set(this.#request(ws, type, { sceneName: scene }), scene);
      }
    if (missing.length > 0) {
      this.#deferred ??= setTimeout(() => {
        this.#deferred = undefined;
        this.#publish(at);
      }, LIST_WAIT_MS);
      return;
    }
    this.#publish(at);
  }

  #publish(at: number): void {
    clearTimeout(this.#deferred);
    this.#deferred = undefined;
    if (this.#stopped) return;
    const state = this.#scenes.state();
    const text = JSON.stringify([...state].sort());
    if (text === this.#last) return;
    this.#last = text;
    this.#emit({ type: 'state', state, at });
  }
}
