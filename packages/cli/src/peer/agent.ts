import type { ParsedServerMessage, Tally } from '@punch/core';
import { EXIT, type AgentEvent } from './events.js';
import { linkFailure, type Failure } from './failures.js';
import { SignalLink, type LinkEvent } from './link.js';
import type { HostPort, PeerOptions } from './options.js';
import { StreamAgent } from './stream-agent.js';
import { streamOptions } from './stream-options.js';

/** The server errors that answer a `register` (the link gives them to the stream that asked). */
const REGISTER_ERRORS = new Set([
  'ERR_SLOT_TAKEN',
  'ERR_STREAM_FORBIDDEN',
  'ERR_FORBIDDEN',
  'ERR_STREAM_UNKNOWN',
]);

/**
 * The `punch peer` agent: one signalling link to Punch (`link.ts`) carrying one stream, or,
 * with an all-streams token and `--receive`, every stream of the session (DESIGN.md "Streams
 * on show day"), each a {@link StreamAgent} with its own media socket, path and loopback port.
 * The agent handles what belongs to the link (welcome, reconnects, fresh tokens, the session
 * closing, a refused token) and routes each stream's messages to its part by `stream`.
 *
 * One stream: its failure ends the agent, with its exit code. Every stream: a stream that
 * finds no path waits for its other side to come back, one whose slot is held elsewhere waits
 * for it; a stream that cannot go on at all (its port is taken) stops, and the others carry
 * on; the agent ends when the session does, on a link failure, or once every stream has
 * stopped.
 */
export class Agent {
  readonly #o: PeerOptions;
  readonly #emit: (e: AgentEvent) => void;
  readonly #link: SignalLink;
  /** Every stream this agent carries, by name, in the session's order. */
  readonly #streams = new Map<string, StreamAgent>();
  /** Streams whose `register` awaits its answer, oldest first (errors carry no stream). */
  #pending: string[] = [];
  /** A `welcome` came on the current connection: registrations may be sent. */
  #welcomed = false;
  /** The latest tally, for a stream that opens after it came. */
  #tally: Tally = { program: [], preview: [] };
  /** The public STUN server the last `welcome` named (Workers), for streams without `--stun`. */
  #publicStun: HostPort | undefined;
  #done!: (code: number) => void;
  #finished = false;
  /** `--map` was checked against the session's streams. */
  #mapChecked = false;
  /** The first failure that stopped a stream: the exit code once every stream has stopped. */
  #firstFailure: Failure | undefined;

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

  /** Punch's ERR_REPLACED message (who took over), for the failure its close brings. */
  #replacedSaid: string | undefined;

  /** True when this agent receives every stream of the session. */
  get allStreams(): boolean {
    return this.#o.stream === undefined;
  }

  /** Runs until the session ends or a fatal error; resolves with the exit code. */
  async run(): Promise<number> {
    const exit = new Promise<number>((resolve) => {
      this.#done = resolve;
    });
    // One stream: its loopback port is open from the start (an SRT caller that gives up after
    // ~3 s finds it at once). Every stream: each opens as the session names it.
    if (this.#o.stream !== undefined && !(await this.#addStream(this.#o.stream))) return exit;
    this.#link.connect();
    return exit;
  }

  /** Stops everything (SIGINT). */
  stop(code: number = EXIT.ended): void {
    if (this.#finished) return;
    this.#finished = true;
    for (const s of this.#streams.values()) s.close();
    this.#link.close();
    this.#done(code);
  }

  #fail(f: Failure, stream?: string): void {
    this.#emit({
      event: 'error',
      code: f.code,
      message: f.message,
      fatal: true,
      ...(stream === undefined ? {} : { stream }),
    });
    this.stop(f.exit);
  }

  /** Opens stream `name` (number `streams.size` in the session's order); false if it failed. */
  async #addStream(name: string): Promise<boolean> {
    const o = streamOptions(this.#o, name, this.#streams.size);
    const stream = new StreamAgent(o, {
      send: (m) => {
        if (m.type === 'register') this.#pending.push(name);
        this.#link.send(m);
      },
      emit: (e) => {
        if (!this.#finished) this.#emit({ ...e, stream: name });
      },
      failed: (f) => {
        this.#streamFailed(stream, f);
      },
    });
    this.#streams.set(name, stream);
    const failure = await stream.open();
    if (failure !== undefined) {
      this.#streamFailed(stream, failure);
      return false;
    }
    if (this.#welcomed && !this.#finished) {
      stream.welcome(this.#publicStun);
      stream.tally(this.#tally);
    }
    return true;
  }

  #streamFailed(stream: StreamAgent, f: Failure): void {
    if (this.#finished) return;
    const name = stream.options.stream;
    if (!this.allStreams) {
      this.#fail(f, name);
      return;
    }
    this.#emit({ event: 'error', code: f.code, message: f.message, fatal: false, stream: name });
    // No path this time: the other side may come back from another network.
    if (!stream.closed) {
      stream.waitAgain();
      return;
    }
    stream.setStatus('stopped');
    this.#firstFailure ??= f;
    if ([...this.#streams.values()].every((s) => s.closed)) {
      this.#emit({
        event: 'error',
        code: this.#firstFailure.code,
        message: 'every stream has stopped',
        fatal: true,
      });
      this.stop(this.#firstFailure.exit);
    }
  }

  /**
   * A `--map` naming no stream of the session (a typo) would leave that stream at its port + i
   * unnoticed: say so. By the first `registered` every stream's view has arrived (Punch sends
   * them all with `welcome`, before it reads any registration).
   */
  #checkMap(): void {
    if (this.#mapChecked || !this.allStreams) return;
    this.#mapChecked = true;
    const unknown = [...this.#o.map.keys()].filter((n) => !this.#streams.has(n));
    if (unknown.length > 0)
      this.#emit({
        event: 'error',
        code: 'ERR_MAP_UNKNOWN',
        message: `--map names ${unknown.map((n) => `"${n}"`).join(', ')}, not a stream of this session (it has ${[...this.#streams.keys()].join(', ')})`,
        fatal: false,
      });
  }

  // ---- the link -----------------------------------------------------------------------------

  #onLink(e: LinkEvent): void {
    if (this.#finished) return;
    switch (e.type) {
      case 'connecting':
        this.#linkStatus();
        break;
      case 'retrying':
        this.#welcomed = false;
        this.#pending = [];
        for (const s of this.#streams.values()) s.linkLost();
        this.#linkStatus(`${e.reason}; retrying in ${(e.delayMs / 1000).toFixed(1)} s`);
        break;
      case 'closed':
        // Until here media kept flowing: the punched path does not need Punch.
        if (e.kind === 'ended') {
          // The `closed` message (closed or expired) usually came first and stopped the agent;
          // this is the close frame alone, whose reason is an error code: say what it means.
          this.#emit({ event: 'closed', reason: e.text });
          this.stop(EXIT.ended);
        } else this.#fail(linkFailure(e, this.#who(), this.#replacedSaid));
        break;
      case 'rejected':
        this.#fail(linkFailure(e, this.#who()));
        break;
      case 'message':
        this.#onMessage(e.message);
        break;
      case 'open':
        break; // Punch speaks first (welcome).
    }
  }

  /** Who this agent is, for a link failure's sentence. */
  #who(): Parameters<typeof linkFailure>[1] {
    const { server, session, role } = this.#o;
    return { server, session, role, stream: this.#o.stream ?? 'every stream' };
  }

  /** Connecting to Punch: one stream's status, or the agent's when it carries every stream. */
  #linkStatus(detail?: string): void {
    const one = this.allStreams ? undefined : [...this.#streams.values()][0];
    if (one !== undefined) one.setStatus('connecting', detail);
    else
      this.#emit(
        detail === undefined
          ? { event: 'status', status: 'connecting' }
          : { event: 'status', status: 'connecting', detail },
      );
  }

  #onMessage(m: ParsedServerMessage): void {
    switch (m.type) {
      case 'welcome':
        // Punch (on Workers) names a public STUN server: the endpoint learnt through it is the
        // media socket's IPv4 one, which Punch accepts only from the WebSocket's own IP.
        if (m.publicStun !== undefined && this.#o.stun === undefined && this.#link.useIpv4()) break;
        // A new connection: nothing is registered on it until Punch says so.
        this.#welcomed = true;
        this.#publicStun = m.publicStun;
        this.#pending = [];
        this.#tally = m.tally;
        for (const s of this.#streams.values()) {
          s.welcome(this.#publicStun);
          s.tally(m.tally);
        }
        break;
      case 'stream':
        // Every covered stream's view follows `welcome`, in the session's order: with an
        // all-streams token that is how this agent learns the streams and their numbers.
        if (this.allStreams && !this.#streams.has(m.name)) void this.#addStream(m.name);
        break;
      case 'registered':
        this.#checkMap();
        this.#pending = this.#pending.filter((n) => n !== m.stream);
        this.#streams.get(m.stream)?.onMessage(m);
        break;
      case 'peer':
      case 'peer-left':
        this.#streams.get(m.stream)?.onMessage(m);
        break;
      case 'tally':
        this.#tally = m;
        for (const s of this.#streams.values()) s.tally(m);
        break;
      case 'closed':
        this.#emit({ event: 'closed', reason: m.reason });
        this.stop(EXIT.ended);
        break;
      case 'error': {
        // A report already on its way when the stream's slot was taken: that stream knows.
        if (m.code === 'ERR_NOT_REGISTERED' && this.#streams.get(m.stream ?? '')?.waiting === true)
          break;
        if (m.code === 'ERR_REPLACED') {
          // One slot of several taken (this agent receives every stream): that stream alone
          // waits for it, the others go on.
          const one =
            m.stream === undefined || m.role === undefined
              ? undefined
              : this.#streams.get(m.stream);
          if (one !== undefined) one.replaced(m.message);
          // Taken over: Punch says by whom, then closes; the close's failure says it, once.
          else this.#replacedSaid = m.message;
          break;
        }
        // Punch names the refused message's stream; an older one did not, but answers each
        // `register` in order, so there a refusal belongs to the oldest one still unanswered.
        let name: string | undefined;
        if (REGISTER_ERRORS.has(m.code)) {
          name =
            m.stream === undefined ? this.#pending[0] : this.#pending.find((n) => n === m.stream);
          this.#pending = this.#pending.filter((n) => n !== name);
        }
        const stream = name === undefined ? undefined : this.#streams.get(name);
        if (stream !== undefined) stream.refused(m.code, m.message);
        else this.#emit({ event: 'error', code: m.code, message: m.message, fatal: false });
        break;
      }
      case 'token':
        // The link keeps the token for its next connection; fresh relay credentials replace
        // the old ones for the next allocation.
        for (const s of this.#streams.values()) s.renew(m.relay);
        break;
      default:
        break; // the rest is for dashboards
    }
  }
}
