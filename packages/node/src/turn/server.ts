import { networkInterfaces } from 'node:os';
import type { RemoteInfo, Socket } from 'node:dgram';
import { isIP } from 'node:net';
import {
  STUN_METHOD,
  TRANSPORT_UDP,
  classifyTurnPacket,
  encodeMessage,
  errorResponse,
  findAttribute,
  findAttributes,
  isChannelNumber,
  normalizeIp,
  parseMessage,
  unknownAttributesResponse,
  type ParsedStunMessage,
  type StunAddress,
  type TurnAttribute,
  type TurnErrorCode,
  type Endpoint,
} from '@punch/core';
import {
  Allocation,
  AllocationTable,
  DEFAULT_LIFETIME_S,
  MAX_LIFETIME_S,
  clientKey,
  type ClientLink,
} from './allocations.js';
import { RELAY_DEFAULTS, type RelayOptions } from './config.js';
import { peerPolicy, type PeerPolicy } from './policy.js';
import { RelayPortPool } from './relay-ports.js';
import { Reservations } from './reservations.js';
import { bindRelaySocket, localAddressTowards } from './relay-socket.js';
import { answers } from './answers.js';
import { dataPath } from './data-path.js';
import { sessionAdmission, sessionOfUsername, type SessionRules } from './sessions.js';
import { bump, createTurnStats, type TurnStats } from './stats.js';

export interface TurnServer {
  /** One datagram from the shared STUN port that is not a Binding request. Never throws. */
  handle(msg: Uint8Array, rinfo: RemoteInfo): void;
  /**
   * One whole frame (STUN message or ChannelData) from a client's TCP connection, which
   * answers through `link`. Never throws; a request returns its handling, which never rejects
   * (so a connection can bound the requests it has in flight).
   */
  receive(frame: Uint8Array, link: ClientLink): Promise<void> | undefined;
  /** Whether `client`'s 5-tuple holds an allocation now. */
  holds(client: ClientLink): boolean;
  /** The client's TCP connection ended: so does its allocation (RFC 8656 §3.1). */
  ended(client: ClientLink): void;
  readonly stats: TurnStats;
  /** Whether an allocation at `relayed` is held by a socket of `session`. */
  holdsFor(session: string, relayed: { ip: string; port: number }): boolean;
  /** A session ended: its sockets' allocations end now (its credentials are refused already). */
  endSession(session: string): void;
  /** Ends every allocation and closes its relayed socket. */
  close(): void;
}

/**
 * The TURN server (RFC 8656) over UDP, on the STUN port's socket, and over TCP connections to
 * the same port (tcp-listener.ts hands their frames to `receive`): Allocate, Refresh,
 * CreatePermission, ChannelBind, Send indications and ChannelData from clients; Data
 * indications and ChannelData back. Long-term credentials in the TURN REST form, checked against
 * `secret` with stateless nonces bound to the client's address.
 */
export async function createTurnServer(
  options: SessionRules & {
    readonly socket: Socket;
    /** The address the shared socket listens on: relayed sockets bind there too. */
    readonly host: string;
    readonly secret: string;
    readonly relay: RelayOptions;
    /** The addresses Punch handed a session socket: all its relay credentials may reach. */
    readonly sessionPeers?: (session: string, conn: string) => readonly Endpoint[];
    readonly now?: () => number;
  },
): Promise<TurnServer> {
  const { socket, host, secret, relay } = options;
  const now = options.now ?? Date.now;
  const nowS = (): number => Math.floor(now() / 1000);
  const type = socket.address().family === 'IPv6' ? 'udp6' : 'udp4';
  const wildcard = host === '0.0.0.0' || host === '::';
  const [low, high] = relay.ports ?? RELAY_DEFAULTS.ports;
  const pool = new RelayPortPool(low, high);
  const reservations = new Reservations((port) => {
    pool.release(port);
  });
  const maxBps = relay.maxBps ?? RELAY_DEFAULTS.maxBps;
  const table = new AllocationTable({
    maxTotal: relay.maxTotal ?? RELAY_DEFAULTS.maxTotal,
    maxPerUsername: relay.maxPerUsername ?? RELAY_DEFAULTS.maxPerUsername,
  });
  const stats = createTurnStats({ active: () => table.size, allocated: () => table.allocated });
  // The host's own addresses, as the relay may be asked to reach them (read once: a relay is
  // not expected to move between interfaces while it runs).
  const hostAddresses = new Set<string>(
    [
      ...Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address)),
      ...(relay.ip === undefined ? [] : [relay.ip]),
      ...(wildcard ? [] : [host]),
    ].map((a) => normalizeIp(a)),
  );
  const policy: PeerPolicy = peerPolicy({
    allowPrivate: relay.allowPrivate === true,
    ownRelay: (ip, port) => table.byRelay(ip, port)?.username,
    isHostAddress: (ip) => hostAddresses.has(ip),
    relayPort: socket.address().port,
    ...(options.sessionPeers === undefined ? {} : { sessionPeers: options.sessionPeers }),
  });
  /** Clients whose Allocate is being worked on: a retransmission meanwhile is dropped. */
  const allocating = new Set<string>();

  // IPv4 peers are reached from a udp6 socket through their mapped form.
  const target = (ip: string): string => (type === 'udp6' && isIP(ip) === 4 ? `::ffff:${ip}` : ip);
  const send = (bytes: Uint8Array, to: ClientLink): void => {
    to.send(bytes, 'answer');
  };
  /** A UDP client: answered from the shared socket. */
  const udpLink = (rinfo: RemoteInfo): ClientLink => {
    const ip = normalizeIp(rinfo.address);
    return {
      ip,
      port: rinfo.port,
      transport: 'udp',
      closed: false,
      send: (bytes) => {
        socket.send(bytes, rinfo.port, target(ip));
        return true;
      },
    };
  };
  // Counted in /metrics, not logged: a flood of hostile datagrams would flood the log too.
  const fail = (): void => {
    stats.errors++;
  };

  const { usable, fits } = sessionAdmission(table, options);
  // A session's credentials die with it, whatever their expiry says.
  const { refuse, succeed, authenticate } = await answers({ secret, stats, nowS, usable });

  /** RFC 8656 §7.2: at least the default, at most the maximum, and never past the credential. */
  const lifetimeFor = (request: ParsedStunMessage, credentialExpiresAt: number): number => {
    const asked = findAttribute(request.attributes, 'LIFETIME')?.seconds ?? DEFAULT_LIFETIME_S;
    const granted = Math.min(Math.max(asked, DEFAULT_LIFETIME_S), MAX_LIFETIME_S);
    return Math.max(1, Math.min(granted, credentialExpiresAt - nowS() + 1));
  };

  /** §7.2: a retransmitted Allocate gets the original answer; any other is a mismatch (437). */
  const answerExisting = (request: ParsedStunMessage, client: ClientLink): boolean => {
    const existing = table.get(client);
    if (existing === undefined) return false;
    const same = existing.transactionId.every((b, i) => b === request.transactionId[i]);
    if (same && existing.response !== undefined) send(existing.response, client);
    else void refuse(request, client, 437, existing.key).catch(fail);
    return true;
  };

  const allocate = async (request: ParsedStunMessage, client: ClientLink): Promise<void> => {
    // Checked before and after authenticating: another Allocate may have finished meanwhile.
    if (answerExisting(request, client)) return;
    const auth = await authenticate(request, client);
    if (auth === undefined) return;
    if (answerExisting(request, client)) return;
    const { key } = auth;
    const transport = findAttribute(request.attributes, 'REQUESTED-TRANSPORT');
    if (transport === undefined) return refuse(request, client, 400, key);
    if (transport.protocol !== TRANSPORT_UDP) return refuse(request, client, 442, key);
    const evenPort = findAttribute(request.attributes, 'EVEN-PORT');
    const token = findAttribute(request.attributes, 'RESERVATION-TOKEN')?.token;
    // §7.2: the two together are a bad request.
    if (evenPort !== undefined && token !== undefined) return refuse(request, client, 400, key);
    const relayFamily = type === 'udp6' && relay.ip !== undefined && isIP(relay.ip) === 6 ? 6 : 4;
    const family = findAttribute(request.attributes, 'REQUESTED-ADDRESS-FAMILY')?.family;
    if (family !== undefined && family !== relayFamily) return refuse(request, client, 440, key);
    if (!fits(auth.username)) return refuse(request, client, 486, key);

    // Only the socket bind is guarded: an Allocate arriving meanwhile from the same client is a
    // retransmission (the client sends it again and gets the stored answer) or a mismatch.
    const k = clientKey(client);
    if (allocating.has(k)) return;
    allocating.add(k);
    try {
      let pick: Parameters<typeof bindRelaySocket>[0]['pick'];
      if (token !== undefined) {
        const reserved = reservations.take(token);
        // §7.2: a token naming no reservation (unknown, lapsed or used) is answered 508.
        if (reserved === undefined) {
          await refuse(request, client, 508, key);
          return;
        }
        pick = { reserved };
      } else {
        pick = { even: evenPort !== undefined, pair: evenPort?.reserveNext === true };
        // A reservation holds a port for 30 s with no allocation: they count against the same
        // per-username cap, or one credential could hold the whole pool by allocate-and-release.
        if (pick.pair && reservations.heldBy(auth.username) >= table.maxPerUsername) {
          await refuse(request, client, 486, key);
          return;
        }
      }
      await bindAndAnswer(request, client, auth, pick);
    } finally {
      allocating.delete(k);
    }
  };

  const bindAndAnswer = async (
    request: ParsedStunMessage,
    client: ClientLink,
    auth: { username: string; key: Uint8Array; expiresAt: number },
    pick: Parameters<typeof bindRelaySocket>[0]['pick'],
  ): Promise<void> => {
    const { key } = auth;
    const pair = 'pair' in pick && pick.pair;
    const advertised =
      relay.ip ??
      (wildcard ? normalizeIp(await localAddressTowards(target(client.ip), type)) : host);
    // The family of the address actually advertised (an IPv6 client of a `::` host is answered
    // from an IPv6 address): a mismatch would fail to encode after the allocation was held.
    const relayFamily = isIP(advertised) === 6 ? 6 : 4;
    const bound = await bindRelaySocket({ pool, host, type, pick, onError: fail });
    if (bound === undefined) return refuse(request, client, 508, key);
    // Another client of this username may have taken the last place while this one awaited.
    if (!fits(auth.username)) {
      bound.socket.close();
      pool.release(bound.port);
      if (pair) pool.release(bound.port + 1);
      return refuse(request, client, 486, key);
    }
    const address: StunAddress = { ip: advertised, port: bound.port, family: relayFamily };
    const allocation = new Allocation({
      client,
      username: auth.username,
      key,
      transactionId: request.transactionId,
      relay: {
        address,
        send: (data, port, ip) => {
          bound.socket.send(data, port, ip);
        },
        close: () => {
          bound.socket.close();
          pool.release(bound.port);
        },
      },
      maxBps,
      now: now(),
    });
    bound.socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
      fromPeer(allocation, msg, rinfo);
    });
    const lifetime = lifetimeFor(request, auth.expiresAt);
    table.add(allocation, lifetime, now());
    // The TCP connection may have ended while the socket was bound: its allocation goes too.
    if (client.closed) {
      table.delete(allocation);
      return;
    }
    // EVEN-PORT with R: the next port stays held for the Allocate that presents this token.
    const reservation: TurnAttribute[] = pair
      ? [{ type: 'RESERVATION-TOKEN', token: reservations.reserve(bound.port + 1, auth.username) }]
      : [];
    allocation.response = await succeed(request, client, key, [
      ...reservation,
      { type: 'XOR-RELAYED-ADDRESS', address },
      { type: 'LIFETIME', seconds: lifetime },
      {
        type: 'XOR-MAPPED-ADDRESS',
        address: { ip: client.ip, port: client.port, family: isIP(client.ip) === 6 ? 6 : 4 },
      },
    ]);
  };

  /** The allocation an authenticated request acts on, or undefined when it answered already. */
  const owned = async (
    request: ParsedStunMessage,
    client: ClientLink,
  ): Promise<{ a: Allocation; key: Uint8Array; expiresAt: number } | undefined> => {
    const auth = await authenticate(request, client);
    if (auth === undefined) return undefined;
    const a = table.get(client);
    if (a === undefined) {
      await refuse(request, client, 437, auth.key);
      return undefined;
    }
    // RFC 8656 §5: the credentials of the Allocate stay those of the allocation.
    if (a.username !== auth.username) {
      await refuse(request, client, 441, auth.key);
      return undefined;
    }
    return { a, key: auth.key, expiresAt: auth.expiresAt };
  };

  const refresh = async (request: ParsedStunMessage, client: ClientLink): Promise<void> => {
    const found = await owned(request, client);
    if (found === undefined) return;
    const { a, key } = found;
    if (findAttribute(request.attributes, 'LIFETIME')?.seconds === 0) {
      table.delete(a);
      await succeed(request, client, key, [{ type: 'LIFETIME', seconds: 0 }]);
      return;
    }
    const lifetime = lifetimeFor(request, found.expiresAt);
    table.refresh(a, lifetime, now());
    await succeed(request, client, key, [{ type: 'LIFETIME', seconds: lifetime }]);
  };

  /** §9.2 and §11.2: a peer address must match the relay's family and pass the policy. */
  const peerRefusal = (a: Allocation, peer: StunAddress): TurnErrorCode | undefined => {
    if (peer.family !== a.relay.address.family) return 443;
    return policy.allows(peer.ip, peer.port, a.username) ? undefined : 403;
  };

  const createPermission = async (request: ParsedStunMessage, client: ClientLink) => {
    const found = await owned(request, client);
    if (found === undefined) return;
    const { a, key } = found;
    const peers = findAttributes(request.attributes, 'XOR-PEER-ADDRESS').map((p) => p.address);
    if (peers.length === 0) return refuse(request, client, 400, key);
    for (const peer of peers) {
      const code = peerRefusal(a, peer);
      if (code !== undefined) return refuse(request, client, code, key);
    }
    const t = now();
    // All or nothing would need a rollback; permissions only widen, so a partial install before
    // a 508 grants nothing the client did not ask for.
    for (const peer of peers) if (!a.permit(peer.ip, t)) return refuse(request, client, 508, key);
    await succeed(request, client, key);
  };

  const channelBind = async (request: ParsedStunMessage, client: ClientLink) => {
    const found = await owned(request, client);
    if (found === undefined) return;
    const { a, key } = found;
    const channel = findAttribute(request.attributes, 'CHANNEL-NUMBER')?.channel;
    const peer = findAttribute(request.attributes, 'XOR-PEER-ADDRESS')?.address;
    if (channel === undefined || peer === undefined || !isChannelNumber(channel)) {
      return refuse(request, client, 400, key);
    }
    const code = peerRefusal(a, peer);
    if (code !== undefined) return refuse(request, client, code, key);
    const t = now();
    if (a.bindChannel(channel, peer, t) === 'conflict') return refuse(request, client, 400, key);
    if (!a.permit(peer.ip, t)) return refuse(request, client, 508, key);
    await succeed(request, client, key);
  };

  const REQUESTS = new Map<number, (r: ParsedStunMessage, c: ClientLink) => Promise<void>>([
    [STUN_METHOD.allocate, allocate],
    [STUN_METHOD.refresh, refresh],
    [STUN_METHOD.createPermission, createPermission],
    [STUN_METHOD.channelBind, channelBind],
  ]);

  const onRequest = async (request: ParsedStunMessage, client: ClientLink): Promise<void> => {
    if (request.unknownRequired.length > 0) {
      bump(stats.refused, 420);
      const answer = unknownAttributesResponse(request, request.unknownRequired);
      send(encodeMessage(answer, { fingerprint: true }), client);
      return;
    }
    const handler = REQUESTS.get(request.method);
    if (handler === undefined) return refuse(request, client, 400);
    await handler(request, client);
  };

  const { fromPeer, onSend, onChannelData } = dataPath({
    now,
    stats,
    target,
    fail,
    allocationOf: (client) => table.get(client),
    allows: (a, ip, port) => policy.allows(ip, port, a.username),
  });

  /** One datagram or TCP frame from `client`, with bytes that are not TURN dropped. */
  const onPacket = (msg: Uint8Array, client: ClientLink): Promise<void> | undefined => {
    try {
      const kind = classifyTurnPacket(msg);
      if (kind === 'channel-data') {
        onChannelData(msg, client);
        return;
      }
      if (kind !== 'stun') return;
      const parsed = parseMessage(msg);
      if (!parsed.ok) {
        // §6.3.1 of RFC 8489: a request with a malformed known attribute is answered 400.
        if (parsed.reason === 'malformed-attribute' && parsed.header.class === 'request') {
          bump(stats.refused, 400);
          send(encodeMessage(errorResponse(parsed.header, 400), { fingerprint: true }), client);
        }
        return;
      }
      const { message } = parsed;
      if (message.class === 'request') {
        return onRequest(message, client).catch(fail);
      } else if (message.class === 'indication' && message.method === STUN_METHOD.send) {
        onSend(message, client);
      }
    } catch {
      // Hostile bytes never take the server down: the datagram is dropped and counted.
      fail();
    }
  };

  return {
    stats,
    handle(msg, rinfo) {
      try {
        // Over UDP nothing waits on a request's handling (it never rejects: failures are counted).
        void onPacket(msg, udpLink(rinfo));
      } catch {
        // An address Node could not hand over cleanly: that datagram only.
        fail();
      }
    },
    receive: onPacket,
    holds: (client) => table.get(client) !== undefined,
    ended(client) {
      const a = table.get(client);
      if (a?.client === client) table.delete(a);
    },
    holdsFor(session, relayed) {
      const owner = table.byRelay(normalizeIp(relayed.ip), relayed.port)?.username;
      return owner !== undefined && sessionOfUsername(owner) === session;
    },
    endSession(session) {
      table.deleteWhere((username) => sessionOfUsername(username) === session);
    },
    close() {
      table.clear();
      reservations.clear();
    },
  };
}
