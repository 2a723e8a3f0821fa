import type { RemoteInfo, Socket } from 'node:dgram';
import type { ParsedServerMessage, Tally } from '@punch/core';
import { lanCandidates } from './candidates.js';
import { EXIT, type AgentEvent, type Status } from './events.js';
import { SrtLiveTransmit } from './exec.js';
import { assertExecPortsFree, execBinds } from './exec-ports.js';
import {
  NO_STUN,
  execFailure,
  localBindFailure,
  mediaBindFailure,
  noPathFailure,
  linkFailure,
  serverErrorFailure,
  type Failure,
} from './failures.js';
import { Traffic } from './health.js';
import { SignalLink, type LinkEvent, type PeerMessage } from './link.js';
import { LocalSide } from './local.js';
import { openMediaSocket } from './media-socket.js';
import type { PeerOptions } from './options.js';
import { Pairing, RELAY_AFTER_MS } from './pairing.js';
import { StunProbe, type StunAnswer } from './stun-probe.js';
import { execEnds, toolCommands } from './tool-commands.js';

const HEALTH_MS = 1000;
/** How long a refused first registration (ERR_SLOT_TAKEN) is asked again before failing. */
const SLOT_WAIT_MS = 7000;

/**
 * The `punch peer` agent, coordinating its parts: the signalling link to Punch (`link.ts`),
 * the STUN probe that learns its public UDP endpoint from the media socket (`stun-probe.ts`),
 * the media path to the other agent once paired (`path.ts`, behind `media-path.ts`), the
 * loopback side where the user's SRT tool connects (`local.ts`) and, with `--exec`,
 * srt-live-transmit (`exec.ts`). It forwards SRT packets unchanged, reports health once a
 * second, and rides out restarts of either side or of Punch.
 */
export class Agent {
  readonly #o: PeerOptions;
  readonly #emit: (e: AgentEvent) => void;
  readonly #link: SignalLink;
  readonly #traffic = new Traffic();
  #media: Socket | undefined;
  #local: LocalSide | undefined;
  #probe: StunProbe | undefined;
  /** When this agent first asked for its slot (ms since the epoch), for ERR_SLOT_TAKEN. */
  #firstRegisterAt = 0;
  #registerRetry: NodeJS.Timeout | undefined;
  /** Registered once: later registrations are this agent's own, after a reconnect. */
  #everRegistered = false;
  /** Registered on the current connection (reset by each `welcome`). */
  #registered = false;
  #pairing: Pairing | undefined;
  #exec: SrtLiveTransmit | undefined;
  #srtStats: Record<string, number> | undefined;
  #healthTimer: NodeJS.Timeout | undefined;
  #done!: (code: number) => void;
  #finished = false;
  #status: Status = 'connecting';
  /** Relays when STUN stays unanswered after registering (UDP blocked). */
  #stunWatch: NodeJS.Timeout | undefined;

  constructor(options: PeerOptions, emit: (e: AgentEvent) => void) {
    this.#o = options;
    this.#emit = emit;
    this.#link = new SignalLink({
      server: options.server,
      session: options.session,
      token: options.token,
      ipv4: options.stun !== undefined,
      onEvent: (e) => {
        this.#onLink(e);
      },
    });
  }

  /** Runs until the session ends or a fatal error; resolves with the exit code. */
  async run(): Promise<number> {
    const exit = new Promise<number>((resolve) => {
      this.#done = resolve;
    });
    const role = this.#o.role;
    try {
      this.#local = await LocalSide.open(
        role === 'sender' ? 'send' : 'receive',
        this.#o.srtListen,
        this.#o.srtTarget,
        (packet) => {
          this.#fromLocal(packet);
        },
      );
      await assertExecPortsFree(execBinds(this.#o)); // found now, not once the other side is up
    } catch (err) {
      this.#fail(localBindFailure(err as NodeJS.ErrnoException, this.#o));
      return exit;
    }
    try {
      this.#media = await openMediaSocket(this.#o.mediaPort, this.#o.bind, (msg, rinfo) => {
        this.#fromMedia(msg, rinfo);
      });
    } catch (err) {
      this.#fail(mediaBindFailure(err as NodeJS.ErrnoException, this.#o));
      return exit;
    }
    this.#probe = new StunProbe({
      socket: this.#media,
      onAnswer: (answer) => {
        this.#onStunAnswer(answer);
      },
    });
    this.#pairing = new Pairing({
      socket: this.#media,
      session: this.#o.session,
      stream: this.#o.stream,
      role,
      punchTimeoutMs: this.#o.punchTimeout * 1000,
      events: {
        up: (kind, remote, via) => {
          this.#emit({ event: 'path', path: kind, via, remote });
          this.#setStatus(kind);
        },
        down: (reason) => {
          this.#emit({ event: 'path', path: 'none', reason });
          this.#setStatus('punching');
        },
        failed: (seconds, relay) => {
          this.#fail(noPathFailure(seconds, relay));
        },
        data: (packet) => {
          this.#fromPath(packet);
        },
        relayed: (address, why) => {
          const transport = this.#pairing?.relay?.transport ?? 'udp';
          this.#emit({ event: 'relay', address, transport, why });
          this.#link.send({ type: 'endpoint', stream: this.#o.stream, role, relay: address });
        },
        relayProblem: (message) => {
          this.#emit({ event: 'error', code: 'ERR_RELAY', message, fatal: false });
        },
      },
    });
    this.#healthTimer = setInterval(() => {
      this.#reportHealth();
    }, HEALTH_MS);
    this.#link.connect();
    return exit;
  }

  /** Stops everything (SIGINT). */
  stop(code: number = EXIT.ended): void {
    if (this.#finished) return;
    this.#finished = true;
    clearInterval(this.#healthTimer);
    clearTimeout(this.#stunWatch);
    clearTimeout(this.#registerRetry);
    this.#probe?.stop();
    this.#pairing?.close();
    this.#exec?.stop();
    this.#link.close();
    this.#media?.close();
    this.#local?.close();
    this.#done(code);
  }

  #setStatus(status: Status, detail?: string): void {
    if (status === this.#status && detail === undefined) return;
    this.#status = status;
    this.#emit(
      detail === undefined ? { event: 'status', status } : { event: 'status', status, detail },
    );
  }

  #fail(f: Failure): void {
    this.#emit({ event: 'error', code: f.code, message: f.message, fatal: true });
    this.stop(f.exit);
  }

  // ---- signalling ---------------------------------------------------------------------------

  #onLink(e: LinkEvent): void {
    if (this.#finished) return;
    switch (e.type) {
      case 'connecting':
        this.#setStatus('connecting');
        break;
      case 'retrying':
        // Punch is away: whether the other side comes back cannot be known from here.
        this.#pairing?.linkLost();
        this.#setStatus(
          'connecting',
          `${e.reason}; retrying in ${(e.delayMs / 1000).toFixed(1)} s`,
        );
        break;
      case 'closed':
        // Until here media kept flowing: the punched path does not need Punch.
        if (e.kind === 'ended') {
          // The `closed` message (closed or expired) usually came first and stopped the agent;
          // this is the close frame alone, whose reason is an error code: say what it means.
          this.#emit({ event: 'closed', reason: e.text });
          this.stop(EXIT.ended);
        } else this.#fail(linkFailure(e, this.#o));
        break;
      case 'rejected':
        this.#fail(linkFailure(e, this.#o));
        break;
      case 'message':
        this.#onMessage(e.message);
        break;
      case 'open':
        break; // Punch speaks first (welcome).
    }
  }

  #onMessage(m: ParsedServerMessage): void {
    const { stream, role } = this.#o;
    switch (m.type) {
      case 'welcome':
        // A new connection: nothing is registered on it until Punch says so.
        this.#registered = false;
        this.#register();
        this.#applyTally(m.tally);
        break;
      case 'registered': {
        this.#everRegistered = true;
        const mode = m.mode ?? 'auto';
        this.#pairing?.configure(mode, m.relay ?? null);
        // Registered again (a reconnect): Punch learns the allocation again, once the relay
        // confirms it still holds it (Punch, and the relay in it, may have restarted).
        if (this.#pairing?.relay !== undefined)
          void this.#pairing.recheck().then((relay) => {
            if (relay !== undefined) this.#link.send({ type: 'endpoint', stream, role, relay });
          });
        if (mode === 'always') {
          // IP privacy: the other side only ever learns the relayed address, so neither the
          // public endpoint nor LAN addresses are worth telling anyone.
          this.#registered = true;
          this.#emit({ event: 'registered', stream, role, stun: 'none' });
          this.#setStatus('waiting');
          break;
        }
        const local = this.#o.lan ? lanCandidates(this.#media?.address().port ?? 0) : [];
        if (local.length > 0) this.#link.send({ type: 'endpoint', stream, role, local });
        // Punch's own STUN (with the USERNAME it records us by), else the one named by --stun.
        const target = m.bind ?? this.#o.stun;
        if (target === undefined) {
          if (m.relay === null || m.relay === undefined) {
            this.#fail(NO_STUN);
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
        this.#emit({
          event: 'registered',
          stream,
          role,
          stun: m.bind === null ? 'external' : 'punch',
        });
        this.#setStatus('waiting');
        break;
      }
      case 'peer':
        void this.#onPeer(m);
        break;
      case 'peer-left':
        this.#pairing?.leave();
        this.#emit({ event: 'peer-left' });
        this.#setStatus('waiting');
        break;
      case 'tally':
        this.#applyTally(m);
        break;
      case 'closed':
        this.#emit({ event: 'closed', reason: m.reason });
        this.stop(EXIT.ended);
        break;
      case 'error': {
        // A holder that is really gone (this agent, crashed and restarted) stops looking live
        // within 5 s: ask again for a little longer than that before giving up.
        if (m.code === 'ERR_SLOT_TAKEN' && Date.now() - this.#firstRegisterAt < SLOT_WAIT_MS) {
          this.#setStatus('connecting', 'another agent holds this slot; asking again');
          clearTimeout(this.#registerRetry);
          this.#registerRetry = setTimeout(() => {
            this.#register();
          }, 1000);
          break;
        }
        const f = serverErrorFailure(m.code, m.message, this.#o);
        if (f !== undefined) this.#fail(f);
        else this.#emit({ event: 'error', code: m.code, message: m.message, fatal: false });
        break;
      }
      case 'token':
        // The link keeps the token for its next connection; fresh relay credentials replace
        // the old ones for the next allocation.
        if (m.relay !== undefined && m.relay !== null) this.#pairing?.renew(m.relay);
        break;
      default:
        break; // the rest is for dashboards
    }
  }

  /** Asks for the slot on the current connection. */
  #register(): void {
    if (this.#finished) return;
    if (this.#firstRegisterAt === 0) this.#firstRegisterAt = Date.now();
    const { stream, role } = this.#o;
    // Registering again after a reconnect takes over this agent's own slot: its old socket
    // may still look live to Punch for a few seconds.
    this.#link.send({
      type: 'register',
      stream,
      role,
      ...(this.#o.takeover || this.#everRegistered ? { takeover: true } : {}),
    });
  }

  #applyTally(tally: Tally): void {
    const stream = this.#o.stream;
    const state = tally.program.includes(stream)
      ? 'program'
      : tally.preview.includes(stream)
        ? 'preview'
        : 'none';
    this.#emit({ event: 'tally', tally: state });
  }

  #onStunAnswer({ mapped, target }: StunAnswer): void {
    // An external STUN server: tell Punch what it saw (Punch checks the IP). Punch's own STUN
    // port recorded it already, by the USERNAME.
    if (target.username === undefined)
      this.#link.send({
        type: 'endpoint',
        stream: this.#o.stream,
        role: this.#o.role,
        public: mapped,
      });
  }

  // ---- pairing and the media path -----------------------------------------------------------

  async #onPeer(m: PeerMessage): Promise<void> {
    const pairing = this.#pairing;
    if (pairing === undefined) return;
    this.#emit({ event: 'paired', remote: m.remote });
    // The same other side (Punch restarted, or we re-registered): keep the live path.
    if (pairing.holds(m)) return;
    this.#setStatus('punching');
    if (!(await pairing.open(m)) || this.#finished) return;
    this.#emit({ event: 'local', commands: toolCommands(this.#o, m) });
    if (this.#o.exec !== undefined && this.#exec === undefined) this.#startExec(this.#o.exec, m);
  }

  #startExec(exec: string, m: PeerMessage): void {
    const [input, output] = execEnds(this.#o, exec, m);
    this.#exec = new SrtLiveTransmit({
      input,
      output,
      binds: execBinds(this.#o),
      onOutput: (line) => {
        this.#emit({ event: 'exec', line });
      },
      onStats: (stats) => {
        this.#srtStats = stats;
      },
      onExit: (code) => {
        this.#emit({
          event: 'error',
          code: 'ERR_EXEC_EXITED',
          message: `srt-live-transmit exited (${code ?? 'signal'}); restarting`,
          fatal: false,
        });
      },
      onError: (error) => {
        // The agent was asked to run it and cannot: carrying on would move no media.
        this.#fail(execFailure(error));
      },
    });
    this.#exec.start();
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
    if (this.#status === 'direct' || this.#status === 'relay') this.#setStatus('streaming');
  }

  /** An SRT packet from the local tool, for the other agent. */
  #fromLocal(packet: Buffer): void {
    // Not up yet: dropped; SRT retransmits its handshake.
    if (this.#pairing?.path?.send(packet) !== true) return;
    this.#traffic.sent(packet);
    if (this.#status === 'direct' || this.#status === 'relay') this.#setStatus('streaming');
  }

  #reportHealth(): void {
    const path = this.#pairing?.path;
    const stats = this.#traffic.sample(path, this.#srtStats);
    // A direct path to the other side's relayed address is a relayed path all the same.
    const kind = this.#pairing?.kind;
    if (stats.path !== 'none' && kind !== undefined) stats.path = kind;
    if (this.#status === 'streaming' && stats.sendBps === 0 && stats.recvBps === 0)
      this.#setStatus(kind ?? 'direct');
    // Only once registered on this connection: a report sent between a reconnect's `welcome`
    // and its `registered` would be refused (ERR_NOT_REGISTERED) and shown as a warning.
    if (this.#registered)
      this.#link.send({ type: 'health', stream: this.#o.stream, role: this.#o.role, stats });
    if (path !== undefined) this.#emit({ event: 'health', stats });
  }
}
