import type { StunAddress } from '@punch/core';
import { TokenBucket } from './bandwidth.js';

/** RFC 8656 §9: a permission lasts 300 s from its last refresh. */
export const PERMISSION_LIFETIME_S = 300;
/** RFC 8656 §12: a channel binding lasts 600 s from its last refresh. */
export const CHANNEL_LIFETIME_S = 600;
/** RFC 8656 §7.2: the default allocation lifetime, and the least a client is given. */
export const DEFAULT_LIFETIME_S = 600;
/** The longest lifetime granted (RFC 8656 §7.2 suggests 3600 s). */
export const MAX_LIFETIME_S = 3600;
/**
 * Permissions one allocation may hold. RFC 8656 sets no bound; one keeps a client from growing
 * the server's memory with CreatePermission requests. Far above what ICE needs (one per peer).
 */
export const MAX_PERMISSIONS = 256;

/** The relayed transport address: what the allocation advertises, and how to let it go. */
export interface RelayEndpoint {
  /** As advertised in XOR-RELAYED-ADDRESS. */
  readonly address: StunAddress;
  /** Sends a datagram to a peer from the relayed address. */
  send(data: Uint8Array, port: number, ip: string): void;
  close(): void;
}

/**
 * Who owns an allocation: the 5-tuple's client side and its transport (the server side is
 * fixed). Over TCP each connection is its own 5-tuple (RFC 8656 §3.1).
 */
export interface ClientAddress {
  readonly ip: string;
  readonly port: number;
  readonly transport: 'udp' | 'tcp';
}

/**
 * A client and the way back to it: a datagram from the shared UDP port, or a write on its TCP
 * connection. The request handling and the data path only ever answer through this.
 */
export interface ClientLink extends ClientAddress {
  /**
   * Sends one STUN message or ChannelData to the client. `data` (relayed from a peer) may be
   * dropped when the connection is backed up (false); an `answer` is always queued or the
   * connection closed.
   */
  send(bytes: Uint8Array, kind: 'answer' | 'data'): boolean;
  /** True once the client's TCP connection ended (never for UDP). */
  readonly closed: boolean;
}

/** The table's key for a client's 5-tuple. */
export const clientKey = (c: ClientAddress): string => `${c.transport}|${c.ip}|${c.port}`;

interface Channel {
  readonly peer: StunAddress;
  expiresAt: number;
}

/**
 * One allocation (RFC 8656 §2.2): the relayed address, the credentials that made it (every later
 * request must use the same username, §5), permissions by peer IP and channels by number, each
 * expiring on its own. Permissions and channels are checked against the clock when used rather
 * than timed, so an idle allocation costs no timer but its own.
 */
export class Allocation {
  readonly client: ClientLink;
  readonly username: string;
  /** The long-term key responses are signed with. */
  readonly key: Uint8Array;
  /** The Allocate transaction that made it: a retransmission gets the same answer (§7.2). */
  readonly transactionId: Uint8Array;
  readonly relay: RelayEndpoint;
  readonly bucket: TokenBucket;
  /** The encoded success answer, sent again for a retransmitted Allocate (§7.2). */
  response: Uint8Array | undefined;
  /** When the allocation expires (ms), reset by Refresh. */
  expiresAt = 0;
  readonly #permissions = new Map<string, number>();
  readonly #channels = new Map<number, Channel>();
  readonly #byPeer = new Map<string, number>();

  constructor(init: {
    client: ClientLink;
    username: string;
    key: Uint8Array;
    transactionId: Uint8Array;
    relay: RelayEndpoint;
    maxBps: number;
    now: number;
  }) {
    this.client = init.client;
    this.username = init.username;
    this.key = init.key;
    this.transactionId = init.transactionId;
    this.relay = init.relay;
    this.bucket = new TokenBucket(init.maxBps, init.now);
  }

  /** True when a permission for `ip` is installed and not expired (§9). */
  hasPermission(ip: string, now: number): boolean {
    const until = this.#permissions.get(ip);
    return until !== undefined && until > now;
  }

  /** Installs or refreshes the permission for `ip`; false when the allocation holds too many. */
  permit(ip: string, now: number): boolean {
    if (!this.#permissions.has(ip) && this.#permissions.size >= MAX_PERMISSIONS) {
      for (const [p, until] of this.#permissions) if (until <= now) this.#permissions.delete(p);
      if (this.#permissions.size >= MAX_PERMISSIONS) return false;
    }
    this.#permissions.set(ip, now + PERMISSION_LIFETIME_S * 1000);
    return true;
  }

  /**
   * Binds (or refreshes) `channel` to `peer` (§11.2): `conflict` when the number is bound to
   * another peer or the peer to another number, both still alive.
   */
  bindChannel(channel: number, peer: StunAddress, now: number): 'ok' | 'conflict' {
    const peerKey = `${peer.ip}|${peer.port}`;
    const bound = this.channelPeer(channel, now);
    if (bound !== undefined && `${bound.ip}|${bound.port}` !== peerKey) return 'conflict';
    const other = this.#byPeer.get(peerKey);
    if (other !== undefined && other !== channel && this.channelPeer(other, now) !== undefined) {
      return 'conflict';
    }
    // What is left of expired bindings on either side goes before the new one is written.
    const stale = this.#channels.get(channel);
    if (stale !== undefined) this.#byPeer.delete(`${stale.peer.ip}|${stale.peer.port}`);
    if (other !== undefined) this.#channels.delete(other);
    this.#channels.set(channel, { peer, expiresAt: now + CHANNEL_LIFETIME_S * 1000 });
    this.#byPeer.set(peerKey, channel);
    return 'ok';
  }

  /** The peer `channel` is bound to, if the binding is alive. */
  channelPeer(channel: number, now: number): StunAddress | undefined {
    const c = this.#channels.get(channel);
    return c !== undefined && c.expiresAt > now ? c.peer : undefined;
  }

  /** The live channel bound to the peer at `ip`:`port`, if any. */
  channelOf(ip: string, port: number, now: number): number | undefined {
    const channel = this.#byPeer.get(`${ip}|${port}`);
    return channel !== undefined && this.channelPeer(channel, now) !== undefined
      ? channel
      : undefined;
  }
}

/** Why an allocation cannot be added: the total or the per-username cap (both answered 486). */
export type QuotaVerdict = 'ok' | 'total' | 'username';

/**
 * The allocations of one relay, keyed by 5-tuple, each with an expiry timer: when it fires (or
 * Refresh asks for lifetime 0) the allocation goes and its relayed socket closes. Counts per
 * username so one credential cannot take every port.
 */
export class AllocationTable {
  readonly #byClient = new Map<string, Allocation>();
  readonly #byRelay = new Map<string, Allocation>();
  readonly #timers = new Map<Allocation, NodeJS.Timeout>();
  readonly #perUsername = new Map<string, number>();
  readonly #maxTotal: number;
  readonly #maxPerUsername: number;
  #allocated = 0;

  constructor(limits: { maxTotal: number; maxPerUsername: number }) {
    this.#maxTotal = limits.maxTotal;
    this.#maxPerUsername = limits.maxPerUsername;
  }

  /** Allocations alive now. */
  get size(): number {
    return this.#byClient.size;
  }

  /** Allocations ever added. */
  get allocated(): number {
    return this.#allocated;
  }

  get(client: ClientAddress): Allocation | undefined {
    return this.#byClient.get(clientKey(client));
  }

  /** The allocation whose relayed address is `ip`:`port`, if any (relay to relay). */
  byRelay(ip: string, port: number): Allocation | undefined {
    return this.#byRelay.get(`${ip}|${port}`);
  }

  /** Whether one more allocation for `username` fits under the caps. */
  /** The most allocations (and, separately, reserved ports) one username may hold. */
  get maxPerUsername(): number {
    return this.#maxPerUsername;
  }

  quota(username: string): QuotaVerdict {
    if (this.#byClient.size >= this.#maxTotal) return 'total';
    if ((this.#perUsername.get(username) ?? 0) >= this.#maxPerUsername) return 'username';
    return 'ok';
  }

  /** Adds `a` for `lifetimeS` seconds from `now` (ms). */
  add(a: Allocation, lifetimeS: number, now: number): void {
    this.#byClient.set(clientKey(a.client), a);
    this.#byRelay.set(`${a.relay.address.ip}|${a.relay.address.port}`, a);
    this.#perUsername.set(a.username, (this.#perUsername.get(a.username) ?? 0) + 1);
    this.#allocated++;
    this.refresh(a, lifetimeS, now);
  }

  /** Restarts `a`'s expiry timer: it now ends `lifetimeS` seconds after `now` (ms). */
  refresh(a: Allocation, lifetimeS: number, now: number): void {
    clearTimeout(this.#timers.get(a));
    a.expiresAt = now + lifetimeS * 1000;
    const timer = setTimeout(() => {
      this.delete(a);
    }, lifetimeS * 1000);
    // An allocation never keeps the process alive on its own: close() ends them all.
    timer.unref();
    this.#timers.set(a, timer);
  }

  /** Removes `a` and closes its relayed socket (a no-op if it is already gone). */
  delete(a: Allocation): void {
    if (this.#byClient.get(clientKey(a.client)) !== a) return;
    clearTimeout(this.#timers.get(a));
    this.#timers.delete(a);
    this.#byClient.delete(clientKey(a.client));
    this.#byRelay.delete(`${a.relay.address.ip}|${a.relay.address.port}`);
    const left = (this.#perUsername.get(a.username) ?? 1) - 1;
    if (left > 0) this.#perUsername.set(a.username, left);
    else this.#perUsername.delete(a.username);
    a.relay.close();
  }

  /** How many allocations have a username `counts` says. */
  countWhere(counts: (username: string) => boolean): number {
    let n = 0;
    for (const a of this.#byClient.values()) if (counts(a.username)) n++;
    return n;
  }

  /** Removes every allocation whose username `drop` says; how many went. */
  deleteWhere(drop: (username: string) => boolean): number {
    let n = 0;
    for (const a of [...this.#byClient.values()]) {
      if (!drop(a.username)) continue;
      this.delete(a);
      n++;
    }
    return n;
  }

  /** Removes every allocation (server shutdown). */
  clear(): void {
    for (const a of [...this.#byClient.values()]) this.delete(a);
  }
}
