import type { RemoteInfo, Socket } from 'node:dgram';
import type { ClientMessage, ParsedServerMessage, Tally } from '@punch/core';
import { lanCandidates } from './candidates.js';
import type { AgentEvent, Status } from './events.js';
import type { SrtLiveTransmit } from './exec.js';
import { assertExecPortsFree, execBinds } from './exec-ports.js';
import { startExec } from './exec-run.js';
import {
  NO_STUN,
  localBindFailure,
  mediaBindFailure,
  noPathFailure,
  type Failure,
} from './failures.js';
import { Traffic } from './health.js';
import type { PeerMessage } from './link.js';
import { LocalSide } from './local.js';
import { openMediaSocket } from './media-socket.js';
import { Pairing, RELAY_AFTER_MS } from './pairing.js';
import { SlotClaim } from './slot-claim.js';
import type { HostPort } from './options.js';
import type { StreamOptions } from './stream-options.js';
import { StunProbe, type StunAnswer } from './stun-probe.js';
import { toolCommands } from './tool-commands.js';

const HEALTH_MS = 1000;

/** The server messages that concern one stream (the link routes them by their `stream`). */
export type StreamMessage = Extract<
  ParsedServerMessage,
  { type: 'registered' | 'peer' | 'peer-left' }
>;

/** What a stream needs from the agent around it: the link, the operator, and its end. */
export interface StreamHost {
  /** Sends on the signalling link (dropped while it is down). */
  send(message: ClientMessage): void;
  /** Tells the operator; the agent adds the stream's name. */
  emit(event: AgentEvent): void;
  /** This stream cannot go on (it has closed itself): the agent decides what that ends. */
  failed(failure: Failure): void;
}

/**
 * One stream of the `punch peer` agent: its registration, its media socket and the STUN probe
 * that learns its public endpoint (`stun-probe.ts`), the media path to the other agent once
 * paired (`pairing.ts`), the loopback side where the user's SRT tool connects (`local.ts`),
 * with `--exec` srt-live-transmit (`exec.ts`), its tally and its health once a second. The
 * signalling link is the agent's (`agent.ts`), shared by every stream it carries.
 */
export class StreamAgent {
  readonly options: StreamOptions;
  readonly #host: StreamHost;
  readonly #traffic = new Traffic();
  #media: Socket | undefined;
  #local: LocalSide | undefined;
  #probe: StunProbe | undefined;
  #pairing: Pairing | undefined;
  readonly #claim: SlotClaim;
  /** Registered on the current connection (reset by each `welcome`). */
  #registered = false;
  #exec: SrtLiveTransmit | undefined;
  /** The public STUN server Punch named in `welcome` (Workers), asked when `--stun` is not given. */
  #publicStun: HostPort | undefined;
  #srtStats: Record<string, number> | undefined;
  #healthTimer: NodeJS.Timeout | undefined;
  #closed = false;
  #status: Status = 'connecting';
  /** Relays when STUN stays unanswered after registering (UDP blocked). */
  #stunWatch: NodeJS.Timeout | undefined;

  constructor(options: StreamOptions, host: StreamHost) {
    this.options = options;
    this.#host = host;
    this.#claim = new SlotClaim(options, {
      send: (m) => {
        host.send(m);
      },
      emit: (e) => {
        host.emit(e);
      },
      status: (status, detail) => {
        this.setStatus(status, detail);
      },
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Its slot is held by another connection, and asked for again (see `replaced`). */
  get waiting(): boolean {
    return this.#claim.waiting;
  }

  /** Opens the loopback side and the media socket; a failure closes the stream and says why. */
  async open(): Promise<Failure | undefined> {
    const o = this.options;
    try {
      this.#local = await LocalSide.open(
        o.role === 'sender' ? 'send' : 'receive',
        o.srtListen,
        o.srtTarget,
        o.sourcePort,
        (packet) => {
          this.#fromLocal(packet);
        },
      );
      // The agent may have stopped meanwhile (Ctrl-C, the session ended).
      if (this.#closed) this.#local.close();
      await assertExecPortsFree(execBinds(o)); // found now, not once the other side is up
    } catch (err) {
      return this.#closeWith(localBindFailure(err as NodeJS.ErrnoException, o));
    }
    if (this.#closed) return undefined;
    try {
      this.#media = await openMediaSocket(o.mediaPort, o.bind, (msg, rinfo) => {
        this.#fromMedia(msg, rinfo);
      });
      if (this.#closed) this.#media.close();
    } catch (err) {
      return this.#closeWith(mediaBindFailure(err as NodeJS.ErrnoException, o));
    }
    if (this.#closed) return undefined;
    this.#probe = new StunProbe({
      socket: this.#media,
      onAnswer: (answer) => {
        this.#onStunAnswer(answer);
      },
    });
    this.#pairing = this.#newPairing(this.#media);
    this.#healthTimer = setInterval(() => {
      this.#reportHealth();
    }, HEALTH_MS);
    return undefined;
  }

  /** Stops everything this stream runs. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#healthTimer);
    clearTimeout(this.#stunWatch);
    this.#claim.stop();
    this.#probe?.stop();
    this.#pairing?.close();
    this.#exec?.stop();
    this.#media?.close();
    this.#local?.close();
  }

  /** A new connection (`welcome`): nothing is registered on it until Punch says so. */
  welcome(publicStun?: HostPort): void {
    this.#publicStun = publicStun;
    this.#registered = false;
    this.register();
  }

  /** Punch is away: whether the other side comes back cannot be known from here. */
  linkLost(): void {
    this.#pairing?.linkLost();
  }

  /** Fresh relay credentials (with a fresh token) for the next allocation. */
  renew(relay: Extract<ParsedServerMessage, { type: 'token' }>['relay']): void {
    if (relay !== undefined && relay !== null) this.#pairing?.renew(relay);
  }

  setStatus(status: Status, detail?: string): void {
    if (status === this.#status && detail === undefined) return;
    this.#status = status;
    this.#host.emit(
      detail === undefined ? { event: 'status', status } : { event: 'status', status, detail },
    );
  }

  tally(tally: Tally): void {
    if (this.#closed) return;
    const stream = this.options.stream;
    const state = tally.program.includes(stream)
      ? 'program'
      : tally.preview.includes(stream)
        ? 'preview'
        : 'none';
    this.#host.emit({ event: 'tally', tally: state });
  }

  /** Asks for the slot on the current connection. */
  register(): void {
    if (!this.#closed) this.#claim.register();
  }

  /**
   * Punch gave this stream's slot to another connection (a producer watching it with an admin
   * link) and left this agent its other streams: this one lets its pairing go and waits for
   * the slot (`SlotClaim.wait`).
   */
  replaced(message: string): void {
    if (this.#closed) return;
    this.#letGo();
    this.#claim.wait('ERR_REPLACED', message);
  }

  /**
   * Punch refused this stream's registration (the link matched the error to it). Waiting for
   * a slot held elsewhere, the stream lets go of what it had, as when the slot is taken.
   */
  refused(code: string, message: string): void {
    if (this.#closed) return;
    const waiting = this.#claim.waiting;
    const f = this.#claim.refused(code, message);
    if (f !== undefined) this.#host.failed(this.#closeWith(f));
    else if (!waiting && this.#claim.waiting) this.#letGo();
  }

  /** Another connection holds the slot: the old pairing must not punch on towards its media. */
  #letGo(): void {
    this.#registered = false;
    clearTimeout(this.#stunWatch);
    this.#pairing?.drop();
  }

  onMessage(m: StreamMessage): void {
    if (this.#closed) return;
    switch (m.type) {
      case 'registered':
        this.#onRegistered(m);
        break;
      case 'peer':
        void this.#onPeer(m);
        break;
      case 'peer-left':
        this.#pairing?.leave();
        this.#host.emit({ event: 'peer-left' });
        this.setStatus('waiting');
        break;
    }
  }

  #closeWith(f: Failure): Failure {
    this.close();
    return f;
  }

  #newPairing(media: Socket): Pairing {
    const { session, stream, role } = this.options;
    return new Pairing({
      socket: media,
      session,
      stream,
      role,
      punchTimeoutMs: this.options.punchTimeout * 1000,
      events: {
        up: (kind, remote, via) => {
          this.#host.emit({ event: 'path', path: kind, via, remote });
          this.setStatus(kind);
        },
        down: (reason) => {
          this.#host.emit({ event: 'path', path: 'none', reason });
          this.setStatus('punching');
        },
        failed: (seconds, relay) => {
          this.#host.failed(noPathFailure(seconds, relay));
        },
        data: (packet) => {
          this.#fromPath(packet);
        },
        relayed: (address, why) => {
          const transport = this.#pairing?.relay?.transport ?? 'udp';
          this.#host.emit({ event: 'relay', address, transport, why });
          // Unregistered (its slot taken, or a reconnect): told again once registered.
          if (this.#registered) this.#host.send({ type: 'endpoint', stream, role, relay: address });
        },
        relayProblem: (message) => {
          this.#host.emit({ event: 'error', code: 'ERR_RELAY', message, fatal: false });
        },
      },
    });
  }

  /**
   * No path this time (`noPathFailure`), and other streams go on: forget this pairing and wait
   * for the other side to come back (a new `peer`).
   */
  waitAgain(): void {
    this.#pairing?.drop();
    this.setStatus('waiting');
  }

  #onRegistered(m: Extract<StreamMessage, { type: 'registered' }>): void {
    const { stream, role } = this.options;
    this.#claim.registered();
    const mode = m.mode ?? 'auto';
    this.#pairing?.configure(mode, m.relay ?? null);
    // Registered again (a reconnect): Punch learns the allocation again, once the relay
    // confirms it still holds it (Punch, and the relay in it, may have restarted).
    if (this.#pairing?.relay !== undefined)
      void this.#pairing.recheck().then((relay) => {
        if (relay !== undefined) this.#host.send({ type: 'endpoint', stream, role, relay });
      });
    if (mode === 'always') {
      // IP privacy: the other side only ever learns the relayed address, so neither the
      // public endpoint nor LAN addresses are worth telling anyone.
      this.#registered = true;
      this.#host.emit({ event: 'registered', stream, role, stun: 'none' });
      this.setStatus('waiting');
      return;
    }
    const local = this.options.lan ? lanCandidates(this.#media?.address().port ?? 0) : [];
    if (local.length > 0) this.#host.send({ type: 'endpoint', stream, role, local });
    // Punch's own STUN (with the USERNAME it records us by), else --stun's, else the public
    // one Punch named in `welcome` (Workers).
    const target = m.bind ?? this.options.stun ?? this.#publicStun;
    if (target === undefined) {
      if (m.relay === null || m.relay === undefined) {
        this.#host.failed(this.#closeWith(NO_STUN));
        return;
      }
      this.#pairing?.relayNow();
    } else {
      this.#probe?.start(target);
      // No STUN answer in a few seconds: UDP is probably blocked; the relay (over TCP where
      // UDP fails) is then the only way anyone learns where this agent is.
      clearTimeout(this.#stunWatch);
      this.#stunWatch = setTimeout(() => {
        if (this.#probe?.mapped === undefined) this.#pairing?.relayNow();
      }, RELAY_AFTER_MS);
    }
    this.#registered = true;
    const stun = m.bind === null ? 'external' : 'punch';
    this.#host.emit({ event: 'registered', stream, role, stun });
    this.setStatus('waiting');
  }

  #onStunAnswer({ mapped, target }: StunAnswer): void {
    // An external STUN server: tell Punch what it saw (Punch checks the IP). Punch's own STUN
    // port recorded it already, by the USERNAME.
    if (target.username === undefined && this.#registered) {
      const { stream, role } = this.options;
      this.#host.send({ type: 'endpoint', stream, role, public: mapped });
    }
  }

  // ---- pairing and the media path -----------------------------------------------------------

  async #onPeer(m: PeerMessage): Promise<void> {
    const pairing = this.#pairing;
    if (pairing === undefined) return;
    this.#host.emit({ event: 'paired', remote: m.remote });
    // The same other side (Punch restarted, or we re-registered): keep the live path.
    if (pairing.holds(m)) return;
    this.setStatus('punching');
    if (!(await pairing.open(m)) || this.#closed) return;
    this.#host.emit({ event: 'local', commands: toolCommands(this.options, m) });
    const exec = this.options.exec;
    if (exec !== undefined && this.#exec === undefined)
      this.#exec = startExec(this.options, exec, m, {
        emit: (e) => {
          this.#host.emit(e);
        },
        stats: (stats) => {
          this.#srtStats = stats;
        },
        failed: (f) => {
          this.#host.failed(this.#closeWith(f));
        },
      });
  }

  // ---- data ---------------------------------------------------------------------------------

  #fromMedia(msg: Buffer, rinfo: RemoteInfo): void {
    if (this.#probe?.onDatagram(msg) === true) return;
    this.#pairing?.onDatagram(msg, { ip: rinfo.address, port: rinfo.port });
  }

  /** An SRT packet from the other agent, for the local tool. */
  #fromPath(packet: Buffer): void {
    this.#traffic.received(packet);
    this.#local?.deliver(packet);
    if (this.#status === 'direct' || this.#status === 'relay') this.setStatus('streaming');
  }

  /** An SRT packet from the local tool, for the other agent. */
  #fromLocal(packet: Buffer): void {
    // Not up yet: dropped; SRT retransmits its handshake.
    if (this.#pairing?.path?.send(packet) !== true) return;
    this.#traffic.sent(packet);
    if (this.#status === 'direct' || this.#status === 'relay') this.setStatus('streaming');
  }

  #reportHealth(): void {
    const path = this.#pairing?.path;
    const stats = this.#traffic.sample(path, this.#srtStats);
    // A direct path to the other side's relayed address is a relayed path all the same.
    const kind = this.#pairing?.kind;
    if (stats.path !== 'none' && kind !== undefined) stats.path = kind;
    if (this.#status === 'streaming' && stats.sendBps === 0 && stats.recvBps === 0)
      this.setStatus(kind ?? 'direct');
    // Only once registered on this connection: a report sent between a reconnect's `welcome`
    // and its `registered` would be refused (ERR_NOT_REGISTERED) and shown as a warning.
    if (this.#registered) {
      const { stream, role } = this.options;
      this.#host.send({ type: 'health', stream, role, stats });
    }
    if (path !== undefined) this.#host.emit({ event: 'health', stats });
  }
}
