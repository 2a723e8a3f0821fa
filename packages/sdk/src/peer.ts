import { CLOSE_NORMAL } from '@punch/core';
import { Emitter, type Listener } from './emitter.js';
import type {
  ConnectOptions,
  PeerConnectionConstructor,
  PeerEvents,
  PeerInfo,
  PeerOptions,
} from './peer-options.js';
import { parseEnvelope, newCallId, type Envelope } from './envelope.js';
import { PunchSignalError } from './errors.js';
import { checkId, peerKey, type PeerRef } from './ids.js';
import { silentLogger, type Logger } from './logger.js';
import { isPolite } from './polite.js';
import { route } from './routing.js';
import type { Session } from './session.js';
import { DEFAULT_RECOVERY } from './recovery.js';
import { SessionCore, type SessionHost } from './session-core.js';
import { SignalClient, type Welcome } from './signaling.js';
import type { WebSocketConstructor } from './socket.js';
import { signalUrl } from './url.js';

/** Calls whose late errors are dropped quietly (bounded). */
const MAX_REMEMBERED = 256;

function remember(set: Set<string>, id: string): void {
  set.add(id);
  if (set.size > MAX_REMEMBERED) {
    const oldest = set.values().next();
    if (oldest.done !== true) set.delete(oldest.value);
  }
}

/** The call id inside one of our refs (`<call>-<n>`). */
function callOfRef(ref: string): string {
  const dash = ref.lastIndexOf('-');
  return dash <= 0 ? ref : ref.slice(0, dash);
}

/**
 * A project peer: one signalling connection to Punch, and the WebRTC sessions with other peers.
 * Made by `createPeer()`.
 *
 * @example
 * const peer = createPeer({ url, getToken });
 * const { group, peer: me } = await peer.ready;
 * peer.on('session', (session) => console.log('call from', session.remote.peer));
 */
export class Peer {
  /** Resolves at the first `welcome`; rejects if the peer ends before it. */
  readonly ready: Promise<PeerInfo>;
  readonly #events = new Emitter<PeerEvents>();
  readonly #client: SignalClient;
  readonly #o: PeerOptions;
  readonly #log: Logger;
  readonly #PC: PeerConnectionConstructor;
  readonly #host: SessionHost;
  readonly #sessions = new Map<string, SessionCore>();
  readonly #byCall = new Map<string, SessionCore>();
  readonly #endedCalls = new Set<string>();
  readonly #resetSent = new Set<string>();
  #info: PeerInfo | undefined;
  #punchIce: RTCIceServer[] = [];
  #closed = false;
  #settle: { resolve(info: PeerInfo): void; reject(err: PunchSignalError): void } | undefined;

  /** Use `createPeer()`. */
  constructor(
    options: PeerOptions,
    WebSocket: WebSocketConstructor,
    PC: PeerConnectionConstructor,
  ) {
    this.#o = options;
    this.#log = options.logger ?? silentLogger;
    this.#PC = PC;
    this.ready = new Promise<PeerInfo>((resolve, reject) => {
      this.#settle = { resolve, reject };
    });
    // Whoever never awaits `ready` must not get an unhandled rejection when the peer ends.
    this.ready.catch(() => undefined);
    this.#host = this.#makeHost();
    this.#client = new SignalClient({
      url: signalUrl(options.url),
      token: options.token,
      getToken: options.getToken,
      WebSocket,
      refreshBeforeS: options.refreshBeforeS ?? 60,
      logger: this.#log,
      ...(options.pingIntervalMs === undefined ? {} : { pingIntervalMs: options.pingIntervalMs }),
    });
    const ev = this.#client.events;
    ev.on('welcome', (w) => {
      this.#welcome(w);
    });
    ev.on('signal', ({ from, payload }) => {
      this.#signal(from, payload);
    });
    ev.on('error', (err) => {
      this.#error(err);
    });
    ev.on('refreshed', ({ expiresAt, iceServers }) => {
      this.#punchIce = iceServers;
      const info = this.#info;
      if (info !== undefined) this.#info = { ...info, iceServers: this.#iceServers() };
      for (const core of this.#sessions.values()) core.updateIceServers(this.#iceServers());
      this.#events.emit('token', { expiresAt });
    });
    ev.on('reconnecting', (r) => {
      this.#events.emit('reconnecting', r);
    });
    ev.on('close', (c) => {
      this.#ended(c.code, c.reason);
    });
    this.#client.start();
  }

  /** Who this peer is, once welcomed. */
  get info(): PeerInfo | undefined {
    return this.#info;
  }

  /** The live sessions. */
  get sessions(): Session[] {
    return [...this.#sessions.values()].map((c) => c.session);
  }

  /**
   * Calls another peer of the project. Resolves once it answered (its description is applied;
   * media and channels open shortly after, watch `state`). Rejects with a PunchSignalError:
   * `ERR_POLICY_DENIED` (your token does not allow that peer), `ERR_PEER_UNAVAILABLE` (offline,
   * or its token does not allow you; Punch does not say which), `ERR_TIMEOUT`, `ERR_CLOSED`.
   * A session already open with that peer is closed first.
   *
   * @example
   * const session = await peer.connect('room-1', 'bob', { dataChannels: ['chat'], streams: [camera] });
   * const chat = session.channels.get('chat');
   */
  async connect(group: string, peer: string, options: ConnectOptions = {}): Promise<Session> {
    const remote: PeerRef = { group: checkId('group', group), peer: checkId('peer', peer) };
    const labels = options.dataChannels ?? [];
    if (!Array.isArray(labels) || !labels.every((l) => typeof l === 'string')) {
      throw new TypeError('dataChannels must be an array of labels');
    }
    const timeoutMs = options.timeoutMs ?? this.#o.connectTimeoutMs ?? 15_000;
    if (!(timeoutMs > 0)) throw new RangeError('timeoutMs must be a positive number of ms');
    if (this.#closed) throw new PunchSignalError('ERR_CLOSED', 'the peer is closed');
    const info = await this.ready;
    if (this.#closed) throw new PunchSignalError('ERR_CLOSED', 'the peer is closed');
    if (peerKey(remote) === peerKey(info)) throw new TypeError('a peer cannot connect to itself');
    this.#sessions.get(peerKey(remote))?.end('replaced', true);
    const core = new SessionCore(this.#host, remote, isPolite(info, remote), 'caller', newCallId());
    this.#sessions.set(peerKey(remote), core);
    const answered = core.answered(timeoutMs);
    for (const label of labels) core.createDataChannel(label);
    for (const stream of options.streams ?? []) {
      for (const track of stream.getTracks()) core.addTrack(track, [stream]);
    }
    // An offer needs at least one m-line.
    if (labels.length === 0 && (options.streams ?? []).length === 0)
      core.createDataChannel('punch');
    return answered;
  }

  /**
   * Subscribes to an event; returns a function that unsubscribes.
   *
   * @example
   * peer.on('session', (session) => {
   *   for (const t of camera.getTracks()) session.addTrack(t, camera);
   * });
   */
  on<K extends keyof PeerEvents>(event: K, listener: Listener<PeerEvents[K]>): () => void {
    return this.#events.on(event, listener);
  }

  /**
   * Subscribes to the next occurrence of an event only.
   *
   * @example
   * peer.once('close', ({ code, reason }) => console.log(code, reason));
   */
  once<K extends keyof PeerEvents>(event: K, listener: Listener<PeerEvents[K]>): () => void {
    return this.#events.once(event, listener);
  }

  /**
   * Removes a listener added with `on`.
   *
   * @example
   * peer.off('error', onError);
   */
  off<K extends keyof PeerEvents>(event: K, listener: Listener<PeerEvents[K]>): void {
    this.#events.off(event, listener);
  }

  /**
   * Ends every session (telling the remotes) and the signalling connection.
   *
   * @example
   * window.addEventListener('pagehide', () => peer.close());
   */
  close(): void {
    if (this.#closed) return;
    for (const core of [...this.#sessions.values()]) core.end('local', true);
    this.#client.close();
  }

  #makeHost(): SessionHost {
    return {
      logger: this.#log,
      recovery: { ...DEFAULT_RECOVERY, ...this.#o.recovery },
      createPeerConnection: () =>
        new this.#PC({
          iceServers: this.#iceServers(),
          iceTransportPolicy: this.#o.forceRelay === true ? 'relay' : 'all',
        }),
      send: (remote, envelope, ref) => {
        this.#client.send({ type: 'signal', to: remote, payload: envelope, ref });
      },
      callStarted: (core, callId) => {
        this.#byCall.set(callId, core);
      },
      callEnded: (callId) => {
        this.#byCall.delete(callId);
        remember(this.#endedCalls, callId);
      },
      closed: (core) => {
        if (this.#sessions.get(peerKey(core.remote)) === core)
          this.#sessions.delete(peerKey(core.remote));
      },
      error: (err) => {
        this.#events.emit('error', err);
      },
    };
  }

  #iceServers(): RTCIceServer[] {
    const extra = this.#o.iceServers;
    if (typeof extra === 'function') return extra([...this.#punchIce]);
    return [...this.#punchIce, ...(extra ?? [])];
  }

  #welcome(w: Welcome): void {
    this.#punchIce = w.iceServers;
    const info: PeerInfo = {
      project: w.project,
      group: w.group,
      peer: w.peer,
      iceServers: this.#iceServers(),
    };
    this.#info = info;
    this.#log.debug('welcomed by Punch', { group: w.group, peer: w.peer, expiresAt: w.expiresAt });
    this.#settle?.resolve(info);
    this.#settle = undefined;
    this.#events.emit('ready', info);
  }

  #signal(from: PeerRef, payload: unknown): void {
    const info = this.#info;
    if (info === undefined || this.#closed) return;
    const parsed = parseEnvelope(payload);
    if (!parsed.ok) {
      this.#log.warn('ignored a signal that is not a Punch SDK envelope', {
        from: peerKey(from),
        error: parsed.error,
      });
      return;
    }
    const e = parsed.value;
    const key = peerKey(from);
    const existing = this.#sessions.get(key);
    const polite = isPolite(info, from);
    const decision = route(e, existing?.routeState(), polite);
    switch (decision) {
      case 'deliver':
        existing?.receive(e);
        return;
      case 'adopt':
        existing?.adopt(e);
        return;
      case 'replace':
      case 'incoming': {
        existing?.end('replaced', false);
        const core = new SessionCore(this.#host, from, polite, 'callee', e.call);
        this.#sessions.set(key, core);
        // Synchronous, before the offer is applied: tracks the application adds here go out
        // in the answer.
        this.#events.emit('session', core.session);
        core.receive(e);
        return;
      }
      case 'reset':
        this.#reset(from, e);
        return;
      case 'ignore':
      case 'drop':
        this.#log.debug(`${decision}: ${e.kind} for call ${e.call}`, { from: key });
        return;
    }
  }

  /** Tells `to` we do not know its call: once per call for candidates, for every description. */
  #reset(to: PeerRef, e: Envelope): void {
    if (e.kind === 'candidate' && this.#resetSent.has(e.call)) return;
    remember(this.#resetSent, e.call);
    this.#log.debug('reset: unknown call', { from: peerKey(to), call: e.call, kind: e.kind });
    this.#client.send({ type: 'signal', to, payload: { v: 1, call: e.call, kind: 'reset' } });
  }

  #error(err: PunchSignalError): void {
    if (err.ref !== undefined) {
      const call = callOfRef(err.ref);
      const core = this.#byCall.get(call);
      if (core !== undefined) {
        core.signalError(err);
        return;
      }
      if (this.#endedCalls.has(call)) {
        this.#log.debug('error for an ended call', { code: err.code, call });
        return;
      }
    }
    this.#events.emit('error', err);
  }

  #ended(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    const byUs = code === CLOSE_NORMAL;
    for (const core of [...this.#sessions.values()])
      core.end(byUs ? 'local' : 'peer-closed', false);
    this.#settle?.reject(
      new PunchSignalError(
        'ERR_CLOSED',
        `the peer ended before Punch welcomed it (${code} ${reason})`,
      ),
    );
    this.#settle = undefined;
    this.#events.emit('close', { code, reason });
  }
}

/**
 * Connects to Punch's signalling as the peer a token names, and makes WebRTC sessions with the
 * other peers of the project. Connects at once; `peer.ready` resolves when Punch welcomed it.
 * Reconnects with backoff when the connection drops, except when it cannot help: the key or
 * project was deleted, the token is refused or expired (without `getToken`), or another
 * connection took this peer id (a newer tab): then `close` is emitted with Punch's code.
 *
 * @example
 * import { createPeer } from '@punch/sdk';
 * const peer = createPeer({
 *   url: 'https://punch.example.com',
 *   getToken: () => fetch('/token?peer=alice').then((r) => r.text()),
 * });
 * peer.on('session', (session) => {
 *   session.on('datachannel', (ch) => ch.addEventListener('message', (e) => console.log(e.data)));
 * });
 * await peer.ready;
 * const session = await peer.connect('demo', 'bob', { dataChannels: ['chat'] });
 *
 * // Node: WebSocket from `ws`, RTCPeerConnection from werift
 * import WebSocket from 'ws';
 * import { RTCPeerConnection } from 'werift';
 * import { fromWerift } from '@punch/sdk/werift';
 * createPeer({ url, token, WebSocket, RTCPeerConnection: fromWerift(RTCPeerConnection) });
 */
export function createPeer(options: PeerOptions): Peer {
  if (typeof options !== 'object' || options === null)
    throw new TypeError('createPeer needs options');
  if (options.token === undefined && options.getToken === undefined) {
    throw new TypeError('createPeer needs a token or getToken');
  }
  if (options.getToken !== undefined && typeof options.getToken !== 'function') {
    throw new TypeError('getToken must be a function returning a Promise of the token');
  }
  if (options.token !== undefined && typeof options.token !== 'string') {
    throw new TypeError('token must be a string');
  }
  const refreshBeforeS = options.refreshBeforeS ?? 60;
  if (!(refreshBeforeS >= 0)) throw new RangeError('refreshBeforeS must be zero or more seconds');
  signalUrl(options.url); // Throws a TypeError naming the problem.
  // Typed as possibly missing: Node 20 has neither global.
  const g: { WebSocket?: WebSocketConstructor; RTCPeerConnection?: PeerConnectionConstructor } =
    globalThis;
  const WS = options.WebSocket ?? g.WebSocket;
  if (WS === undefined) {
    throw new TypeError('no WebSocket here: pass one (in Node: `import WebSocket from "ws"`)');
  }
  const PC = options.RTCPeerConnection ?? g.RTCPeerConnection;
  if (PC === undefined) {
    throw new TypeError(
      'no RTCPeerConnection here: pass one (in Node: fromWerift(RTCPeerConnection) from @punch/sdk/werift)',
    );
  }
  return new Peer(options, WS, PC);
}
