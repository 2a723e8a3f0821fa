import { lookup } from 'node:dns/promises';
import type { Socket } from 'node:dgram';
import type { RelayCredentials } from '@punch/core';
import type { Addr } from './media-path.js';
import type { PathTransport } from './path.js';
import { TurnClient, TurnClientError } from './turn-client.js';

const keyOf = (a: Addr): string => `${a.ip}:${a.port}`;

/** How long a UDP Allocate may go unanswered before a TCP URL is tried instead. */
const UDP_GIVE_UP_MS = 4000;

/** A TURN server the agent can reach, from one of the credentials' URLs. */
export interface RelayServer {
  readonly host: string;
  readonly port: number;
  readonly transport: 'udp' | 'tcp';
}

/**
 * The TURN servers in `urls` this agent can use, UDP first: `turn:` URLs (RFC 7065) over UDP or
 * TCP; `turns:` (TLS) is skipped, the agent does not speak it.
 *
 * @example
 * relayServers(['turn:punch.example:3478?transport=udp', 'turn:punch.example:3478?transport=tcp']);
 * // [{ host: 'punch.example', port: 3478, transport: 'udp' }, { …, transport: 'tcp' }]
 */
export function relayServers(urls: readonly string[]): RelayServer[] {
  const out: RelayServer[] = [];
  for (const url of urls) {
    const m = /^turn:(\[[^\]]+\]|[^:?]+)(?::(\d+))?(?:\?transport=(udp|tcp))?$/i.exec(url.trim());
    if (m === null) continue;
    const host = (m[1] ?? '').replace(/^\[|\]$/g, '');
    const port = m[2] === undefined ? 3478 : Number(m[2]);
    if (port < 1 || port > 65535) continue;
    out.push({ host, port, transport: (m[3]?.toLowerCase() ?? 'udp') as 'udp' | 'tcp' });
  }
  return [...out.filter((s) => s.transport === 'udp'), ...out.filter((s) => s.transport === 'tcp')];
}

export interface RelayEvents {
  /** Data a peer sent through the relay (the other agent's probes, pings and SRT packets). */
  data(packet: Buffer, from: Addr): void;
  /** The allocation was lost (the relay restarted, a refresh failed): allocate again. */
  lost(reason: string): void;
}

/**
 * The agent's allocation on a TURN server (DESIGN.md "The relay"): it allocates from the media
 * socket with the credentials Punch handed out (UDP, or TCP where UDP gets no answer), opens
 * permissions and channels towards the other side's addresses, and carries the relay path's
 * datagrams. One at a time; `close` releases it.
 */
export class Relay {
  readonly #socket: Socket;
  readonly #events: RelayEvents;
  #client: TurnClient | undefined;
  #server: RelayServer | undefined;
  #allocating: Promise<Addr> | undefined;
  /** The addresses permitted (and renewed) on the allocation, by `ip:port`. */
  readonly #permitted = new Map<string, Addr>();
  #closed = false;

  constructor(socket: Socket, events: RelayEvents) {
    this.#socket = socket;
    this.#events = events;
  }

  /** The relayed address, while allocated. */
  get relayed(): Addr | undefined {
    return this.#client?.relayed;
  }

  /** The TURN server of the allocation, while allocated. */
  get server(): RelayServer | undefined {
    return this.#client?.relayed === undefined ? undefined : this.#server;
  }

  /**
   * The relayed address: the current allocation's, else a new one with `credentials`. Rejects
   * with a sentence for the operator when no server in them allocates.
   */
  allocate(credentials: RelayCredentials): Promise<Addr> {
    const relayed = this.relayed;
    if (relayed !== undefined) return Promise.resolve(relayed);
    this.#allocating ??= this.#allocate(credentials).finally(() => {
      this.#allocating = undefined;
    });
    return this.#allocating;
  }

  /**
   * Lets `peers` reach the relayed address (and be reached), with a channel each. Failures are
   * the caller's to report; what was granted stays.
   */
  async permit(peers: readonly Addr[]): Promise<void> {
    const client = this.#client;
    if (client?.relayed === undefined) return;
    // Addresses no longer asked for (the other side moved on) stop being renewed.
    const wanted = new Set(peers.map(keyOf));
    for (const [key, addr] of [...this.#permitted]) {
      if (wanted.has(key)) continue;
      this.#permitted.delete(key);
      client.forget(addr);
    }
    const fresh = peers.filter((p) => !this.#permitted.has(keyOf(p)));
    if (fresh.length === 0) return;
    for (const p of fresh) this.#permitted.set(keyOf(p), p);
    // One request per address: a relay refuses a whole CreatePermission for one address it
    // will not reach (403), and that must not cost the others (the relayed one above all).
    const refused: string[] = [];
    for (const p of fresh) {
      try {
        await client.permit([p]);
        await client.bind(p);
      } catch (err) {
        // 437: the server no longer knows the allocation (it restarted): allocate again.
        if (err instanceof TurnClientError && err.code === 437) {
          this.#gone(client, err);
          return;
        }
        // Not granted: asked for again with the next `peer` that names it.
        this.#permitted.delete(keyOf(p));
        refused.push(`${keyOf(p)} (${(err as Error).message})`);
      }
    }
    if (refused.length > 0) throw new Error(`the relay refused ${refused.join(', ')}`);
  }

  /** `client`'s allocation is gone (437, or no answer at all): released, and `lost` reported. */
  #gone(client: TurnClient, err: unknown): void {
    if (this.#client !== client || this.#closed) return;
    this.release();
    this.#events.lost(err instanceof Error ? err.message : String(err));
  }

  /**
   * Asks the server whether it still holds the allocation (after Punch was away, it may have
   * restarted and forgotten it); when not, it is released and `lost` reported, so the caller
   * allocates again. True when it is still held; false too without an allocation.
   */
  async check(): Promise<boolean> {
    const client = this.#client;
    if (client?.relayed === undefined) return false;
    try {
      await client.refresh();
      return this.#client === client;
    } catch (err) {
      this.#gone(client, err);
      return false;
    }
  }

  /** Sends through the relay (the relay path's transport). */
  readonly transport: PathTransport = (parts, to) => {
    const [only] = parts;
    this.#client?.send(to, parts.length === 1 && only !== undefined ? only : Buffer.concat(parts));
  };

  /** Takes a datagram from the media socket; true when it was the TURN server's. */
  onDatagram(packet: Buffer, from: Addr): boolean {
    return this.#client?.onDatagram(packet, from) ?? false;
  }

  /** Releases the allocation (a new one can follow). */
  release(): void {
    const client = this.#client;
    this.#client = undefined;
    this.#server = undefined;
    this.#permitted.clear();
    // The server forgets an unreleased allocation at its lifetime anyway: nothing to wait for.
    void client?.close();
  }

  /** Releases the allocation for good. */
  close(): void {
    this.#closed = true;
    this.release();
  }

  async #allocate(credentials: RelayCredentials): Promise<Addr> {
    const servers = relayServers(credentials.urls);
    if (servers.length === 0)
      throw new Error(
        `no usable TURN URL in ${credentials.urls.join(', ')} (turn: over UDP or TCP)`,
      );
    const failures: string[] = [];
    for (const [i, server] of servers.entries()) {
      if (this.#closed) break;
      const last = i === servers.length - 1;
      try {
        return await this.#allocateOn(server, credentials, last ? undefined : UDP_GIVE_UP_MS);
      } catch (err) {
        const e = err instanceof TurnClientError ? err : new TurnClientError(0, String(err));
        failures.push(`${server.transport} ${server.host}:${server.port}: ${e.message}`);
        // Refused credentials are refused everywhere: trying the next URL would not help.
        if (e.code === 401 || e.code === 403) break;
      }
    }
    throw new Error(`the relay could not be reached (${failures.join('; ')})`);
  }

  async #allocateOn(
    server: RelayServer,
    credentials: RelayCredentials,
    giveUpMs: number | undefined,
  ): Promise<Addr> {
    const { address } = await lookup(server.host, { family: 4 });
    const client = new TurnClient({
      // Over TCP the client opens its own connection: for networks where UDP gets nowhere.
      ...(server.transport === 'tcp'
        ? { transport: 'tcp' as const }
        : { transport: 'udp' as const, socket: this.#socket }),
      server: { ip: address, port: server.port },
      username: credentials.username,
      password: credentials.credential,
      onData: (peer, data) => {
        if (this.#client === client)
          this.#events.data(Buffer.from(data.buffer, data.byteOffset, data.byteLength), peer);
      },
      onLost: (err) => {
        this.#gone(client, err);
      },
      rtoMs: 250,
    });
    this.#client = client;
    this.#server = server;
    let timer: NodeJS.Timeout | undefined;
    try {
      const allocated = client.allocate();
      // A UDP Allocate that loses the race below is ended by `release` (it rejects "closed").
      allocated.catch(() => undefined);
      const { relayed } = await (giveUpMs === undefined
        ? allocated
        : Promise.race([
            allocated,
            new Promise<never>((_, reject) => {
              timer = setTimeout(() => {
                reject(new TurnClientError(0, `no answer within ${giveUpMs / 1000} s`));
              }, giveUpMs);
            }),
          ]));
      return relayed;
    } catch (err) {
      if (this.#client === client) this.release();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }
}
