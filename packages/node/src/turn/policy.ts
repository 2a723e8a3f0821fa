import { BlockList, isIP } from 'node:net';
import { normalizeIp, sessionRelayId, type Endpoint } from '@punch/core';

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

/** Ranges refused unless private addresses are allowed. */
const REFUSED: ReadonlyArray<readonly [string, number, 'ipv4' | 'ipv6']> = [
  ['0.0.0.0', 8, 'ipv4'], // "this network" (RFC 791); 0.0.0.0 reaches the host itself
  ['10.0.0.0', 8, 'ipv4'], // private (RFC 1918)
  ['100.64.0.0', 10, 'ipv4'], // carrier-grade NAT shared space (RFC 6598): someone's LAN side
  ['127.0.0.0', 8, 'ipv4'], // loopback
  ['169.254.0.0', 16, 'ipv4'], // link-local (RFC 3927), cloud metadata services live here
  ['172.16.0.0', 12, 'ipv4'], // private (RFC 1918)
  ['192.168.0.0', 16, 'ipv4'], // private (RFC 1918)
  ['224.0.0.0', 4, 'ipv4'], // multicast
  ['240.0.0.0', 4, 'ipv4'], // reserved, and 255.255.255.255 broadcast
  ['::', 128, 'ipv6'], // unspecified
  ['::1', 128, 'ipv6'], // loopback
  ['fc00::', 7, 'ipv6'], // unique local (RFC 4193)
  ['fe80::', 10, 'ipv6'], // link-local
  ['ff00::', 8, 'ipv6'], // multicast
];

// IPv4-mapped IPv6 (::ffff:a.b.c.d) is not listed: normalizeIp turns it into the IPv4 address
// first, and a BlockList's IPv6 rule for ::ffff:0:0/96 would match every IPv4 address.
const refused = new BlockList();
for (const [network, prefix, type] of REFUSED) refused.addSubnet(network, prefix, type);

/**
 * True for an address the relay refuses by default: loopback, link-local, private (RFC 1918,
 * RFC 6598, unique local), unspecified, multicast, reserved, or not an IP at all.
 *
 * @example
 * isRefusedAddress('192.168.1.10'); // true
 * isRefusedAddress('203.0.113.5');  // false
 */
export function isRefusedAddress(address: string): boolean {
  const ip = normalizeIp(address);
  const version = isIP(ip);
  if (version === 0) return true;
  return refused.check(ip, version === 4 ? 'ipv4' : 'ipv6');
}

/**
 * The relay's policy. `isOwnRelay` says whether an address is a relayed address of an
 * allocation on this server (the allocation table knows).
 *
 * @example
 * const policy = peerPolicy({ allowPrivate: false, isOwnRelay: (ip, port) => table.hasRelay(ip, port) });
 * policy.allows('10.0.0.1', 5000); // false
 */
export function peerPolicy(options: {
  readonly allowPrivate: boolean;
  readonly isOwnRelay: (ip: string, port: number) => boolean;
  /**
   * This host's own addresses (its interfaces, the advertised relay address): refused like
   * private ones, whatever their range, so the relay never becomes a way into the host's own
   * services (its STUN port, anything that trusts local traffic). Its own relayed ports stay
   * reachable (relay to relay).
   */
  readonly isHostAddress?: (ip: string) => boolean;
  /**
   * The addresses Punch handed the session socket `conn` of `session` (its `peer` messages),
   * for credentials minted for a session socket: those reach nothing else.
   */
  readonly sessionPeers?: (session: string, conn: string) => readonly Endpoint[];
}): PeerPolicy {
  const general = (at: string): boolean =>
    options.allowPrivate || (!isRefusedAddress(at) && options.isHostAddress?.(at) !== true);
  return {
    allows: (ip, port, username) => {
      const at = normalizeIp(ip);
      if (options.isOwnRelay(at, port)) return true;
      // `<expiry>:<session>.<socket>`: a session socket's credentials (see core's session/relay.ts).
      const id = sessionRelayId(username.slice(username.indexOf(':') + 1));
      if (id === undefined) return general(at);
      const handed = options.sessionPeers?.(id.session, id.conn) ?? [];
      return handed.some((e) => e.port === port && normalizeIp(e.ip) === at) && general(at);
    },
  };
}
