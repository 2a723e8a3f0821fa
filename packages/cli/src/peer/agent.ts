import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { networkInterfaces } from 'node:os';
import {
  connectionStrings,
  type Endpoint,
  type ParsedServerMessage,
  type Tally,
  type Stats,
} from '@punch/core';
import { SrtLiveTransmit } from './exec.js';
import { Traffic } from './health.js';
import { SignalLink, type LinkEvent, type PeerMessage } from './link.js';
import { LocalSide } from './local.js';
import type { Addr, PathKind } from './media-path.js';
import type { PeerOptions } from './options.js';
import { Pairing } from './pairing.js';
import { StunProbe, type StunAnswer } from './stun-probe.js';

export type Status = 'connecting' | 'waiting' | 'paired' | 'punching' | 'direct' | 'streaming';

export type AgentEvent =
  | { event: 'status'; status: Status; detail?: string }
  | { event: 'registered'; stream: string; role: string; stun: 'punch' | 'external' }
  | { event: 'paired'; remote: Addr & { local?: Endpoint[] | undefined } }
  | {
      event: 'path';
      path: PathKind | 'none';
      via?: 'public' | 'local';
      remote?: Addr;
      reason?: string;
    }
  | { event: 'health'; stats: Stats }
  | { event: 'tally'; tally: 'program' | 'preview' | 'none' }
  | { event: 'peer-left' }
  | { event: 'local'; commands: Record<string, string> }
  | { event: 'error'; code: string; message: string; fatal: boolean }
  | { event: 'closed'; reason: string };

/** Exit codes of `punch peer` (documented in its help and docs/operators.md). */
export const EXIT = {
  ended: 0,
  error: 1,
  refused: 3,
  notFound: 4,
  noDirectPath: 6,
  portInUse: 7,
} as const;

const HEALTH_MS = 1000;

/**
 * The `punch peer` agent: registers over the WebSocket, learns its public UDP endpoint with
 * STUN from its media socket, punches a direct path when paired, forwards SRT packets between
 * that path and the local tool unchanged, reports health once a second, and rides out
 * restarts of either side or of Punch by reconnecting with backoff.
 */
export class Agent {
  readonly #o: PeerOptions;
  readonly #emit: (e: AgentEvent) => void;
  readonly #link: SignalLink;
  readonly #traffic = new Traffic();
  #media!: Socket;
  #local!: LocalSide;
  #pairing: Pairing | undefined;
  #exec: SrtLiveTransmit | undefined;
  #srtStats: Record<string, number> | undefined;
  #probe: StunProbe | undefined;
  #healthTimer: NodeJS.Timeout | undefined;
  #done!: (code: number) => void;
  #finished = false;
  #status: Status = 'connecting';

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
    try {
      this.#local = await LocalSide.open(
        this.#o.role === 'sender' ? 'send' : 'receive',
        this.#o.srtListen,
        this.#o.srtTarget,
        (packet) => {
          this.#fromLocal(packet);
        },
      );
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const where =
        this.#o.role === 'sender'
          ? `${this.#o.srtListen.host}:${this.#o.srtListen.port}`
          : `127.0.0.1:${this.#o.srtTarget.port + 1} (the agent's source port toward --srt-target)`;
      this.#fail(
        e.code === 'EADDRINUSE' ? 'ERR_PORT_IN_USE' : 'ERR_LOCAL_SOCKET',
        e.code === 'EADDRINUSE'
          ? `${where} is already in use: another agent or SRT tool holds it; choose another with --srt-listen or --srt-target`
          : `cannot open ${where}: ${e.message}`,
        EXIT.portInUse,
      );
      return exit;
    }
    // 4 MiB: at 100 Mbit/s the default ~208 KiB holds only ~15 ms of packets.
    this.#media = createSocket({ type: 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
    this.#media.on('message', (msg, rinfo) => {
      this.#fromMedia(msg, rinfo);
    });
    this.#media.on('error', () => undefined);
    await new Promise<void>((resolve) =>
      this.#media.bind(this.#o.mediaPort, this.#o.bind, () => {
        resolve();
      }),
    );
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
      role: this.#o.role,
      punchTimeoutMs: this.#o.punchTimeout * 1000,
      events: {
        up: (kind, remote, via) => {
          this.#emit({ event: 'path', path: kind, via, remote });
          this.#setStatus('direct');
        },
        down: (reason) => {
          this.#emit({ event: 'path', path: 'none', reason });
          this.#setStatus('punching');
        },
        failed: (seconds) => {
          this.#fail(
            'ERR_DIRECT_PATH_FAILED',
            `no direct path to the other side after ${seconds} s. One of the two networks probably has a symmetric NAT ` +
              '(a new public port for every destination) or blocks UDP. Direct SRT cannot pass it: use another network ' +
              '(e.g. a phone hotspot), forward a UDP port on one router, or use a relay.',
            EXIT.noDirectPath,
          );
        },
        data: (packet) => {
          this.#fromPath(packet);
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
    this.#probe?.stop();
    this.#pairing?.drop();
    this.#exec?.stop();
    this.#link.close();
    try {
      this.#media.close();
    } catch {
      // not open yet
    }
    try {
      this.#local.close();
    } catch {
      // not open yet
    }
    this.#done(code);
  }

  #setStatus(status: Status, detail?: string): void {
    if (status === this.#status && detail === undefined) return;
    this.#status = status;
    this.#emit(
      detail === undefined ? { event: 'status', status } : { event: 'status', status, detail },
    );
  }

  #fail(code: string, message: string, exit: number): void {
    this.#emit({ event: 'error', code, message, fatal: true });
    this.stop(exit);
  }

  // ---- signalling ---------------------------------------------------------------------------

  #onLink(e: LinkEvent): void {
    if (this.#finished) return;
    switch (e.type) {
      case 'connecting':
        this.#setStatus('connecting');
        break;
      case 'retrying':
        this.#setStatus(
          'connecting',
          `${e.reason}; retrying in ${(e.delayMs / 1000).toFixed(1)} s`,
        );
        break;
      case 'rejected':
        if (e.status === 404)
          this.#fail(
            e.code,
            `no session "${this.#o.session}" on ${this.#o.server}: it has ended, or the link is wrong`,
            EXIT.notFound,
          );
        else
          this.#fail(
            e.code,
            `Punch refused the token (${e.code}${e.detail === '' ? '' : `: ${e.detail}`}). Ask the producer for a new link.`,
            EXIT.refused,
          );
        break;
      case 'closed':
        // Until here media kept flowing: the punched path does not need Punch.
        if (e.kind === 'ended') {
          this.#emit({ event: 'closed', reason: e.reason === '' ? e.text : e.reason });
          this.stop(EXIT.ended);
        } else if (e.kind === 'refused')
          this.#fail(
            'ERR_TOKEN_EXPIRED',
            'the token is no longer valid; ask the producer for a new link',
            EXIT.refused,
          );
        else
          this.#fail(
            'ERR_REPLACED',
            `another agent registered as ${this.#o.role} of "${this.#o.stream}"; this one stops`,
            EXIT.error,
          );
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
        this.#link.send({ type: 'register', stream, role });
        this.#applyTally(m.tally);
        break;
      case 'registered': {
        const local = this.#o.lan ? lanCandidates(this.#mediaPort()) : [];
        if (local.length > 0) this.#link.send({ type: 'endpoint', stream, role, local });
        // Punch's own STUN (with the USERNAME it records us by), else the one named by --stun.
        const target = m.bind ?? this.#o.stun;
        if (target === undefined) {
          this.#fail(
            'ERR_NO_STUN',
            'this Punch server has no STUN: pass --stun HOST:PORT (a public STUN server)',
            EXIT.error,
          );
          return;
        }
        this.#probe?.start(target);
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
        this.#pairing?.drop();
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
        const { code, message } = m;
        if (code === 'ERR_STREAM_FORBIDDEN' || code === 'ERR_FORBIDDEN') {
          this.#fail(code, `${message}: this token cannot be ${role} of "${stream}"`, EXIT.refused);
        } else if (code === 'ERR_STREAM_UNKNOWN') {
          this.#fail(code, `${message}: check --stream`, EXIT.notFound);
        } else if (code === 'ERR_SLOT_TAKEN') {
          this.#fail(code, message, EXIT.error);
        } else {
          this.#emit({ event: 'error', code, message, fatal: false });
        }
        break;
      }
      default:
        break; // token: the link keeps it for its next connection; the rest is for dashboards
    }
  }

  #applyTally(tally: Tally): void {
    const state = tally.program.includes(this.#o.stream)
      ? 'program'
      : tally.preview.includes(this.#o.stream)
        ? 'preview'
        : 'none';
    this.#emit({ event: 'tally', tally: state });
  }

  // ---- endpoint discovery -------------------------------------------------------------------

  #mediaPort(): number {
    return this.#media.address().port;
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

  // ---- pairing and the punched path ---------------------------------------------------------

  async #onPeer(m: PeerMessage): Promise<void> {
    const pairing = this.#pairing;
    if (pairing === undefined) return;
    this.#emit({ event: 'paired', remote: m.remote });
    // The same other side (Punch restarted, or we re-registered): keep the live path.
    if (pairing.holds(m)) return;
    this.#setStatus('punching');
    if (!(await pairing.open(m)) || this.#finished) return;
    this.#showLocal(m);
  }

  #showLocal(m: PeerMessage): void {
    const commands = connectionStrings({
      server: this.#o.server,
      session: this.#o.session,
      stream: this.#o.stream,
      index: 0,
      passphrase: m.passphrase,
      pbkeylen: m.pbkeylen,
      latencyMs: m.latencyMs,
      sender: null,
      receiver: null,
      sendPort: this.#o.srtListen.port,
      receivePort: this.#o.srtTarget.port,
    });
    const mine = Object.fromEntries(
      Object.entries(commands)
        .filter(([k]) =>
          this.#o.role === 'sender'
            ? k.endsWith('-send') || k === 'obs' || k === 'vmix'
            : k.endsWith('-receive'),
        )
        .filter(([k]) => !k.startsWith('punch-peer') && !k.includes('rendezvous')),
    );
    this.#emit({ event: 'local', commands: mine });
    if (this.#o.exec !== undefined && this.#exec === undefined) this.#startExec(m);
  }

  #startExec(m: PeerMessage): void {
    const q = `passphrase=${m.passphrase}&pbkeylen=${m.pbkeylen}&latency=${m.latencyMs}`;
    const exec = this.#o.exec ?? '';
    const [input, output] =
      this.#o.role === 'sender'
        ? [exec, `srt://${this.#o.srtListen.host}:${this.#o.srtListen.port}?mode=caller&${q}`]
        : [`srt://${this.#o.srtTarget.host}:${this.#o.srtTarget.port}?mode=listener&${q}`, exec];
    this.#exec = new SrtLiveTransmit({
      input,
      output,
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
        this.#fail(error.code, error.message, EXIT.error);
      },
    });
    this.#exec.start();
  }

  // ---- data ---------------------------------------------------------------------------------

  #fromMedia(msg: Buffer, rinfo: RemoteInfo): void {
    if (this.#probe?.onDatagram(msg) === true) return;
    this.#pairing?.path?.onDatagram(msg, { ip: rinfo.address, port: rinfo.port });
  }

  /** An SRT packet from the other agent, for the local tool. */
  #fromPath(packet: Buffer): void {
    this.#traffic.received(packet.byteLength);
    this.#local.deliver(packet);
    if (this.#status === 'direct') this.#setStatus('streaming');
  }

  /** An SRT packet from the local tool, for the other agent. */
  #fromLocal(packet: Buffer): void {
    // Not up yet: dropped; SRT retransmits its handshake.
    if (this.#pairing?.path?.send(packet) !== true) return;
    this.#traffic.sent(packet.byteLength);
    if (this.#status === 'direct') this.#setStatus('streaming');
  }

  #reportHealth(): void {
    const path = this.#pairing?.path;
    const stats = this.#traffic.sample(path, this.#srtStats);
    if (this.#status === 'streaming' && stats.sendBps === 0 && stats.recvBps === 0)
      this.#setStatus('direct');
    // Registered (the probe has its server) on an open link: Punch takes it.
    if (this.#probe?.target !== undefined)
      this.#link.send({ type: 'health', stream: this.#o.stream, role: this.#o.role, stats });
    if (path !== undefined) this.#emit({ event: 'health', stats });
  }
}

/** This machine's LAN addresses with the media port: candidates for peers behind the same NAT. */
function lanCandidates(port: number): Endpoint[] {
  const out: Endpoint[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.family === 'IPv4' && !a.internal) out.push({ ip: a.address, port });
    }
  }
  return out.slice(0, 8);
}
