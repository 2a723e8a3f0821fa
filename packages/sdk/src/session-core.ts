import { Call, type EnvelopeBody } from './call.js';
import { Emitter } from './emitter.js';
import { newCallId, type Envelope } from './envelope.js';
import { PunchSignalError } from './errors.js';
import type { PeerRef } from './ids.js';
import type { Logger } from './logger.js';
import { Recovery, type FreshReason, type RecoveryOptions } from './recovery.js';
import type { SessionCloseReason, SessionEvents, SessionRole } from './session-events.js';
import { Session } from './session.js';

/**
 * The logic behind a `Session`: the current call (one RTCPeerConnection), and what carries over
 * when a call is replaced by a fresh one: the data channels and tracks the application asked
 * for, re-created on the new connection (new channel objects with the same labels, each emitted
 * as `datachannel`). When and why calls are restarted or replaced: recovery.ts.
 */

/** What a session needs from its peer. */
export interface SessionHost {
  readonly logger: Logger;
  readonly recovery: RecoveryOptions;
  createPeerConnection(): RTCPeerConnection;
  send(remote: PeerRef, envelope: Envelope, ref: string): void;
  /** A call id now belongs to this session (errors with its refs come here). */
  callStarted(core: SessionCore, callId: string): void;
  /** A call id is over (late errors for it are dropped). */
  callEnded(callId: string): void;
  closed(core: SessionCore): void;
  /** An error the application should hear about (the peer's `error` event). */
  error(err: PunchSignalError): void;
}

interface Pending {
  resolve(): void;
  reject(err: PunchSignalError): void;
}

/**
 * @example
 * const core = new SessionCore(host, { group: 'g', peer: 'bob' }, true, 'caller', newCallId());
 * const session = await core.answered(15_000);
 */
export class SessionCore {
  readonly events = new Emitter<SessionEvents>({ buffer: ['track', 'datachannel'] });
  readonly session: Session;
  readonly remote: PeerRef;
  readonly polite: boolean;
  readonly #host: SessionHost;
  #role: SessionRole;
  #call: Call;
  #answered = false;
  #closed = false;
  #seq = 0;
  readonly #wantChannels: { label: string; init: RTCDataChannelInit | undefined }[] = [];
  readonly #wantTracks: { track: MediaStreamTrack; streams: MediaStream[] }[] = [];
  readonly #channels = new Map<string, RTCDataChannel>();
  readonly #watched = new WeakSet();
  readonly #recovery: Recovery;
  #pending: Pending | undefined;
  #initialRef: string | undefined;
  #transportClosed = false;

  constructor(
    host: SessionHost,
    remote: PeerRef,
    polite: boolean,
    role: SessionRole,
    callId: string,
  ) {
    this.#host = host;
    this.remote = remote;
    this.polite = polite;
    this.#role = role;
    this.session = new Session(this);
    this.#recovery = new Recovery(host.recovery, {
      connected: () => this.#call.pc.connectionState === 'connected',
      restartable: () =>
        this.#answered && !this.#transportClosed && this.#call.pc.connectionState !== 'closed',
      restartIce: () => {
        void this.#restartIce(this.#call);
      },
      freshCall: (reason) => {
        this.#host.logger.debug('starting a fresh call', { reason, remote: this.remote.peer });
        this.#replaceCall(newCallId(), reason);
      },
      giveUp: (reason) => {
        this.#end(reason, reason === 'failed');
      },
    });
    this.#call = this.#makeCall(callId, role === 'caller');
  }

  get pc(): RTCPeerConnection {
    return this.#call.pc;
  }

  get callId(): string {
    return this.#call.id;
  }

  get role(): SessionRole {
    return this.#role;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get channels(): ReadonlyMap<string, RTCDataChannel> {
    return this.#channels;
  }

  /** What routing needs (see routing.ts). */
  routeState(): { callId: string; awaitingAnswer: boolean } {
    return { callId: this.#call.id, awaitingAnswer: this.#role === 'caller' && !this.#answered };
  }

  /** Resolves with the session once the remote answered; rejects on refusal or timeout. */
  answered(timeoutMs: number): Promise<Session> {
    return new Promise<Session>((resolve, reject) => {
      if (this.#closed) {
        reject(
          new PunchSignalError('ERR_CLOSED', 'the session has ended', { remote: this.remote }),
        );
        return;
      }
      const timer = setTimeout(() => {
        const err = new PunchSignalError(
          'ERR_TIMEOUT',
          `${this.remote.group}/${this.remote.peer} did not answer within ${timeoutMs} ms`,
          { remote: this.remote },
        );
        this.#end('timeout', true, err);
      }, timeoutMs);
      this.#pending = {
        resolve: () => {
          clearTimeout(timer);
          resolve(this.session);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
    });
  }

  createDataChannel(label: string, init?: RTCDataChannelInit): RTCDataChannel {
    this.#assertOpen();
    this.#wantChannels.push({ label, init });
    const channel = this.#call.pc.createDataChannel(label, init);
    this.#channels.set(label, channel);
    return channel;
  }

  addTrack(track: MediaStreamTrack, streams: MediaStream[]): RTCRtpSender {
    this.#assertOpen();
    const sender = this.#call.pc.addTrack(track, ...streams);
    this.#wantTracks.push({ track, streams });
    return sender;
  }

  /** An envelope of the current call (routing checked the call id). */
  receive(e: Envelope): void {
    if (this.#closed) return;
    switch (e.kind) {
      case 'description':
      case 'candidate':
        this.#call.receive(e);
        return;
      case 'bye':
        this.#end('remote', false);
        return;
      case 'reset':
        if (this.#role === 'callee') this.#end('reset', false);
        else this.#recovery.onReset();
        return;
    }
  }

  /** Both sides called at once and we are polite: answer their call instead of ours. */
  adopt(e: Envelope): void {
    if (this.#closed) return;
    this.#recovery.cancel();
    this.#replaceCall(e.call, 'adopted');
    this.#call.receive(e);
  }

  /** A server error for one of this session's messages. */
  signalError(err: PunchSignalError): void {
    const withRemote = new PunchSignalError(err.code, err.message, {
      ...(err.ref === undefined ? {} : { ref: err.ref }),
      ...(err.serverCode === undefined ? {} : { serverCode: err.serverCode }),
      remote: this.remote,
    });
    if (err.ref !== undefined && err.ref === this.#initialRef && this.#pending !== undefined) {
      this.#end('refused', false, withRemote);
      return;
    }
    if (this.#recovery.active && err.code === 'ERR_PEER_UNAVAILABLE') {
      // Expected while the remote page reloads: the restart backoff keeps trying.
      this.#host.logger.debug('remote unavailable during recovery', { call: this.#call.id });
      return;
    }
    this.#host.error(withRemote);
  }

  /** New TURN credentials (after a token refresh) for the next ICE gathering. */
  updateIceServers(iceServers: RTCIceServer[]): void {
    const pc = this.#call.pc;
    try {
      pc.setConfiguration({ ...pc.getConfiguration(), iceServers });
    } catch (err) {
      // Some runtimes refuse to change servers mid-call; the current path keeps working.
      this.#host.logger.debug('setConfiguration refused new ICE servers', { err: String(err) });
    }
  }

  /** Ends the session; `bye` tells the remote to end its side too. */
  end(reason: SessionCloseReason, bye: boolean): void {
    this.#end(reason, bye);
  }

  #assertOpen(): void {
    if (this.#closed) throw new PunchSignalError('ERR_CLOSED', 'the session has ended');
  }

  #makeCall(id: string, caller: boolean): Call {
    const pc = this.#host.createPeerConnection();
    const call: Call = new Call(id, pc, {
      polite: this.polite,
      caller,
      logger: this.#host.logger,
      send: (body) => this.#send(id, body),
      initialSent: (ref) => {
        if (this.#call === call) this.#initialRef = ref;
      },
      remoteApplied: () => {
        if (this.#call !== call || this.#answered) return;
        this.#answered = true;
        const pending = this.#pending;
        this.#pending = undefined;
        pending?.resolve();
      },
      failed: (err, during) => {
        if (this.#call !== call || this.#closed) return;
        this.#host.error(
          new PunchSignalError('ERR_NEGOTIATION', `WebRTC failed ${during}`, {
            cause: err,
            remote: this.remote,
          }),
        );
      },
    });
    pc.addEventListener('track', (ev) => {
      if (this.#call === call) this.events.emit('track', ev);
    });
    pc.addEventListener('datachannel', (ev) => {
      if (this.#call !== call) return;
      this.#channels.set(ev.channel.label, ev.channel);
      this.events.emit('datachannel', ev.channel);
    });
    pc.addEventListener('connectionstatechange', () => {
      if (this.#call === call && !call.closed) this.#state(call);
    });
    this.#host.callStarted(this, id);
    return call;
  }

  /** Tears down the current call and starts `id` on a new RTCPeerConnection. */
  #replaceCall(id: string, reason: FreshReason | 'adopted'): void {
    const old = this.#call;
    this.#host.callEnded(old.id);
    old.close();
    this.#role = reason === 'adopted' ? 'callee' : 'caller';
    this.#answered = false;
    this.#initialRef = undefined;
    this.#transportClosed = false;
    this.#channels.clear();
    this.#call = this.#makeCall(id, this.#role === 'caller');
    this.events.emit('call', { callId: id, reason });
    this.events.emit('state', this.#call.pc.connectionState);
    this.#recreate();
  }

  /** Our data channels and tracks, on the new RTCPeerConnection. */
  #recreate(): void {
    const pc = this.#call.pc;
    if (
      this.#role === 'caller' &&
      this.#wantChannels.length === 0 &&
      this.#wantTracks.length === 0
    ) {
      // An offer needs at least one m-line; connect() adds this channel for the same reason.
      this.#wantChannels.push({ label: 'punch', init: undefined });
    }
    for (const { label, init } of this.#wantChannels) {
      const channel = pc.createDataChannel(label, init);
      this.#channels.set(label, channel);
      this.events.emit('datachannel', channel);
    }
    for (const { track, streams } of this.#wantTracks) {
      try {
        pc.addTrack(track, ...streams);
      } catch (err) {
        this.#host.error(
          new PunchSignalError('ERR_NEGOTIATION', 'could not re-add a track to the new call', {
            cause: err,
            remote: this.remote,
          }),
        );
      }
    }
  }

  #send(callId: string, body: EnvelopeBody): string {
    const ref = `${callId}-${++this.#seq}`;
    this.#host.send(this.remote, { v: 1, call: callId, ...body }, ref);
    return ref;
  }

  #state(call: Call): void {
    const state = call.pc.connectionState;
    this.events.emit('state', state);
    if (state === 'connected') this.#watchTransports(call);
    if (state === 'closed') {
      // Closed under us (the runtime gave up on it): only a fresh call can replace it.
      this.#recovery.onRemoteClosed(this.#role === 'caller');
    } else {
      this.#recovery.onState(state, this.#role === 'caller');
    }
  }

  /**
   * A DTLS transport that turns `closed` without our closing it received the remote's
   * close_notify: the remote page closed its connection (a reload or a crash sends no `bye`).
   * Browsers report it at once, long before ICE notices the silence.
   */
  #watchTransports(call: Call): void {
    const pc = call.pc;
    const transports: RTCDtlsTransport[] = [];
    const sctp = pc.sctp;
    if (sctp !== null && sctp !== undefined) transports.push(sctp.transport);
    for (const s of pc.getSenders()) if (s.transport !== null) transports.push(s.transport);
    for (const r of pc.getReceivers()) if (r.transport !== null) transports.push(r.transport);
    for (const t of transports) {
      // werift's transports have no addEventListener: there, ICE consent notices instead.
      if (t === undefined || this.#watched.has(t) || typeof t.addEventListener !== 'function') {
        continue;
      }
      this.#watched.add(t);
      t.addEventListener('statechange', () => {
        if (t.state !== 'closed' || this.#call !== call || call.closed || this.#closed) return;
        this.#host.logger.debug('the remote closed its connection', { call: call.id });
        this.#transportClosed = true;
        this.#recovery.onRemoteClosed(this.#role === 'caller');
      });
    }
  }

  async #restartIce(call: Call): Promise<void> {
    try {
      // An offer still waiting for an answer (the remote was away) would hold back the new
      // one: withdraw it first.
      if (call.pc.signalingState === 'have-local-offer') {
        await call.pc.setLocalDescription({ type: 'rollback' });
      }
      if (call !== this.#call || call.closed) return;
      this.#host.logger.debug('restarting ICE', { call: call.id, try: this.#recovery.tries });
      call.pc.restartIce();
    } catch (err) {
      if (call !== this.#call || call.closed) return;
      this.#host.error(
        new PunchSignalError('ERR_NEGOTIATION', 'ICE restart failed', {
          cause: err,
          remote: this.remote,
        }),
      );
    }
  }

  #end(reason: SessionCloseReason, bye: boolean, error?: PunchSignalError): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#recovery.cancel();
    const call = this.#call;
    if (bye) {
      this.#host.send(
        this.remote,
        { v: 1, call: call.id, kind: 'bye' },
        `${call.id}-${++this.#seq}`,
      );
    }
    this.#host.callEnded(call.id);
    call.close();
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.reject(
      error ??
        new PunchSignalError('ERR_CLOSED', `the session ended (${reason})`, {
          remote: this.remote,
        }),
    );
    this.#host.closed(this);
    this.events.emit('state', 'closed');
    this.events.emit('close', error === undefined ? { reason } : { reason, error });
  }
}
