import { BlockList, isIP } from 'node:net';
import { normalizeIp, type Endpoint } from '@punch/core';
import { sessionSocketOf } from './sessions.js';

/**
 * Who a relay allocation may reach (DESIGN.md "The relay": the relay is not an open relay).
 * Another allocation on this same relay is always reachable (relay to relay, two clients that
 * both need the relay). Anything else is reachable unless it is loopback, link-local, private
 * or otherwise not a unicast host on the internet, so a client cannot use the relay to probe the
 * server's own network; `allowPrivate` (`--relay-allow-private`, for LAN use) lifts that.
 */
export interface PeerPolicy {
  /**
   * True when the holder of `username` may reach `ip`:`port` (install a permission or channel
   * towards it, or exchange a datagram with it).
   */
  allows(ip: string, port: number, username: string): boolean;
}

type Range = readonly [string, number, 'ipv4' | 'ipv6'];

/** Ranges refused always, `--relay-allow-private` or not: no host on any LAN lives there. */
const NEVER: readonly Range[] = [
  ['0.0.0.0', 8, 'ipv4'], // "this network" (RFC 791); 0.0.0.0 reaches the host itself
  ['169.254.0.0', 16, 'ipv4'], // link-local (RFC 3927): cloud metadata services live here
  ['224.0.0.0', 4, 'ipv4'], // multicast
  ['240.0.0.0', 4, 'ipv4'], // reserved, and 255.255.255.255 broadcast
  ['::', 128, 'ipv6'], // unspecified
  ['fe80::', 10, 'ipv6'], // link-local
  ['ff00::', 8, 'ipv6'], // multicast
];

/** Ranges refused unless private addresses are allowed (a LAN's hosts). */
const PRIVATE: readonly Range[] = [
  ['10.0.0.0', 8, 'ipv4'], // private (RFC 1918)
  ['100.64.0.0', 10, 'ipv4'], // carrier-grade NAT shared space (RFC 6598): someone's LAN side
  ['127.0.0.0', 8, 'ipv4'], // loopback
  ['172.16.0.0', 12, 'ipv4'], // private (RFC 1918)
  ['192.168.0.0', 16, 'ipv4'], // private (RFC 1918)
  ['::1', 128, 'ipv6'], // loopback
  ['fc00::', 7, 'ipv6'], // unique local (RFC 4193)
];

// IPv4-mapped IPv6 (::ffff:a.b.c.d) is not listed: normalizeIp turns it into the IPv4 address
// first, and a BlockList's IPv6 rule for ::ffff:0:0/96 would match every IPv4 address.
const blockList = (ranges: readonly Range[]): BlockList => {
  const list = new BlockList();
  for (const [network, prefix, type] of ranges) list.addSubnet(network, prefix, type);
  return list;
};
const never = blockList(NEVER);
const refused = blockList([...NEVER, ...PRIVATE]);

const check = (list: BlockList, address: string): boolean => {
  const ip = normalizeIp(address);
  const version = isIP(ip);
  if (version === 0) return true;
  return list.check(ip, version === 4 ? 'ipv4' : 'ipv6');
};

/**
 * True for an address the relay refuses by default: loopback, link-local, private (RFC 1918,
 * RFC 6598, unique local), unspecified, multicast, reserved, or not an IP at all.
 *
 * @example
 * isRefusedAddress('192.168.1.10'); // true
 * isRefusedAddress('203.0.113.5');  // false
 */
export function isRefusedAddress(address: string): boolean {
  return check(refused, address);
}

/**
 * True for an address the relay refuses even for LAN use (`--relay-allow-private`): link-local
 * (cloud metadata), unspecified, "this network", multicast, reserved, or not an IP at all.
 *
 * @example
 * isNeverReachable('169.254.169.254'); // true
 * isNeverReachable('10.0.0.5');        // false
 */
export function isNeverReachable(address: string): boolean {
  return check(never, address);
}

/**
 * The relay's policy. `ownRelay` names the username holding a relayed address of this server,
 * if any (the allocation table knows).
 *
 * - Relay to relay: two allocations of sockets of the same session reach each other, and so do
 *   two allocations of non-session credentials (browsers, coturn's own test client); a session
 *   allocation and anyone else's never do, so no stranger can spend a session's bandwidth.
 * - Beyond that, a session socket's credentials reach only the addresses Punch handed that
 *   socket, and only where the general rule allows them; other credentials, anything the
 *   general rule allows.
 * - The general rule: never link-local, multicast, reserved or the host's own relay port; not
 *   loopback, private or the host's own addresses either, unless `allowPrivate` (a LAN relay).
 *
 * @example
 * const policy = peerPolicy({ allowPrivate: false, ownRelay: (ip, port) => table.byRelay(ip, port)?.username });
 * policy.allows('10.0.0.1', 5000, '1767225600:alice'); // false
 */
export function peerPolicy(options: {
  readonly allowPrivate: boolean;
  /** The username of the allocation whose relayed address is `ip`:`port`, if one is. */
  readonly ownRelay: (ip: string, port: number) => string | undefined;
  /**
   * This host's own addresses (its interfaces, the advertised relay address): refused like
   * private ones, whatever their range, so the relay never becomes a way into the host's own
   * services (its STUN port, anything that trusts local traffic). Its own relayed ports stay
   * reachable (relay to relay).
   */
  readonly isHostAddress?: (ip: string) => boolean;
  /** The relay's own port (STUN and TURN): never reachable through the relay, on any address of its host. */
  readonly relayPort?: number;
  /**
   * The addresses Punch handed the session socket `conn` of `session` (its `peer` messages),
   * for credentials minted for a session socket: those reach nothing else.
   */
  readonly sessionPeers?: (session: string, conn: string) => readonly Endpoint[];
}): PeerPolicy {
  const host = (at: string): boolean => options.isHostAddress?.(at) === true;
  const general = (at: string, port: number): boolean => {
    if (isNeverReachable(at)) return false;
    // The relay as its own peer would chain allocations (and answer its own Binding requests).
    if (host(at) && port === options.relayPort) return false;
    return options.allowPrivate || (!isRefusedAddress(at) && !host(at));
  };
  return {
    allows: (ip, port, username) => {
      const at = normalizeIp(ip);
      // `<expiry>:<session>/<socket>`: a session socket's credentials (see core's session/relay.ts).
      const mine = sessionSocketOf(username);
      const owner = options.ownRelay(at, port);
      if (owner !== undefined) {
        const theirs = sessionSocketOf(owner);
        if (mine === undefined || theirs === undefined) return mine === theirs;
        return mine.session === theirs.session;
      }
      if (mine === undefined) return general(at, port);
      const handed = options.sessionPeers?.(mine.session, mine.conn) ?? [];
      return handed.some((e) => e.port === port && normalizeIp(e.ip) === at) && general(at, port);
    },
  };
}
