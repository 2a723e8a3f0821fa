/**
 * What arrives on a TURN server's port, told apart by the first two bits (RFC 8656 §12, as RFC
 * 7983 §7 does for a socket shared with DTLS and RTP): 0b00 is a STUN message, 0b01 ChannelData,
 * anything else is not TURN and is dropped (or, on a TCP stream, ends it).
 */

export type TurnPacketKind = 'stun' | 'channel-data' | 'other';

/**
 * Which parser a datagram or frame belongs to. Only the first byte is looked at: the parser
 * still checks the rest. Empty input is `other`.
 *
 * @example
 * switch (classifyTurnPacket(datagram)) {
 *   case 'stun': return onStun(parseMessage(datagram));
 *   case 'channel-data': return onChannelData(parseChannelData(datagram));
 *   case 'other': return; // not ours
 * }
 */
export function classifyTurnPacket(bytes: Uint8Array): TurnPacketKind {
  const first = bytes[0];
  if (first === undefined) return 'other';
  const bits = first >>> 6;
  return bits === 0 ? 'stun' : bits === 1 ? 'channel-data' : 'other';
}
