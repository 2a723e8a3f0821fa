import { copyBytes, utf8 } from '../encoding.js';

/**
 * What two `punch peer` agents exchange on the punched UDP path. Every datagram starts with a
 * type byte in 0xC1–0xC5, so it is never mistaken for STUN (whose first two bits are 0) on the
 * shared media socket. Probes and their acks are authenticated with a key derived from the
 * session passphrase: a stranger who guesses the ports cannot make an agent adopt a path. Data
 * is accepted only from the confirmed path; SRT's own AES protects its content end to end.
 */
export const PacketType = {
  probe: 0xc1,
  probeAck: 0xc2,
  ping: 0xc3,
  pong: 0xc4,
  data: 0xc5,
} as const;
export type PacketTypeName = keyof typeof PacketType;

const NONCE = 8;
const TAG = 16;
/** type, role byte, nonce, tag */
export const PROBE_LENGTH = 1 + 1 + NONCE + TAG;

/**
 * Derives the probe key for one stream of one session from its passphrase.
 *
 * @example
 * const key = await deriveTunnelKey(passphrase, 'nab-floor', 'cam-wide');
 */
export async function deriveTunnelKey(
  passphrase: string,
  session: string,
  stream: string,
): Promise<CryptoKey> {
  const base = await crypto.subtle.importKey(
    'raw',
    utf8(passphrase),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const raw = await crypto.subtle.sign('HMAC', base, utf8(`punch-tunnel-v1|${session}|${stream}`));
  return crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
    'verify',
  ]);
}

/** The role byte: which side sent a probe (so an agent never accepts its own reflected probe). */
const roleByte = (role: 'sender' | 'receiver'): number => (role === 'sender' ? 0x53 : 0x52);

async function tag(key: CryptoKey, head: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign('HMAC', key, head.slice())).slice(0, TAG);
}

/**
 * Builds a probe (or its ack, echoing the probe's nonce) from `role`.
 *
 * @example
 * const probe = await encodeProbe(key, 'probe', 'sender', crypto.getRandomValues(new Uint8Array(8)));
 */
export async function encodeProbe(
  key: CryptoKey,
  kind: 'probe' | 'probeAck',
  role: 'sender' | 'receiver',
  nonce: Uint8Array,
): Promise<Uint8Array<ArrayBuffer>> {
  if (nonce.byteLength !== NONCE) throw new RangeError(`a probe nonce is ${NONCE} bytes`);
  const out = new Uint8Array(PROBE_LENGTH);
  out[0] = PacketType[kind];
  out[1] = roleByte(role);
  out.set(nonce, 2);
  out.set(await tag(key, out.subarray(0, 2 + NONCE)), 2 + NONCE);
  return out;
}

/**
 * Verifies a probe or ack sent by the other side (`from`); returns its kind and nonce, or
 * undefined for anything forged, reflected or malformed.
 *
 * @example
 * const p = await verifyProbe(key, packet, 'receiver');
 * if (p?.kind === 'probe') reply(await encodeProbe(key, 'probeAck', 'sender', p.nonce));
 */
export async function verifyProbe(
  key: CryptoKey,
  packet: Uint8Array,
  from: 'sender' | 'receiver',
): Promise<{ kind: 'probe' | 'probeAck'; nonce: Uint8Array } | undefined> {
  if (packet.byteLength !== PROBE_LENGTH) return undefined;
  const type = packet[0];
  const kind =
    type === PacketType.probe ? 'probe' : type === PacketType.probeAck ? 'probeAck' : undefined;
  if (kind === undefined || packet[1] !== roleByte(from)) return undefined;
  // The tag is truncated, so it is recomputed and compared in constant time.
  const expected = await tag(key, packet.subarray(0, 2 + NONCE));
  let diff = 0;
  for (let i = 0; i < TAG; i++) diff |= (expected[i] ?? 0) ^ (packet[2 + NONCE + i] ?? 0);
  return diff === 0 ? { kind, nonce: copyBytes(packet, 2, 2 + NONCE) } : undefined;
}

/**
 * A ping or pong: type, sequence number, and the sender's send time (ms, for RTT).
 *
 * @example
 * socket.send(encodePing('ping', 7, performance.now()));
 */
export function encodePing(
  kind: 'ping' | 'pong',
  seq: number,
  sentAt: number,
): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(13);
  out[0] = PacketType[kind];
  const view = new DataView(out.buffer);
  view.setUint32(1, seq >>> 0);
  view.setFloat64(5, sentAt);
  return out;
}

/** Reads a ping or pong, or undefined. */
export function decodePing(
  packet: Uint8Array,
): { kind: 'ping' | 'pong'; seq: number; sentAt: number } | undefined {
  if (packet.byteLength !== 13) return undefined;
  const kind =
    packet[0] === PacketType.ping ? 'ping' : packet[0] === PacketType.pong ? 'pong' : undefined;
  if (kind === undefined) return undefined;
  const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  return { kind, seq: view.getUint32(1), sentAt: view.getFloat64(5) };
}

/** The type of an agent datagram, or undefined when it is not one. */
export function packetType(packet: Uint8Array): PacketTypeName | undefined {
  switch (packet[0]) {
    case PacketType.probe:
      return 'probe';
    case PacketType.probeAck:
      return 'probeAck';
    case PacketType.ping:
      return 'ping';
    case PacketType.pong:
      return 'pong';
    case PacketType.data:
      return 'data';
    default:
      return undefined;
  }
}
