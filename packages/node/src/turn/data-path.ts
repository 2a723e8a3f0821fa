import type { RemoteInfo } from 'node:dgram';
import { isIP } from 'node:net';
import {
  STUN_METHOD,
  encodeChannelData,
  encodeMessage,
  findAttribute,
  normalizeIp,
  parseChannelData,
  type ParsedStunMessage,
  type StunAddress,
} from '@punch/core';
import type { Allocation, ClientLink } from './allocations.js';
import { bump, type TurnStats } from './stats.js';

/**
 * The relay's data path (RFC 8656 §10-12): Send indications and ChannelData from a client go to
 * its peer from the relayed address; datagrams a peer sends to the relayed address come back as
 * ChannelData when a channel is bound, else as a Data indication. Every datagram passes the
 * permission check and the allocation's bandwidth cap; what fails either is dropped and counted.
 */
export function dataPath(io: {
  readonly now: () => number;
  readonly stats: TurnStats;
  /** The address form the relayed sockets send to (IPv4 peers mapped on a udp6 socket). */
  readonly target: (ip: string) => string;
  readonly fail: () => void;
  /** The allocation of a client's 5-tuple. */
  readonly allocationOf: (client: ClientLink) => Allocation | undefined;
  /**
   * The relay's policy for this exact address and port. Permissions are by IP (RFC 8656 §9), and
   * one granted for another allocation's relayed address (always allowed) must not open every
   * other port of that IP: each datagram is checked again, both ways.
   */
  readonly allows: (a: Allocation, ip: string, port: number) => boolean;
}) {
  const { now, stats, target, fail } = io;

  const relayToPeer = (a: Allocation, peer: StunAddress, data: Uint8Array): void => {
    if (!io.allows(a, normalizeIp(peer.ip), peer.port)) {
      bump(stats.dropped, 'permission');
      return;
    }
    if (!a.bucket.take(data.length, now())) {
      bump(stats.dropped, 'bandwidth');
      return;
    }
    a.relay.send(data, peer.port, target(peer.ip));
    stats.relayed.toPeer.packets++;
    stats.relayed.toPeer.bytes += data.length;
  };

  const fromPeer = (a: Allocation, msg: Buffer, rinfo: RemoteInfo): void => {
    try {
      const ip = normalizeIp(rinfo.address);
      const t = now();
      if (!a.hasPermission(ip, t) || !io.allows(a, ip, rinfo.port)) {
        bump(stats.dropped, 'permission');
        return;
      }
      if (!a.bucket.take(msg.length, t)) {
        bump(stats.dropped, 'bandwidth');
        return;
      }
      const data = new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength);
      const channel = a.channelOf(ip, rinfo.port, t);
      const family = isIP(ip) === 6 ? 6 : 4;
      // Over TCP, ChannelData is padded to 4 bytes: the stream's framing needs it (§12.5).
      const pad = a.client.transport === 'tcp';
      const sent = a.client.send(
        channel !== undefined
          ? encodeChannelData(channel, data, { pad })
          : encodeMessage({
              method: STUN_METHOD.data,
              class: 'indication',
              transactionId: crypto.getRandomValues(new Uint8Array(12)),
              attributes: [
                { type: 'XOR-PEER-ADDRESS', address: { ip, port: rinfo.port, family } },
                { type: 'DATA', data },
              ],
            }),
        'data',
      );
      if (!sent) {
        bump(stats.dropped, 'backlog');
        return;
      }
      stats.relayed.toClient.packets++;
      stats.relayed.toClient.bytes += msg.length;
    } catch {
      // One datagram's fault (a send to a vanished client) concerns that datagram only.
      fail();
    }
  };

  const onSend = (message: ParsedStunMessage, client: ClientLink): void => {
    const a = io.allocationOf(client);
    const peer = findAttribute(message.attributes, 'XOR-PEER-ADDRESS')?.address;
    const data = findAttribute(message.attributes, 'DATA')?.data;
    // §10.2: an indication without an allocation, a peer, data or a permission is dropped.
    if (a === undefined || peer === undefined || data === undefined) return;
    if (!a.hasPermission(peer.ip, now())) {
      bump(stats.dropped, 'permission');
      return;
    }
    relayToPeer(a, peer, data);
  };

  const onChannelData = (bytes: Uint8Array, client: ClientLink): void => {
    const a = io.allocationOf(client);
    const cd = parseChannelData(bytes);
    if (a === undefined || !cd.ok) return;
    // §12.6: data on an unbound channel is dropped.
    const peer = a.channelPeer(cd.channel, now());
    if (peer === undefined) {
      bump(stats.dropped, 'permission');
      return;
    }
    relayToPeer(a, peer, cd.data);
  };

  return { fromPeer, onSend, onChannelData };
}
