/**
 * ChannelData messages (RFC 8656 §12.4): a 4-byte header (channel number, payload length) and the
 * payload, the light framing a TURN client and server use once a channel is bound, instead of
 * Send and Data indications. Over TCP (and TLS) the message is padded to a multiple of 4 bytes
 * (§12.5); over UDP the padding is optional, so a datagram may or may not carry it.
 */

const HEADER_SIZE = 4;

/**
 * True for a channel number a client may bind: 0x4000 through 0x7FFF, RFC 5766's range. RFC 8656
 * §12 narrowed it to 0x4000-0x4FFF, but clients of the older RFC pick numbers up to 0x7FFF
 * (coturn's own client among them) and coturn accepts them, so Punch does too; Punch's own
 * client binds from 0x4000 up.
 *
 * @example
 * isChannelNumber(0x4000); // true
 * isChannelNumber(0x7fff); // true (RFC 5766)
 * isChannelNumber(0x8000); // false
 */
export function isChannelNumber(channel: number): boolean {
  return Number.isInteger(channel) && channel >= 0x4000 && channel <= 0x7fff;
}

/** Why bytes are not a ChannelData message. */
export type ChannelDataFailure = {
  readonly ok: false;
  /**
   * `truncated`: shorter than the header or than its length says. `not-channel-data`: the first
   * two bits are not 0b01. `bad-channel`: a number outside 0x4000..0x7FFF. `bad-length`: more
   * bytes than the length plus padding to 4.
   */
  readonly reason: 'truncated' | 'not-channel-data' | 'bad-channel' | 'bad-length';
};

export type ChannelDataResult =
  | {
      readonly ok: true;
      readonly channel: number;
      /** The payload: a view into the parsed bytes, not a copy. */
      readonly data: Uint8Array;
    }
  | ChannelDataFailure;

/**
 * Parses one ChannelData message: one UDP datagram (padded or not) or one frame from the TCP
 * framer (padded). Never throws. Whether the channel is bound is the caller's business (an
 * unbound one is dropped, RFC 8656 §12.6).
 *
 * @example
 * const cd = parseChannelData(datagram);
 * if (cd.ok) relayToPeer(cd.channel, cd.data);
 */
export function parseChannelData(bytes: Uint8Array): ChannelDataResult {
  if (bytes.length < HEADER_SIZE) return { ok: false, reason: 'truncated' };
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const channel = dv.getUint16(0);
  if ((channel & 0xc000) !== 0x4000) return { ok: false, reason: 'not-channel-data' };
  if (!isChannelNumber(channel)) return { ok: false, reason: 'bad-channel' };
  const length = dv.getUint16(2);
  if (HEADER_SIZE + length > bytes.length) return { ok: false, reason: 'truncated' };
  if (bytes.length > HEADER_SIZE + ((length + 3) & ~3)) return { ok: false, reason: 'bad-length' };
  return { ok: true, channel, data: bytes.subarray(HEADER_SIZE, HEADER_SIZE + length) };
}

/**
 * Encodes a ChannelData message; `pad` adds zero padding to a multiple of 4 bytes, which TCP and
 * TLS require (RFC 8656 §12.5) and UDP does not. Throws RangeError for a channel outside
 * 0x4000..0x4FFF or a payload over 65535 bytes.
 *
 * @example
 * udp.send(encodeChannelData(0x4000, payload));
 * tcp.write(encodeChannelData(0x4000, payload, { pad: true }));
 */
export function encodeChannelData(
  channel: number,
  data: Uint8Array,
  options: { pad?: boolean } = {},
): Uint8Array<ArrayBuffer> {
  if (!isChannelNumber(channel)) throw new RangeError(`TURN: channel out of range: ${channel}`);
  if (data.length > 0xffff) throw new RangeError(`TURN: ChannelData of ${data.length} bytes`);
  const size = HEADER_SIZE + (options.pad === true ? (data.length + 3) & ~3 : data.length);
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, channel);
  dv.setUint16(2, data.length);
  out.set(data, HEADER_SIZE);
  return out;
}
