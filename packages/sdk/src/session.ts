import type { Listener } from './emitter.js';
import type { PeerRef } from './ids.js';
import type { SessionCore } from './session-core.js';
import type { SessionEvents, SessionRole } from './session-events.js';
import { selectedCandidatePair, type SelectedCandidatePair } from './stats.js';

/**
 * A WebRTC session with one remote peer: what `peer.connect()` resolves with and what the
 * peer's `session` event hands over for an incoming call.
 *
 * A session outlives its RTCPeerConnection: when the remote page reloads, the caller's side
 * starts a fresh call on the same Session (`call` event; `session.pc` is then a new object).
 * Data channels made with `session.createDataChannel()` and tracks added with
 * `session.addTrack()` are re-created on the fresh call: the new channel objects (same labels)
 * arrive as `datachannel` events, so handle channels in one `datachannel` listener and
 * `session.channels`. Anything done on `session.pc` directly is not carried over.
 *
 * `track` and `datachannel` events that fire before anyone listens are kept and delivered to
 * the first listener, so subscribing after `await peer.connect()` misses nothing.
 *
 * @example
 * const session = await peer.connect('room-1', 'bob', { dataChannels: ['chat'] });
 * session.channels.get('chat')?.addEventListener('open', () => { … });
 * session.on('datachannel', (channel) => { … }); // remote channels, and ours after a reset
 * session.on('track', ({ streams }) => { video.srcObject = streams[0] ?? null; });
 * session.on('close', ({ reason }) => console.log('ended:', reason));
 */
export class Session {
  readonly #core: SessionCore;

  /** Made by the peer; applications get sessions from `connect()` and the `session` event. */
  constructor(core: SessionCore) {
    this.#core = core;
  }

  /** The remote peer. */
  get remote(): PeerRef {
    return this.#core.remote;
  }

  /** The current RTCPeerConnection (replaced on a fresh call, see the `call` event). */
  get pc(): RTCPeerConnection {
    return this.#core.pc;
  }

  /** The current call's id (as sent in the signalling envelopes). */
  get callId(): string {
    return this.#core.callId;
  }

  /** `caller` if this side made the current call (and restarts it when it fails). */
  get role(): SessionRole {
    return this.#core.role;
  }

  /** The current connection state (`closed` once the session ended). */
  get state(): RTCPeerConnectionState {
    return this.#core.closed ? 'closed' : this.#core.pc.connectionState;
  }

  /** True once the session ended. */
  get closed(): boolean {
    return this.#core.closed;
  }

  /** The latest data channel for each label, ours and the remote's. */
  get channels(): ReadonlyMap<string, RTCDataChannel> {
    return this.#core.channels;
  }

  /**
   * Opens a data channel (re-created on a fresh call, see above).
   *
   * @example
   * const chat = session.createDataChannel('chat', { ordered: true });
   * chat.addEventListener('message', (e) => console.log(e.data));
   */
  createDataChannel(label: string, init?: RTCDataChannelInit): RTCDataChannel {
    return this.#core.createDataChannel(label, init);
  }

  /**
   * Sends a track (re-added on a fresh call). In an incoming session's `session` handler, add
   * tracks synchronously: they then go out in the answer itself.
   *
   * @example
   * const media = await navigator.mediaDevices.getUserMedia({ video: true });
   * for (const track of media.getTracks()) session.addTrack(track, media);
   */
  addTrack(track: MediaStreamTrack, ...streams: MediaStream[]): RTCRtpSender {
    return this.#core.addTrack(track, streams);
  }

  /**
   * The candidate pair in use (from getStats), or undefined before one is selected.
   *
   * @example
   * const pair = await session.selectedCandidatePair();
   * console.log(pair?.local.candidateType, pair?.remote.candidateType); // 'relay' 'srflx'
   */
  selectedCandidatePair(): Promise<SelectedCandidatePair | undefined> {
    return selectedCandidatePair(this.#core.pc);
  }

  /**
   * Subscribes to an event; returns a function that unsubscribes.
   *
   * @example
   * const off = session.on('state', (s) => console.log(s));
   */
  on<K extends keyof SessionEvents>(event: K, listener: Listener<SessionEvents[K]>): () => void {
    return this.#core.events.on(event, listener);
  }

  /**
   * Subscribes to the next occurrence of an event only.
   *
   * @example
   * session.once('close', ({ reason }) => console.log(reason));
   */
  once<K extends keyof SessionEvents>(event: K, listener: Listener<SessionEvents[K]>): () => void {
    return this.#core.events.once(event, listener);
  }

  /**
   * Removes a listener added with `on`.
   *
   * @example
   * session.off('state', onState);
   */
  off<K extends keyof SessionEvents>(event: K, listener: Listener<SessionEvents[K]>): void {
    this.#core.events.off(event, listener);
  }

  /**
   * Ends the session and tells the remote side (`bye`), which ends its side too.
   *
   * @example
   * hangUpButton.onclick = () => session.close();
   */
  close(): void {
    this.#core.end('local', true);
  }
}
