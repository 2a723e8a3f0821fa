import { describe, it, expect } from 'vitest';
import { STUN_MAGIC_COOKIE, encodeBindingRequest, isStunPacket } from '../stun/stun.js';
import {
  PROBE_LENGTH,
  PacketType,
  decodePing,
  deriveTunnelKey,
  encodePing,
  encodeProbe,
  packetType,
  verifyProbe,
  type PacketTypeName,
} from './packet.js';

// ---------------------------------------------------------------------------------------------
// Helpers (web standards only: this file lives in core, where Buffer is off limits).

function fromHex(hex: string): Uint8Array<ArrayBuffer> {
  const clean = hex.replace(/\s+/g, '');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

const PASSPHRASE = 'correct-horse-battery-staple-42';
const SESSION = 'nab-floor';
const STREAM = 'cam-wide';
const NONCE = fromHex('0102030405060708');

/** Every byte of a probe, for the tamper tests: type, role, 8 nonce bytes, 16 tag bytes. */
const PROBE_OFFSETS = Array.from({ length: PROBE_LENGTH }, (_, i) => i);

// ---------------------------------------------------------------------------------------------

describe('encodePing / decodePing', () => {
  it('encodes a ping as type 0xC3, big-endian u32 seq, big-endian f64 time (golden bytes)', () => {
    expect(toHex(encodePing('ping', 7, 1.5))).toBe('c3' + '00000007' + '3ff8000000000000');
  });

  it('encodes a pong as type 0xC4 (golden bytes)', () => {
    expect(toHex(encodePing('pong', 0xdeadbeef, 1234.5))).toBe(
      'c4' + 'deadbeef' + '40934a0000000000',
    );
  });

  it('decodes the golden bytes back', () => {
    expect(decodePing(fromHex('c3000000073ff8000000000000'))).toEqual({
      kind: 'ping',
      seq: 7,
      sentAt: 1.5,
    });
    expect(decodePing(fromHex('c4deadbeef40934a0000000000'))).toEqual({
      kind: 'pong',
      seq: 0xdeadbeef,
      sentAt: 1234.5,
    });
  });

  it('round-trips a performance.now()-like time exactly', () => {
    const sentAt = 123456.789012345;
    expect(decodePing(encodePing('ping', 42, sentAt))).toEqual({ kind: 'ping', seq: 42, sentAt });
  });

  it('wraps the sequence number to 32 bits', () => {
    expect(decodePing(encodePing('ping', 2 ** 32 + 5, 0))?.seq).toBe(5);
  });

  it('reads a ping that sits at an offset inside a larger buffer (a pooled Buffer)', () => {
    const big = new Uint8Array(40).fill(0xee);
    big.set(encodePing('pong', 9, 77.25), 11);
    expect(decodePing(big.subarray(11, 24))).toEqual({ kind: 'pong', seq: 9, sentAt: 77.25 });
  });

  it('refuses the wrong length or another type', () => {
    const ping = encodePing('ping', 1, 2);
    expect(decodePing(ping.subarray(0, 12))).toBeUndefined();
    expect(decodePing(new Uint8Array([...ping, 0]))).toBeUndefined();
    expect(decodePing(new Uint8Array(0))).toBeUndefined();
    for (const type of [PacketType.probe, PacketType.probeAck, PacketType.data, 0x00]) {
      const other = ping.slice();
      other[0] = type;
      expect(decodePing(other)).toBeUndefined();
    }
  });
});

describe('encodeProbe / verifyProbe', () => {
  it('lays out type, role byte, nonce, then a 16-byte tag', async () => {
    const key = await deriveTunnelKey(PASSPHRASE, SESSION, STREAM);
    const probe = await encodeProbe(key, 'probe', 'sender', NONCE);
    expect(probe.byteLength).toBe(PROBE_LENGTH);
    expect(PROBE_LENGTH).toBe(26);
    expect(probe[0]).toBe(0xc1);
    expect(probe[1]).toBe(0x53); // 'S'
    expect(toHex(probe.subarray(2, 10))).toBe('0102030405060708');
    const ack = await encodeProbe(key, 'probeAck', 'receiver', NONCE);
    expect(ack[0]).toBe(0xc2);
    expect(ack[1]).toBe(0x52); // 'R'
    // The tag depends on the header: a probe and an ack of the same nonce differ.
    expect(toHex(ack.subarray(10))).not.toBe(toHex(probe.subarray(10)));
  });

  it('round-trips a probe and an ack under the same key with the right `from` role', async () => {
    const key = await deriveTunnelKey(PASSPHRASE, SESSION, STREAM);
    const probe = await encodeProbe(key, 'probe', 'sender', NONCE);
    expect(await verifyProbe(key, probe, 'sender')).toEqual({ kind: 'probe', nonce: NONCE });
    const ack = await encodeProbe(key, 'probeAck', 'receiver', NONCE);
    expect(await verifyProbe(key, ack, 'receiver')).toEqual({ kind: 'probeAck', nonce: NONCE });
  });

  it('verifies under a key derived separately from the same inputs (the other agent)', async () => {
    const mine = await deriveTunnelKey(PASSPHRASE, SESSION, STREAM);
    const theirs = await deriveTunnelKey(PASSPHRASE, SESSION, STREAM);
    const nonce = crypto.getRandomValues(new Uint8Array(8));
    const probe = await encodeProbe(theirs, 'probe', 'receiver', nonce);
    const got = await verifyProbe(mine, probe, 'receiver');
    expect(got?.kind).toBe('probe');
    expect(toHex(got!.nonce)).toBe(toHex(nonce));
  });

  it('verifies a probe that sits at an offset inside a larger buffer', async () => {
    const key = await deriveTunnelKey(PASSPHRASE, SESSION, STREAM);
    const probe = await encodeProbe(key, 'probe', 'sender', NONCE);
    const big = new Uint8Array(64).fill(0xaa);
    big.set(probe, 5);
    const view = big.subarray(5, 5 + PROBE_LENGTH);
    expect(await verifyProbe(key, view, 'sender')).toEqual({ kind: 'probe', nonce: NONCE });
  });

  it('refuses a probe verified as coming from its own role (a reflected probe)', async () => {
    const key = await deriveTunnelKey(PASSPHRASE, SESSION, STREAM);
    for (const role of ['sender', 'receiver'] as const) {
      const probe = await encodeProbe(key, 'probe', role, NONCE);
      const other = role === 'sender' ? 'receiver' : 'sender';
      expect(await verifyProbe(key, probe, other)).toBeUndefined();
      expect(await verifyProbe(key, probe, role)).toBeDefined();
    }
  });

  it('refuses a probe under a key derived from another passphrase, session or stream', async () => {
    const key = await deriveTunnelKey(PASSPHRASE, SESSION, STREAM);
    const probe = await encodeProbe(key, 'probe', 'sender', NONCE);
    const ack = await encodeProbe(key, 'probeAck', 'sender', NONCE);
    const others = await Promise.all([
      deriveTunnelKey('correct-horse-battery-staple-43', SESSION, STREAM),
      deriveTunnelKey(PASSPHRASE, 'nab-floor-2', STREAM),
      deriveTunnelKey(PASSPHRASE, SESSION, 'cam-tight'),
      // Session and stream are not interchangeable.
      deriveTunnelKey(PASSPHRASE, STREAM, SESSION),
    ]);
    for (const other of others) {
      expect(await verifyProbe(other, probe, 'sender')).toBeUndefined();
      expect(await verifyProbe(other, ack, 'sender')).toBeUndefined();
      // And the other way round: what the other key signs, this key refuses.
      const theirs = await encodeProbe(other, 'probe', 'sender', NONCE);
      expect(await verifyProbe(key, theirs, 'sender')).toBeUndefined();
    }
  });

  it('refuses a probe with any single byte tampered (type, role, nonce or tag)', async () => {
    const key = await deriveTunnelKey(PASSPHRASE, SESSION, STREAM);
    const probe = await encodeProbe(key, 'probe', 'sender', NONCE);
    for (const i of PROBE_OFFSETS) {
      for (const flip of [0x01, 0x80]) {
        const bad = probe.slice();
        bad[i] = (bad[i] ?? 0) ^ flip;
        expect(await verifyProbe(key, bad, 'sender'), `byte ${i} ^ ${flip}`).toBeUndefined();
        expect(await verifyProbe(key, bad, 'receiver'), `byte ${i} ^ ${flip}`).toBeUndefined();
      }
    }
  });

  it('refuses a probe relabelled as an ack, or re-attributed to the other role', async () => {
    const key = await deriveTunnelKey(PASSPHRASE, SESSION, STREAM);
    const probe = await encodeProbe(key, 'probe', 'sender', NONCE);
    // Type swapped to a valid ack type: the tag covers the type byte.
    const asAck = probe.slice();
    asAck[0] = PacketType.probeAck;
    expect(await verifyProbe(key, asAck, 'sender')).toBeUndefined();
    // Role byte swapped to the receiver's: the tag covers the role byte too.
    const asReceiver = probe.slice();
    asReceiver[1] = 0x52;
    expect(await verifyProbe(key, asReceiver, 'receiver')).toBeUndefined();
  });

  it('refuses a tag that is all zeroes or truncated/extended probes', async () => {
    const key = await deriveTunnelKey(PASSPHRASE, SESSION, STREAM);
    const probe = await encodeProbe(key, 'probe', 'sender', NONCE);
    const zeroTag = probe.slice();
    zeroTag.fill(0, 10);
    expect(await verifyProbe(key, zeroTag, 'sender')).toBeUndefined();
    expect(await verifyProbe(key, probe.subarray(0, PROBE_LENGTH - 1), 'sender')).toBeUndefined();
    expect(await verifyProbe(key, new Uint8Array([...probe, 0]), 'sender')).toBeUndefined();
    expect(await verifyProbe(key, new Uint8Array(0), 'sender')).toBeUndefined();
    // A full 32-byte HMAC instead of the 16-byte truncation is refused as well.
    expect(
      await verifyProbe(key, new Uint8Array([...probe, ...probe.subarray(10)]), 'sender'),
    ).toBeUndefined();
  });

  it('refuses a well-tagged packet of a non-probe type', async () => {
    const key = await deriveTunnelKey(PASSPHRASE, SESSION, STREAM);
    const probe = await encodeProbe(key, 'probe', 'sender', NONCE);
    for (const type of [PacketType.ping, PacketType.pong, PacketType.data, 0x00]) {
      const bad = probe.slice();
      bad[0] = type;
      expect(await verifyProbe(key, bad, 'sender')).toBeUndefined();
    }
  });

  it('throws on a nonce that is not 8 bytes', async () => {
    const key = await deriveTunnelKey(PASSPHRASE, SESSION, STREAM);
    await expect(encodeProbe(key, 'probe', 'sender', new Uint8Array(7))).rejects.toThrow(
      RangeError,
    );
    await expect(encodeProbe(key, 'probe', 'sender', new Uint8Array(9))).rejects.toThrow(
      RangeError,
    );
  });
});

describe('packetType and STUN', () => {
  const all: [PacketTypeName, number][] = [
    ['probe', 0xc1],
    ['probeAck', 0xc2],
    ['ping', 0xc3],
    ['pong', 0xc4],
    ['data', 0xc5],
  ];

  it('has five distinct type bytes with the documented values', () => {
    expect(Object.entries(PacketType).sort()).toEqual(
      all.map(([name, byte]) => [name, byte]).sort(),
    );
    expect(new Set(Object.values(PacketType)).size).toBe(5);
  });

  it.each(all)('maps %s (%d) and is never taken for STUN', (name, byte) => {
    // The first two bits of every agent packet are non-zero; STUN's are zero (RFC 8489 §5).
    expect(byte & 0xc0).not.toBe(0);
    expect(packetType(new Uint8Array([byte]))).toBe(name);
    // A datagram that is otherwise a perfect STUN header (cookie, length 0) stays not-STUN.
    const header = new Uint8Array(20);
    new DataView(header.buffer).setUint32(4, STUN_MAGIC_COOKIE);
    header[0] = byte;
    expect(isStunPacket(header)).toBe(false);
    expect(packetType(header)).toBe(name);
    header[0] = 0x00; // control: the same header with a STUN type byte is STUN
    expect(isStunPacket(header)).toBe(true);
  });

  it('never marks a real agent packet as STUN, and maps each to its type', async () => {
    const key = await deriveTunnelKey(PASSPHRASE, SESSION, STREAM);
    const packets: [PacketTypeName, Uint8Array][] = [
      ['probe', await encodeProbe(key, 'probe', 'sender', NONCE)],
      ['probeAck', await encodeProbe(key, 'probeAck', 'receiver', NONCE)],
      ['ping', encodePing('ping', 1, 2)],
      ['pong', encodePing('pong', 1, 2)],
      // A data datagram: the type byte, then an SRT packet (here a 16-byte header of zeroes).
      ['data', new Uint8Array([PacketType.data, ...new Uint8Array(16)])],
    ];
    for (const [name, packet] of packets) {
      expect(isStunPacket(packet), name).toBe(false);
      expect(packetType(packet)).toBe(name);
    }
  });

  it('maps STUN, SRT, empty and unknown datagrams to undefined', () => {
    const stun = encodeBindingRequest(crypto.getRandomValues(new Uint8Array(12)));
    expect(isStunPacket(stun)).toBe(true);
    expect(packetType(stun)).toBeUndefined();
    expect(packetType(new Uint8Array(0))).toBeUndefined();
    // An SRT control packet starts with bit 1 set (0x80); a data packet with bit 0.
    expect(packetType(new Uint8Array([0x80, 0x00, 0x00, 0x00]))).toBeUndefined();
    for (const b of [0x00, 0x47, 0xc0, 0xc6, 0xff]) {
      expect(packetType(new Uint8Array([b])), `0x${b.toString(16)}`).toBeUndefined();
    }
  });
});
