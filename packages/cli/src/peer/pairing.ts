import type { Socket } from 'node:dgram';
import { backoffDelay, deriveTunnelKey, type RelayCredentials, type RelayMode } from '@punch/core';
import type { PeerMessage } from './link.js';
import type { Addr, MediaPath, PathEvents, PathKind, Via } from './media-path.js';
import { PunchedPath } from './path.js';
import { Relay } from './relay.js';

/** With no direct path after this long, `auto` relays (DESIGN.md "The relay": "a few seconds"). */
export const RELAY_AFTER_MS = 4000;
/** A relay path silent this long is gone (see `#openRelayPath`). */
const RELAY_SILENCE_MS = 3000;
/** While relaying, the direct path is tried again this long after each failed search. */
const DIRECT_RETRY_MS = 15_000;

/** A path's events, with `up` naming the kind of path that came up, and the relay's. */
export interface PairingEvents extends Omit<PathEvents, 'up' | 'failed'> {
  /** A path carries the media now: a first one, or a switch between direct and relay. */
  up(kind: PathKind, remote: Addr, via: Via): void;
  /** No way through after `seconds`; `relay` says why the relay did not help, if it was tried. */
  failed(seconds: number, relay: string | undefined): void;
  /** A relayed address was allocated (tell Punch: `endpoint {relay}`), and why. */
  relayed(address: Addr, why: RelayReason): void;
  /** Something about the relay the operator should know, not fatal by itself. */
  relayProblem(message: string): void;
}

/** Why the agent relays: what the status line and the `relay` event say. */
export type RelayReason =
  'no-direct-path' | 'other-side-relays' | 'always' | 'udp-blocked' | 'relay-lost';

export interface PairingOptions {
  /** The media socket, which the paths punch from and send on (TURN too). */
  readonly socket: Socket;
  readonly session: string;
  readonly stream: string;
  readonly role: 'sender' | 'receiver';
  /** How long a path may look for a way through before it fails. */
  readonly punchTimeoutMs: number;
  readonly events: PairingEvents;
}

/**
 * The media paths for the agent's current pairing (Punch's `peer` message). It derives the
 * probe key from the stream's passphrase and opens the direct path to the other side's
 * candidates; when that finds no way through within a few seconds (or the other side relays,
 * or the session relays always), it allocates on the TURN relay Punch named and runs the same
 * authenticated probes through it. Media takes the direct path whenever it is up, else the
 * relayed one; the direct path keeps being tried while relaying, and media moves to it when it
 * opens, without the SRT tool noticing. A `peer` naming the address a live path already uses
 * keeps that path (Punch restarted, or the agent re-registered).
 */
export class Pairing {
  readonly #o: PairingOptions;
  readonly #relay: Relay;
  #mode: RelayMode = 'auto';
  #credentials: RelayCredentials | null = null;
  #peer: PeerMessage | undefined;
  #key: { passphrase: string; key: CryptoKey } | undefined;
  #direct: PunchedPath | undefined;
  #relayed: PunchedPath | undefined;
  /** Which path media took last (the one `up` named). */
  #active: PathKind | undefined;
  /** Bumped by every open and drop: an open overtaken while it derived its key gives up. */
  #generation = 0;
  /** When the current search for a way through must have found one (ms since the epoch). */
  #searchEndsAt: number | undefined;
  /** Fails a search the other side walked away from (see `leave`). */
  #orphaned: NodeJS.Timeout | undefined;
  #relayTimer: NodeJS.Timeout | undefined;
  /** Allocations lost in a row, for the backoff before the next (see `#relayLost`). */
  #relayLosses = 0;
  #reallocate: NodeJS.Timeout | undefined;
  #directRetry: NodeJS.Timeout | undefined;
  /** Why the last allocation failed, for the failure's sentence. */
  #relayError: string | undefined;
  #directFailed = false;

  constructor(options: PairingOptions) {
    this.#o = options;
    this.#relay = new Relay(options.socket, {
      data: (packet, from) => {
        this.#relayed?.onDatagram(packet, from);
      },
      lost: (reason) => {
        this.#relayLost(reason);
      },
    });
  }

  /** The path media takes now: the direct one when up, else the relayed one, else the search. */
  get path(): MediaPath | undefined {
    if (this.#direct?.up === true) return this.#direct;
    if (this.#relayed?.up === true) return this.#relayed;
    return this.#direct ?? this.#relayed;
  }

  /** The relay allocation's address and server, while allocated. */
  get relay(): { address: Addr; transport: 'udp' | 'tcp' } | undefined {
    const address = this.#relay.relayed;
    const server = this.#relay.server;
    return address === undefined || server === undefined
      ? undefined
      : { address, transport: server.transport };
  }

  /**
   * What Punch said at registration: the session's relay mode and this socket's TURN
   * credentials (also renewed with each fresh token). In `always` mode the relay is allocated
   * at once, before any pairing.
   */
  configure(mode: RelayMode, credentials: RelayCredentials | null): void {
    this.#mode = mode;
    if (credentials !== null) this.#credentials = credentials;
    if (mode === 'always') void this.#useRelay('always');
  }

  /** The kind of path media takes now, while one is up. */
  get kind(): PathKind | undefined {
    return this.path?.up === true ? this.#active : undefined;
  }

  /** Fresh credentials (with a fresh token): the next allocation uses them. */
  renew(credentials: RelayCredentials): void {
    this.#credentials = credentials;
  }

  /**
   * Allocates now, before any pairing: this agent cannot be reached otherwise (its STUN got no
   * answer, or it has no STUN server).
   */
  relayNow(): void {
    if (this.#mode === 'auto') void this.#useRelay('udp-blocked');
  }

  /**
   * Punch was away and is back: it may have restarted, and its relay forgotten the allocation.
   * Resolves to the relayed address when the allocation is still held (tell Punch again);
   * otherwise a new one is being made (`relayed` follows) and it resolves to undefined.
   */
  async recheck(): Promise<Addr | undefined> {
    return (await this.#relay.check()) ? this.#relay.relayed : undefined;
  }

  /** Offers a datagram of the media socket: the relay's server first, then the direct path. */
  onDatagram(packet: Buffer, from: Addr): void {
    if (this.#relay.onDatagram(packet, from)) return;
    this.#direct?.onDatagram(packet, from);
  }

  /**
   * True when a path is up and `m` leaves it nothing to redo: `m` names the address it sends
   * to, or the very same other side it was opened for. The second covers a path up on an
   * address learned from the other side's own probes (its NAT mapped differently towards us
   * than towards STUN, or it reached our relayed address straight from its socket), which no
   * `peer` names.
   */
  holds(m: PeerMessage): boolean {
    const prev = this.#peer;
    const current = this.path?.up === true ? this.path.remote : undefined;
    if (current === undefined || prev === undefined) return false;
    if (JSON.stringify(prev.remote.relay) !== JSON.stringify(m.remote.relay)) return false;
    if (sameRemote(prev, m)) return true;
    return [m.remote, ...(m.remote.local ?? []), ...(m.remote.relay ? [m.remote.relay] : [])].some(
      (c) => c.ip === current.ip && c.port === current.port,
    );
  }

  /**
   * Opens the paths to `m`'s other side (replacing the current ones). False when overtaken
   * meanwhile (by another `open`, or `drop`): no path was opened.
   */
  async open(m: PeerMessage): Promise<boolean> {
    const sameSide = this.#peer !== undefined && sameRemote(this.#peer, m);
    const keepDirect = sameSide && this.#direct !== undefined;
    this.#stopPaths(keepDirect);
    const generation = this.#generation;
    if (this.#key?.passphrase !== m.passphrase) {
      const key = await deriveTunnelKey(m.passphrase, this.#o.session, this.#o.stream);
      if (generation !== this.#generation) return false;
      this.#key = { passphrase: m.passphrase, key };
    }
    this.#peer = m;
    this.#searchEndsAt ??= Date.now() + this.#o.punchTimeoutMs;
    if (this.#mode !== 'always' && !keepDirect) this.#openDirect();
    // The same other side, now also relaying: its relayed address is one more way to it.
    else if (keepDirect && m.remote.relay !== undefined) this.#direct?.addRelay(m.remote.relay);
    // The other side relays, or this session always does: relay too, now. Else give the direct
    // path a few seconds first.
    if (m.remote.relay !== undefined || this.#mode === 'always')
      void this.#useRelay(this.#mode === 'always' ? 'always' : 'other-side-relays');
    else if (this.#relay.relayed !== undefined) this.#openRelayPath();
    else
      this.#relayTimer ??= setTimeout(() => {
        this.#relayTimer = undefined;
        if (this.#direct?.up !== true) void this.#useRelay('no-direct-path');
      }, RELAY_AFTER_MS);
    return true;
  }

  /**
   * The other side left. Its paths close; but when no way through had been found yet, the
   * search still fails at its deadline unless the other side comes back: two agents that both
   * give up at about the same time must both say so, not leave one waiting for ever because
   * the other's exit reached it first.
   */
  leave(): void {
    const endsAt = this.#searchEndsAt;
    this.drop();
    if (endsAt === undefined) return;
    this.#searchEndsAt = endsAt;
    this.#orphaned = setTimeout(
      () => {
        this.#orphaned = undefined;
        if (this.path === undefined)
          this.#o.events.failed(this.#o.punchTimeoutMs / 1000, undefined);
      },
      Math.max(0, endsAt - Date.now()),
    );
  }

  /**
   * Punch is unreachable: whether the other side comes back cannot be known, so a search it
   * walked away from no longer fails on its own; the agent waits for the next `peer`, as it
   * does for any pairing (a live search keeps its own deadline).
   */
  linkLost(): void {
    if (this.path !== undefined) return;
    clearTimeout(this.#orphaned);
    this.#orphaned = undefined;
  }

  /** Closes the paths and forgets the search (a new pairing); the allocation stays. */
  drop(): void {
    this.#stopPaths(false);
    this.#peer = undefined;
    this.#searchEndsAt = undefined;
    this.#directFailed = false;
  }

  /** Closes everything, the relay allocation included (the agent stops). */
  close(): void {
    this.drop();
    clearTimeout(this.#reallocate);
    this.#relay.close();
  }

  #stopPaths(keepDirect: boolean): void {
    this.#generation++;
    clearTimeout(this.#orphaned);
    this.#orphaned = undefined;
    clearTimeout(this.#relayTimer);
    this.#relayTimer = undefined;
    if (!keepDirect) {
      clearTimeout(this.#directRetry);
      this.#directRetry = undefined;
      this.#direct?.close();
      this.#direct = undefined;
    }
    this.#closeRelayPath();
    if (!keepDirect) this.#active = undefined;
  }

  #closeRelayPath(): void {
    this.#relayed?.close();
    this.#relayed = undefined;
  }

  #openDirect(): void {
    const m = this.#peer;
    const key = this.#key?.key;
    if (m === undefined || key === undefined) return;
    const path: PunchedPath = new PunchedPath({
      socket: this.#o.socket,
      key,
      role: this.#o.role,
      remote: m.remote,
      punchTimeoutMs: this.#o.punchTimeoutMs,
      events: this.#pathEvents(() => path),
    });
    this.#direct = path;
  }

  /** Allocates (once) and opens the relay path, when Punch handed out credentials. */
  async #useRelay(why: RelayReason): Promise<void> {
    const credentials = this.#credentials;
    if (credentials === null) return;
    const had = this.#relay.relayed;
    try {
      const address = await this.#relay.allocate(credentials);
      this.#relayError = undefined;
      if (had?.ip !== address.ip || had.port !== address.port) this.#o.events.relayed(address, why);
      this.#openRelayPath();
    } catch (err) {
      this.#relayError = (err as Error).message;
      this.#o.events.relayProblem(this.#relayError);
      // Nothing else left to try: the search has failed.
      if (this.#directFailed || this.#mode === 'always') this.#fail();
    }
  }

  /** A relay path to the other side's relayed (and public) address, through the allocation. */
  #openRelayPath(): void {
    const m = this.#peer;
    const key = this.#key?.key;
    if (m === undefined || key === undefined || this.#relay.relayed === undefined) return;
    if (this.#relayed !== undefined) return;
    const { remote } = m;
    const targets: Addr[] =
      this.#mode === 'always' || remote.relay === undefined
        ? [remote.relay ?? { ip: remote.ip, port: remote.port }]
        : [remote.relay, { ip: remote.ip, port: remote.port }];
    this.#relay.permit(targets).catch((err: unknown) => {
      this.#o.events.relayProblem(`relay permission refused: ${(err as Error).message}`);
    });
    const generation = this.#generation;
    const [first, second] = targets;
    if (first === undefined) return;
    const path: PunchedPath = new PunchedPath({
      socket: this.#o.socket,
      transport: (parts, to) => {
        if (generation === this.#generation) this.#relay.transport(parts, to);
      },
      key,
      role: this.#o.role,
      remote: { ...first, ...(second === undefined ? {} : { relay: second }) },
      punchTimeoutMs: this.#o.punchTimeoutMs,
      // A relay's round trip is steady: three missed pings mean the allocation (or the relay)
      // is gone, and allocating again must beat SRT's own 5 s peer-idle timeout.
      silenceMs: RELAY_SILENCE_MS,
      events: this.#pathEvents(() => path),
    });
    this.#relayed = path;
  }

  /** The events of `path()` (direct or relayed), in terms of the media's path. */
  #pathEvents(path: () => PunchedPath): PathEvents {
    const events = this.#o.events;
    return {
      up: (remote, via) => {
        this.#searchEndsAt = undefined;
        const active = this.path;
        if (active !== path()) return; // the relay came up while direct carries the media
        const kind = path().kind === 'direct' && via === 'relay' ? 'relay' : path().kind;
        this.#active = kind;
        if (path().kind === 'relay') this.#relayLosses = 0;
        events.up(kind, remote, path().kind === 'relay' ? 'relay' : via);
      },
      down: (reason) => {
        if (path() === this.#relayed) {
          // A relay path that went silent: its allocation may be gone (the relay restarted).
          this.#relay.release();
          this.#relayLost(reason);
        }
        const other = this.path;
        if (other?.up === true && other.remote !== undefined) {
          const kind = other.kind;
          this.#active = kind;
          events.up(kind, other.remote, kind === 'relay' ? 'relay' : 'public');
          return;
        }
        this.#active = undefined;
        events.down(reason);
      },
      failed: () => {
        if (path() === this.#direct) this.#directFailedNow();
        else if (this.#direct?.up !== true) this.#fail();
      },
      data: (packet) => {
        events.data(packet);
      },
    };
  }

  /**
   * The allocation is gone (or its path went silent): allocate again, at once the first time,
   * then backing off, so a relay that keeps losing it (or a hostile one answering 437 to
   * everything) is not hammered; after a path stays up, the count starts again.
   */
  #relayLost(reason: string): void {
    this.#closeRelayPath();
    const attempt = this.#relayLosses++;
    const delay =
      attempt === 0 ? 0 : backoffDelay(attempt, { baseMs: 500, capMs: 15_000, jitter: 'narrow' });
    this.#o.events.relayProblem(
      `relay allocation lost (${reason}); allocating again${delay > 0 ? ` in ${(delay / 1000).toFixed(1)} s` : ''}`,
    );
    clearTimeout(this.#reallocate);
    this.#reallocate = setTimeout(() => {
      this.#reallocate = undefined;
      void this.#useRelay('relay-lost');
    }, delay);
  }

  /** The direct search failed: relay if possible (and try direct again later), else fail. */
  #directFailedNow(): void {
    this.#directFailed = true;
    this.#direct?.close();
    this.#direct = undefined;
    if (this.#credentials === null) {
      this.#fail();
      return;
    }
    if (this.#relayed?.up !== true) void this.#useRelay('no-direct-path');
    clearTimeout(this.#directRetry);
    this.#directRetry = setTimeout(() => {
      this.#directRetry = undefined;
      if (this.#direct === undefined && this.#peer !== undefined) this.#openDirect();
    }, DIRECT_RETRY_MS);
  }

  #fail(): void {
    if (this.path?.up === true) return;
    const relay =
      this.#credentials === null
        ? 'Punch offered no relay'
        : (this.#relayError ?? 'no answer through the relay either');
    this.#o.events.failed(this.#o.punchTimeoutMs / 1000, relay);
  }
}

/** True when two `peer` messages name the same other side (public and LAN endpoints). */
function sameRemote(a: PeerMessage, b: PeerMessage): boolean {
  const strip = (m: PeerMessage): string =>
    JSON.stringify([m.remote.ip, m.remote.port, m.remote.local ?? []]);
  return strip(a) === strip(b) && a.passphrase === b.passphrase;
}
