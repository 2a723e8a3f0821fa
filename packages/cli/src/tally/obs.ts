/**
 * `obs://HOST[:4455]`: OBS Studio through obs-websocket v5 (built into OBS 28 and later;
 * https://github.com/obsproject/obs-websocket/blob/master/docs/generated/protocol.md). JSON
 * over a WebSocket with the `obswebsocket.json` subprotocol: the server says Hello (op 0, with
 * an authentication challenge when a password is set), the client Identifies (op 1), the server
 * answers Identified (op 2); then Events (op 5) and Request/RequestResponse (op 6/7). Keys are
 * scene names: the program scene is on program, the preview scene (studio mode) on preview.
 */
import { createHash } from 'node:crypto';
import WebSocket from 'ws';
import { z } from 'zod';
import type { KeyState } from './mapping.js';
import { Retry, hostPort, type SourceEvent, type SourceUrl, type TallySource } from './source.js';

/** obs-websocket's EventSubscription bits: Scenes (program/preview) and Ui (studio mode). */
const SUBSCRIBE = (1 << 2) | (1 << 10);
/** A frame larger than this is not one the bridge asked for (scene names are short). */
const MAX_FRAME = 256 * 1024;
const CONNECT_TIMEOUT_MS = 5000;

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
  #program: string | undefined;
  #preview: string | undefined;
  #studio = false;
  #requests = 0;

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
    let lost = false;
    const lose = (reason: string): void => {
      if (lost) return;
      lost = true;
      ws.removeAllListeners();
      // A socket closed while connecting emits an error that is already this loss.
      ws.on('error', () => undefined);
      ws.terminate();
      this.#lost(reason);
    };
    ws.on('message', (data: Buffer, binary: boolean) => {
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
      lose(err.code ?? err.message);
    });
    ws.on('close', (code, reason) => {
      // 4009: AuthenticationFailed (obs-websocket's WebSocketCloseCode).
      lose(
        code === 4009
          ? 'OBS refused the password (PUNCH_OBS_PASSWORD)'
          : `OBS closed the connection (${code}${reason.length > 0 ? `: ${reason.toString()}` : ''})`,
      );
    });
  }

  stop(): void {
    this.#stopped = true;
    this.#retry.cancel();
    this.#ws?.terminate();
    this.#ws = undefined;
  }

  #lost(reason: string): void {
    this.#ws = undefined;
    if (this.#stopped) return;
    const retryInMs = this.#retry.schedule(() => {
      this.start();
    });
    this.#emit({ type: 'lost', reason: `${this.label}: ${reason}`, retryInMs });
  }

  #request(ws: WebSocket, requestType: string): void {
    this.#requests++;
    ws.send(JSON.stringify({ op: 6, d: { requestType, requestId: `punch-${this.#requests}` } }));
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
        this.#retry.reset();
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
      case 7: {
        const data = m.d.responseData;
        if (!m.d.requestStatus.result) {
          // 506 StudioModeNotActive: no preview scene, which is a state, not a fault.
          if (m.d.requestType === 'GetCurrentPreviewScene') this.#set(this.#program, undefined, at);
          return;
        }
        if (m.d.requestType === 'GetCurrentProgramScene')
          this.#set(sceneName(data, 'currentProgramSceneName'), this.#preview, at);
        else if (m.d.requestType === 'GetCurrentPreviewScene')
          this.#set(this.#program, sceneName(data, 'currentPreviewSceneName'), at);
        else if (m.d.requestType === 'GetStudioModeEnabled') {
          this.#studio = data?.studioModeEnabled === true;
          if (this.#studio) this.#request(ws, 'GetCurrentPreviewScene');
        }
      }
    }
  }

  #event(ws: WebSocket, type: string, data: Record<string, unknown> | undefined, at: number): void {
    if (type === 'CurrentProgramSceneChanged')
      this.#set(sceneName(data, 'sceneName'), this.#preview, at);
    else if (type === 'CurrentPreviewSceneChanged' && this.#studio)
      this.#set(this.#program, sceneName(data, 'sceneName'), at);
    else if (type === 'StudioModeStateChanged') {
      this.#studio = data?.studioModeEnabled === true;
      if (this.#studio) this.#request(ws, 'GetCurrentPreviewScene');
      else this.#set(this.#program, undefined, at);
    }
  }

  /** Emits the new state, unless it is the one already known (OBS repeats itself). */
  #set(program: string | undefined, preview: string | undefined, at: number): void {
    if (program === this.#program && preview === this.#preview) return;
    this.#program = program;
    this.#preview = preview;
    const state = new Map<string, KeyState>();
    if (preview !== undefined) state.set(preview, 'preview');
    if (program !== undefined) state.set(program, 'program');
    this.#emit({ type: 'state', state, at });
  }
}
