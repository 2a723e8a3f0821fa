import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:dgram';
import {
  PacketType,
  decodePing,
  encodePing,
  encodeProbe,
  packetType,
  verifyProbe,
  type Endpoint,
} from '@punch/core';
import type { Addr, MediaPath, PathEvents, PathKind, Via } from './media-path.js';

const PROBE_INTERVAL_MS = 200;
const PING_INTERVAL_MS = 1000;
/** Silence from the other side for this long means the path is gone (re-punch). */
const PATH_TIMEOUT_MS = 8000;

/** Loopback, link-local and "this network" addresses: never another agent's LAN address. */
const NOT_A_PEER = /^(127\.|0\.|169\.254\.|::1$|::$|fe[89ab][0-9a-f]:|::ffff:127\.)/i;
const same = (a: Addr, b: Addr): boolean => a.ip === b.ip && a.port === b.port;
const key = (a: Addr): string => `${a.ip}:${a.port}`;
/** The type byte in front of every SRT packet on the path (sent as a two-part datagram). */
const DATA = Buffer.from([PacketType.data]);

/**
 * The punched path to the other agent: probes every candidate (public endpoint first, then
 * LAN candidates) until an authenticated ack proves two-way reachability, then pings once a
 * second for RTT and to keep both NAT mappings open. Both sides' first probes are dropped
 * until that side has sent outbound, so probing continues until the other side confirms.
 * SRT packets travel with one type byte in front, and are taken only from addresses that
 * proved they hold the passphrase.
 */
export class PunchedPath implements MediaPath {
  readonly kind: PathKind;
  readonly #send: PathTransport;
  readonly #key: CryptoKey;
  readonly #role: 'sender' | 'receiver';
  readonly #other: 'sender' | 'receiver';
  readonly #events: PathEvents;
  readonly #punchTimeoutMs: number;
  readonly #silenceMs: number;
  #candidates: { addr: Addr; via: Via }[];
  readonly #nonces = new Map<string, Addr>();
  readonly #proven = new Set<string>();
  /** The other side's newest relayed address (`addRelay`): it replaces any older one. */
  #newestRelay: Addr | undefined;
  #remote: Addr | undefined;
  #via: Via | undefined;
  #probeTimer: NodeJS.Timeout | undefined;
  #pingTimer: NodeJS.Timeout | undefined;
  #deadline: NodeJS.Timeout | undefined;
  #lastHeard = 0;
  #heardSinceTick = false;
  #seq = 0;
  #pingsSent = 0;
  #pongs = 0;
  #rttMs: number | undefined;
  #closed = false;

  constructor(options: {
    /** The media socket (a direct path), or another way to send (a relay's, `transport`). */
    socket: Socket;
    /** Sends through something else than the socket (TURN); its kind is then `relay`. */
    transport?: PathTransport;
    key: CryptoKey;
    role: 'sender' | 'receiver';
    remote: Endpoint & { local?: Endpoint[] | undefined; relay?: Endpoint | undefined };
    events: PathEvents;
    punchTimeoutMs: number;
    /** Silence from the other side for this long means the path is gone (default 8 s). */
    silenceMs?: number;
  }) {
    this.#silenceMs = options.silenceMs ?? PATH_TIMEOUT_MS;
    const socket = options.socket;
    this.kind = options.transport === undefined ? 'direct' : 'relay';
    this.#send =
      options.transport ??
      ((parts, to) => {
        socket.send(parts, to.port, to.ip);
      });
    this.#key = options.key;
    this.#role = options.role;
    this.#other = options.role === 'sender' ? 'receiver' : 'sender';
    this.#events = options.events;
    this.#punchTimeoutMs = options.punchTimeoutMs;
    this.#candidates = [
      { addr: { ip: options.remote.ip, port: options.remote.port }, via: 'public' },
      // A LAN candidate on this machine's own loopback or link-local range is no other agent:
      // probing it would let the other side aim this agent at services beside it.
      ...(options.remote.local ?? [])
        .filter((l) => !NOT_A_PEER.test(l.ip))
        .map((l) => ({ addr: { ip: l.ip, port: l.port }, via: 'local' as const })),
    ];
    // The other side's relayed address: reached through its relay even from here (its relay
    // lets this side in once it permitted this side's address).
    const relay = options.remote.relay;
    if (relay !== undefined) {
      const known = this.#candidates.find((c) => same(c.addr, relay));
      if (known !== undefined) known.via = 'relay';
      else this.#candidates.push({ addr: { ip: relay.ip, port: relay.port }, via: 'relay' });
    }
    this.#punch();
  }

  /**
   * The other side's relayed address, learnt after this path started (it began relaying): one
   * more candidate, and probing resumes until a better one than it confirms.
   */
  addRelay(relay: Addr): void {
    if (this.#closed) return;
    this.#newestRelay = { ip: relay.ip, port: relay.port };
    const known = this.#candidates.find((c) => same(c.addr, relay));
    if (known !== undefined) known.via = 'relay';
    else if (this.#candidates.length < 16)
      this.#candidates.push({ addr: { ip: relay.ip, port: relay.port }, via: 'relay' });
    if (this.#remote !== undefined && this.#via !== 'relay') return;
    clearInterval(this.#probeTimer);
    this.#probeTimer = setInterval(() => void this.#probeAll(), PROBE_INTERVAL_MS);
  }

  get remote(): Addr | undefined {
    return this.#remote;
  }
  get up(): boolean {
    return this.#remote !== undefined && !this.#closed;
  }
  get rttMs(): number | undefined {
    return this.#rttMs;
  }
  /** Ping loss over the path's life, in percent. */
  get lossPct(): number {
    // The last ping may still be in flight: count it neither way.
    const settled = this.#pingsSent - 1;
    if (settled <= 0) return 0;
    return (100 * Math.max(0, settled - this.#pongs)) / settled;
  }

  /**
   * True when `addr` proved it holds the passphrase (it acked one of our fresh nonces): only
   * such addresses' data is forwarded. The two sides may settle on different
   * addresses of each other (one on the LAN address, one on the public), so any proven address
   * counts, not only the one this side sends to.
   */
  isRemote(addr: Addr): boolean {
    if (this.#remote === undefined) return false;
    // Per-packet fast path: the address this side sends to.
    return this.#isCurrent(addr) || this.#proven.has(key(addr));
  }

  send(packet: Uint8Array): boolean {
    const remote = this.#remote;
    if (remote === undefined || this.#closed) return false;
    this.#send([DATA, packet], remote);
    return true;
  }

  onDatagram(packet: Buffer, from: Addr): boolean {
    if (this.#closed) return false;
    switch (packetType(packet)) {
      case 'probe':
      case 'probeAck':
        void this.onProbe(packet, from);
        return true;
      case 'ping':
      case 'pong':
        this.onPing(packet, from);
        return true;
      case 'data':
        // From an address that never proved the passphrase: not this path's data.
        if (!this.isRemote(from)) return false;
        if (this.#isCurrent(from)) this.heard();
        this.#events.data(packet.subarray(1));
        return true;
      default:
        return false;
    }
  }

  /** A datagram from a proven address (already checked by the caller) keeps the path alive. */
  heard(): void {
    this.#heardSinceTick = true;
  }

  /** Handles a probe or ack datagram. */
  async onProbe(packet: Uint8Array, from: Addr): Promise<void> {
    const p = await verifyProbe(this.#key, packet, this.#other);
    if (p === undefined || this.#closed) return;
    if (p.kind === 'probe') {
      this.#sendControl(await encodeProbe(this.#key, 'probeAck', this.#role, p.nonce), from);
      // The probe came from where the other side really is (its NAT may map differently than
      // it thinks): probe back there too. A probe alone proves nothing (it could be a replay);
      // the ack to our own fresh nonce does.
      if (!this.#candidates.some((c) => same(c.addr, from)) && this.#candidates.length < 16)
        this.#candidates.push({ addr: from, via: 'public' });
      if (!this.#proven.has(key(from))) await this.#probe(from);
      if (this.#isCurrent(from)) this.#lastHeard = Date.now();
      return;
    }
    const sent = this.#nonces.get(Buffer.from(p.nonce).toString('hex'));
    if (sent === undefined || !same(sent, from)) return;
    this.#nonces.delete(Buffer.from(p.nonce).toString('hex'));
    if (this.#proven.size < 16) this.#proven.add(key(from));
    const via = this.#candidates.find((c) => same(c.addr, from))?.via ?? 'public';
    // A LAN path wins over the public one (no hairpin through the NAT needed), and both over
    // the other side's relay; the other side's newest relayed address over its older one (it
    // allocated again: the old one is gone, or soon will be).
    const newerRelay =
      via === 'relay' &&
      this.#via === 'relay' &&
      this.#newestRelay !== undefined &&
      same(from, this.#newestRelay) &&
      !this.#isCurrent(from);
    if (this.#remote === undefined || rank(via) > rank(this.#via) || newerRelay)
      this.#confirm(from, via);
  }

  /** Handles a ping or pong datagram. */
  onPing(packet: Uint8Array, from: Addr): void {
    if (!this.isRemote(from)) return;
    const p = decodePing(packet);
    if (p === undefined) return;
    // Only the address media goes to keeps the path alive: the other side talking from a new
    // one (restarted, remapped by its NAT) must not hide that the old one went dead.
    if (this.#isCurrent(from)) this.#lastHeard = Date.now();
    if (p.kind === 'ping') this.#sendControl(encodePing('pong', p.seq, p.sentAt), from);
    else {
      this.#pongs++;
      this.#rttMs = Math.max(0, performance.now() - p.sentAt);
    }
  }

  /** True for the address this side sends to. */
  #isCurrent(addr: Addr): boolean {
    return this.#remote !== undefined && same(this.#remote, addr);
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#probeTimer);
    clearInterval(this.#pingTimer);
    clearTimeout(this.#deadline);
  }

  #punch(): void {
    this.#remote = undefined;
    this.#via = undefined;
    clearInterval(this.#pingTimer);
    void this.#probeAll();
    this.#probeTimer = setInterval(() => void this.#probeAll(), PROBE_INTERVAL_MS);
    clearTimeout(this.#deadline);
    this.#deadline = setTimeout(() => {
      if (this.#remote === undefined && !this.#closed)
        this.#events.failed(this.#punchTimeoutMs / 1000);
    }, this.#punchTimeoutMs);
  }

  /** One round of probes, to every candidate. */
  async #probeAll(): Promise<void> {
    for (const c of this.#candidates) await this.#probe(c.addr);
    if (this.#nonces.size > 512) {
      const keep = [...this.#nonces].slice(-256);
      this.#nonces.clear();
      for (const [k, v] of keep) this.#nonces.set(k, v);
    }
  }

  /** Sends one probe with a fresh nonce to `to`. */
  async #probe(to: Addr): Promise<void> {
    const nonce = randomBytes(8);
    this.#nonces.set(nonce.toString('hex'), to);
    this.#sendControl(await encodeProbe(this.#key, 'probe', this.#role, nonce), to);
  }

  #confirm(remote: Addr, via: Via): void {
    const first = this.#remote === undefined;
    this.#remote = remote;
    this.#via = via;
    this.#lastHeard = Date.now();
    clearTimeout(this.#deadline);
    // Keep probing a little while a better candidate might still confirm, then stop.
    if (!this.#candidates.some((c) => rank(c.via) > rank(via))) clearInterval(this.#probeTimer);
    else
      setTimeout(() => {
        clearInterval(this.#probeTimer);
      }, 2000).unref();
    if (first) {
      this.#pingTimer = setInterval(() => {
        this.#tick();
      }, PING_INTERVAL_MS);
    }
    this.#events.up(remote, via);
  }

  #tick(): void {
    const remote = this.#remote;
    if (remote === undefined) return;
    if (this.#heardSinceTick) this.#lastHeard = Date.now();
    this.#heardSinceTick = false;
    if (Date.now() - this.#lastHeard > this.#silenceMs) {
      this.#events.down(`nothing from ${remote.ip}:${remote.port} for ${this.#silenceMs / 1000} s`);
      this.#punch();
      return;
    }
    this.#pingsSent++;
    this.#sendControl(encodePing('ping', ++this.#seq, performance.now()), remote);
  }

  #sendControl(packet: Uint8Array, to: Addr): void {
    if (this.#closed) return;
    this.#send([packet], to);
  }
}

/** Sends one datagram, given in parts, to `to`. */
export type PathTransport = (parts: readonly Uint8Array[], to: Addr) => void;

/** How much a candidate is preferred: LAN over public, both over the other side's relay. */
const rank = (via: Via | undefined): number =>
  via === 'local' ? 3 : via === 'public' ? 2 : via === 'relay' ? 1 : 0;
