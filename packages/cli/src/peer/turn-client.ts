import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:dgram';
import {
  STUN_METHOD,
  TRANSPORT_UDP,
  classifyTurnPacket,
  encodeChannelData,
  encodeMessage,
  findAttribute,
  parseChannelData,
  parseMessage,
  type ParsedStunMessage,
  type TurnAttribute,
} from '@punch/core';
import type { Addr } from './media-path.js';
import { TurnTcpStream } from './turn-tcp.js';
import { TurnClientError, TurnTransactions } from './turn-transactions.js';

export { TurnClientError } from './turn-transactions.js';

/**
 * A TURN client (RFC 8656) on the agent's own media socket, for when no direct path exists: it
 * allocates a relayed address on a TURN server (Punch's own, coturn, Cloudflare's) with
 * long-term credentials (the TURN REST form Punch hands out), opens permissions and channels to
 * the other side's addresses, and keeps all three alive until closed. Requests over UDP are
 * retransmitted (RFC 8489 §6.2.1); a stale nonce (438) is taken and the request sent again.
 * Where outbound UDP is blocked it reaches the server over TCP instead (`transport: 'tcp'`,
 * RFC 8656 §3.1): requests are sent once, and the connection's end is the allocation's.
 */

interface CommonOptions {
  readonly server: Addr;
  readonly username: string;
  readonly password: string;
  /** Data a peer sent through the relay. */
  readonly onData: (peer: Addr, data: Uint8Array) => void;
  /**
   * The allocation was lost (a refresh failed, or over TCP the connection ended): the caller
   * allocates again or gives up.
   */
  readonly onLost: (err: TurnClientError) => void;
  /** First retransmission wait (RFC 8489's RTO, default 500 ms), doubled per try, 6 tries. */
  readonly rtoMs?: number;
  /**
   * Over TCP, how long a request waits for its answer (default 10 s). RFC 8489 §6.2.2 says
   * 39.5 s; an agent without a path rather learns sooner and tries something else.
   */
  readonly tcpTimeoutMs?: number;
}

export type TurnClientOptions = CommonOptions &
  (
    | {
        /** UDP (the default): the client's packets go from the agent's media socket. */
        readonly transport?: 'udp';
        /** The media socket (IPv4 UDP); the agent offers it every datagram via `onDatagram`. */
        readonly socket: Socket;
      }
    | {
        /** A TCP connection to the server, opened by the client; data comes via `onData`. */
        readonly transport: 'tcp';
        readonly socket?: undefined;
      }
  );

/** Permissions live 300 s and channels 600 s (RFC 8656 §9, §12): renewed well before. */
const PERMISSION_REFRESH_MS = 240_000;
const CHANNEL_REFRESH_MS = 540_000;
const FIRST_CHANNEL = 0x4000;
const LAST_CHANNEL = 0x4fff;

const keyOf = (a: Addr): string => `${a.ip}:${a.port}`;
const addr = (a: { ip: string; port: number }): Addr => ({ ip: a.ip, port: a.port });
const peerAddress = (p: Addr): TurnAttribute => ({
  type: 'XOR-PEER-ADDRESS',
  address: { ip: p.ip, port: p.port, family: p.ip.includes(':') ? 6 : 4 },
});

export class TurnClient {
  readonly #o: TurnClientOptions;
  readonly #channels = new Map<string, number>();
  /** The renewal timers of permissions (by their addresses) and channels (`channel <addr>`). */
  readonly #renewals = new Map<string, NodeJS.Timeout>();
  /** Channel binds in flight, by peer. */
  readonly #binding = new Map<string, Promise<number>>();
  /** Channel numbers handed out on this allocation (bound or being bound). */
  #channelsTaken = 0;
  readonly #peers = new Map<number, Addr>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #requests: TurnTransactions;
  #relayed: Addr | undefined;
  #closed = false;
  /** Over TCP: the connection now (opened by the first request, and again after a loss). */
  #tcp: TurnTcpStream | undefined;

  constructor(options: TurnClientOptions) {
    this.#o = options;
    this.#requests = new TurnTransactions({
      server: options.server,
      username: options.username,
      password: options.password,
      reliable: options.transport === 'tcp',
      rtoMs: options.rtoMs,
      tcpTimeoutMs: options.tcpTimeoutMs,
      write: (bytes) => {
        this.#write(bytes, 'request');
      },
    });
  }

  /** The relayed address, once allocated: what the other side sends to. */
  get relayed(): Addr | undefined {
    return this.#relayed;
  }

  /**
   * Allocates a relayed UDP address; it is refreshed before its lifetime ends.
   *
   * @example
   * const { relayed, mapped } = await turn.allocate();
   */
  async allocate(): Promise<{ relayed: Addr; mapped: Addr | undefined; lifetime: number }> {
    const res = await this.#requests.request(STUN_METHOD.allocate, [
      { type: 'REQUESTED-TRANSPORT', protocol: TRANSPORT_UDP },
    ]);
    const relayed = findAttribute(res.attributes, 'XOR-RELAYED-ADDRESS')?.address;
    if (relayed === undefined) throw new TurnClientError(0, 'Allocate answered with no address');
    const mapped = findAttribute(res.attributes, 'XOR-MAPPED-ADDRESS')?.address;
    // RFC 8656 §7: at most an hour by default; a larger number (or a hostile 0xffffffff, past
    // what a Node timer can hold) must not turn the refresh into a busy loop.
    const lifetime = Math.min(3600, findAttribute(res.attributes, 'LIFETIME')?.seconds ?? 600);
    this.#relayed = addr(relayed);
    this.#every(Math.max(30, lifetime - 60) * 1000, () =>
      this.#requests.request(STUN_METHOD.refresh, []),
    );
    return { relayed: this.#relayed, mapped: mapped && addr(mapped), lifetime };
  }

  /**
   * Refreshes the allocation now (its lifetime starts again): how a client learns at once that
   * the server forgot it (437, after a restart) instead of at the next scheduled refresh.
   * Rejects with the server's error.
   *
   * @example
   * await turn.refresh().catch((e) => { if (e.code === 437) reallocate(); });
   */
  async refresh(): Promise<void> {
    await this.#requests.request(STUN_METHOD.refresh, []);
  }

  /**
   * Lets `peers` send to the relayed address (and us to them), renewed every 4 minutes.
   *
   * @example
   * await turn.permit([{ ip: '198.51.100.7', port: 40000 }]);
   */
  async permit(peers: readonly Addr[]): Promise<void> {
    const attributes = peers.map(peerAddress);
    const send = (): Promise<ParsedStunMessage> =>
      this.#requests.request(STUN_METHOD.createPermission, attributes);
    await send();
    // One renewal per set of addresses, however often it is asked for again, until `forget`.
    const key = peers.map(keyOf).sort().join(',');
    if (this.#renewals.has(key)) return;
    this.#renewals.set(key, this.#every(PERMISSION_REFRESH_MS, send, 'peer'));
  }

  /**
   * Stops renewing the permission and channel of `peer` (the other side moved on): the server
   * lets them lapse (RFC 8656 §9, §12), and the client stops spending requests on them.
   *
   * @example
   * turn.forget({ ip: '198.51.100.7', port: 40000 });
   */
  forget(peer: Addr): void {
    const k = keyOf(peer);
    for (const key of [k, `channel ${k}`]) {
      const timer = this.#renewals.get(key);
      if (timer === undefined) continue;
      clearInterval(timer);
      this.#timers.delete(timer);
      this.#renewals.delete(key);
    }
  }

  /**
   * Binds a channel to `peer` (4 bytes of framing instead of a Send indication's 36), renewed
   * every 9 minutes; `send` uses it from then on.
   *
   * @example
   * await turn.bind(peer);
   */
  async bind(peer: Addr): Promise<number> {
    const known = this.#channels.get(keyOf(peer));
    if (known !== undefined) return known;
    const pending = this.#binding.get(keyOf(peer));
    if (pending !== undefined) return pending;
    // Numbered now, before the answer: two binds in flight at once must not take one number
    // (the server refuses the second with 400, RFC 8656 §12.1).
    const channel = FIRST_CHANNEL + this.#channelsTaken++;
    if (channel > LAST_CHANNEL) throw new TurnClientError(0, 'no channel number left');
    const send = (): Promise<ParsedStunMessage> =>
      this.#requests.request(STUN_METHOD.channelBind, [
        { type: 'CHANNEL-NUMBER', channel },
        peerAddress(peer),
      ]);
    const bound = send().then(() => {
      this.#channels.set(keyOf(peer), channel);
      this.#peers.set(channel, peer);
      this.#renewals.set(`channel ${keyOf(peer)}`, this.#every(CHANNEL_REFRESH_MS, send, 'peer'));
      return channel;
    });
    this.#binding.set(keyOf(peer), bound);
    try {
      return await bound;
    } finally {
      this.#binding.delete(keyOf(peer));
    }
  }

  /** Sends `data` to `peer` through the relay: on its channel, else in a Send indication. */
  send(peer: Addr, data: Uint8Array): void {
    if (this.#closed) return;
    const channel = this.#channels.get(keyOf(peer));
    // Over TCP, ChannelData is padded to 4 bytes: the stream's framing needs it (§12.5).
    const pad = this.#o.transport === 'tcp';
    const packet =
      channel !== undefined
        ? encodeChannelData(channel, data, { pad })
        : encodeMessage({
            method: STUN_METHOD.send,
            class: 'indication',
            transactionId: randomBytes(12),
            attributes: [peerAddress(peer), { type: 'DATA', data }],
          });
    // Relayed data over a backed-up TCP connection is dropped, as UDP would lose it.
    this.#write(packet, 'data');
  }

  /** Takes a datagram from the media socket; true when it was the TURN server's. */
  onDatagram(msg: Uint8Array, from: Addr): boolean {
    const { server } = this.#o;
    // Over TCP nothing of the server's comes on the media socket.
    if (this.#o.transport === 'tcp') return false;
    if (from.ip !== server.ip || from.port !== server.port) return false;
    this.#onMessage(msg);
    return true;
  }

  /** One datagram or TCP frame from the server. */
  #onMessage(msg: Uint8Array): void {
    const kind = classifyTurnPacket(msg);
    if (kind === 'channel-data') {
      const cd = parseChannelData(msg);
      const peer = cd.ok ? this.#peers.get(cd.channel) : undefined;
      if (cd.ok && peer !== undefined) this.#o.onData(peer, cd.data);
      return;
    }
    if (kind !== 'stun') return; // from the server, but nothing a client understands
    const parsed = parseMessage(msg);
    if (!parsed.ok) return;
    const m = parsed.message;
    if (m.class === 'indication' && m.method === STUN_METHOD.data) {
      const peer = findAttribute(m.attributes, 'XOR-PEER-ADDRESS')?.address;
      const data = findAttribute(m.attributes, 'DATA')?.data;
      if (peer !== undefined && data !== undefined) this.#o.onData(addr(peer), data);
      return;
    }
    this.#requests.answer(m);
  }

  /** Releases the allocation (Refresh with LIFETIME 0) and stops every timer. */
  async close(): Promise<void> {
    if (this.#closed) return;
    for (const t of this.#timers) clearInterval(t);
    this.#timers.clear();
    // Forgotten first: a server that closes the TCP connection after this Refresh is no loss.
    const relayed = this.#relayed;
    this.#relayed = undefined;
    try {
      if (relayed !== undefined)
        await this.#requests.request(STUN_METHOD.refresh, [{ type: 'LIFETIME', seconds: 0 }]);
    } catch (err) {
      // The allocation times out on the server anyway; closing must not fail the caller.
      if (!(err instanceof TurnClientError)) throw err;
    } finally {
      this.#closed = true;
      this.#tcp?.close();
      this.#requests.close();
    }
  }

  /** The allocation is gone: timers stop, channels are forgotten, the caller is told once. */
  #lose(err: TurnClientError): void {
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers.clear();
    this.#channels.clear();
    this.#channelsTaken = 0;
    this.#renewals.clear();
    this.#peers.clear();
    this.#relayed = undefined;
    this.#o.onLost(err);
  }

  /** Sends to the server: a datagram from the media socket, or a write on the connection. */
  #write(bytes: Uint8Array, kind: 'request' | 'data'): boolean {
    if (this.#o.transport !== 'tcp') {
      const { server } = this.#o;
      try {
        this.#o.socket.send(bytes, server.port, server.ip);
      } catch (err) {
        // The media socket closed under us (the agent is stopping): nothing more goes out, and
        // a request then simply goes unanswered.
        if ((err as NodeJS.ErrnoException).code === 'ERR_SOCKET_DGRAM_NOT_RUNNING') return false;
        throw err;
      }
      return true;
    }
    if (this.#tcp === undefined || this.#tcp.ended) {
      // Data needs an allocation, and one is made by a request: data alone opens nothing.
      if (kind === 'data') return false;
      const stream: TurnTcpStream = new TurnTcpStream({
        server: this.#o.server,
        onFrame: (frame) => {
          this.#onMessage(frame);
        },
        onClose: (why) => {
          if (this.#tcp !== stream) return;
          this.#tcp = undefined;
          this.#requests.rejectAll(why);
          if (!this.#closed && this.#relayed !== undefined) this.#lose(new TurnClientError(0, why));
        },
      });
      this.#tcp = stream;
    }
    return this.#tcp.write(bytes, kind);
  }

  /**
   * Runs `renew` every `ms`. An allocation refresh that fails loses the allocation (reported
   * once, timers stop); a permission's or channel's (`peer`) only when the server no longer
   * knows the allocation (437) or does not answer: a refusal of that one peer (403, after the
   * other side moved on) keeps the allocation and its other peers.
   */
  #every(
    ms: number,
    renew: () => Promise<unknown>,
    what: 'allocation' | 'peer' = 'allocation',
  ): NodeJS.Timeout {
    const t = setInterval(() => {
      renew().catch((err: unknown) => {
        // Closed, or lost already (the TCP connection's end was reported).
        if (this.#closed || this.#relayed === undefined) return;
        const e = err instanceof TurnClientError ? err : new TurnClientError(0, String(err));
        if (what === 'peer' && e.code !== 437 && e.code !== 0) {
          clearInterval(t);
          this.#timers.delete(t);
          return;
        }
        this.#lose(e);
      });
    }, ms);
    t.unref();
    this.#timers.add(t);
    return t;
  }
}
