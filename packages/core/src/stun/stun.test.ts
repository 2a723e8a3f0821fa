import { describe, it, expect } from 'vitest';
import {
  STUN_MAGIC_COOKIE,
  encodeBindingRequest,
  encodeBindingSuccess,
  isStunPacket,
  parseBindingRequest,
  parseBindingResponse,
} from './stun.js';
import { crc32 } from './crc32.js';
import {
  RFC5769_IPV4_RESPONSE,
  RFC5769_IPV6_RESPONSE,
  RFC5769_REQUEST,
  RFC5769_TID,
  build,
  fromHex,
  mulberry32,
} from './test/vectors.js';

// ---------------------------------------------------------------------------------------------
// Helpers (web standards only: this file lives in core, where Buffer is off limits).

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Walks attributes of a (trusted, well-formed) message: [type, value] pairs in order. */
function attributesOf(msg: Uint8Array): [number, Uint8Array][] {
  const dv = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  const out: [number, Uint8Array][] = [];
  for (let at = 20; at < msg.length;) {
    const len = dv.getUint16(at + 2);
    out.push([dv.getUint16(at), msg.slice(at + 4, at + 4 + len)]);
    at += 4 + Math.ceil(len / 4) * 4;
  }
  return out;
}

function fingerprintIsValid(msg: Uint8Array): boolean {
  const dv = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  const at = msg.length - 8;
  return (
    dv.getUint16(at) === 0x8028 &&
    dv.getUint32(at + 4) === (crc32(msg.subarray(0, at)) ^ 0x5354554e) >>> 0
  );
}

// The RFC 5769 vectors live in test/vectors.ts, shared with the TURN codec's tests.

const TID = fromHex('0102030405060708090a0b0c');

// ---------------------------------------------------------------------------------------------

describe('crc32', () => {
  it('matches the CRC-32/ISO-HDLC check value', () => {
    expect(crc32(utf8('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it('validates the FINGERPRINT of every RFC 5769 vector', () => {
    for (const vector of [RFC5769_REQUEST, RFC5769_IPV4_RESPONSE, RFC5769_IPV6_RESPONSE]) {
      expect(fingerprintIsValid(vector)).toBe(true);
    }
  });
});

describe('RFC 5769 golden vectors', () => {
  it('§2.1: parses the sample request: username and transaction id', () => {
    const req = parseBindingRequest(RFC5769_REQUEST);
    expect(req).toBeDefined();
    expect(req?.username).toBe('evtj:h6vY');
    expect(toHex(req!.transactionId)).toBe(RFC5769_TID);
  });

  it('§2.2: parses the IPv4 sample response', () => {
    const res = parseBindingResponse(RFC5769_IPV4_RESPONSE);
    expect(res?.mapped).toEqual({ ip: '192.0.2.1', port: 32853, family: 4 });
    expect(toHex(res!.transactionId)).toBe(RFC5769_TID);
  });

  it('§2.3: parses the IPv6 sample response', () => {
    const res = parseBindingResponse(RFC5769_IPV6_RESPONSE);
    expect(res?.mapped).toEqual({
      ip: '2001:db8:1234:5678:11:2233:4455:6677',
      port: 32853,
      family: 6,
    });
    expect(toHex(res!.transactionId)).toBe(RFC5769_TID);
  });

  it('encodes XOR-MAPPED-ADDRESS byte-identical to §2.2 and §2.3', () => {
    const tid = fromHex(RFC5769_TID);
    const v4 = encodeBindingSuccess(tid, { ip: '192.0.2.1', port: 32853, family: 4 });
    const v6 = encodeBindingSuccess(tid, {
      ip: '2001:db8:1234:5678:11:2233:4455:6677',
      port: 32853,
      family: 6,
    });
    expect(toHex(v4)).toContain('002000080001a147e112a643');
    expect(toHex(v6)).toContain('002000140002a1470113a9faa5d3f179bc25f4b5bed2b9d9');
  });

  it('does not confuse requests and responses', () => {
    expect(parseBindingRequest(RFC5769_IPV4_RESPONSE)).toBeUndefined();
    expect(parseBindingRequest(RFC5769_IPV6_RESPONSE)).toBeUndefined();
    expect(parseBindingResponse(RFC5769_REQUEST)).toBeUndefined();
  });

  it('rejects each vector with a corrupted FINGERPRINT', () => {
    for (const vector of [RFC5769_REQUEST, RFC5769_IPV4_RESPONSE, RFC5769_IPV6_RESPONSE]) {
      const bad = vector.slice();
      bad[bad.length - 1]! ^= 0x01;
      expect(parseBindingRequest(bad)).toBeUndefined();
      expect(parseBindingResponse(bad)).toBeUndefined();
    }
  });

  it('no single-bit flip of a vector changes what the parser returns', () => {
    // CRC-32 detects every single-bit error in the bytes it covers. The only flips that still
    // parse are those that hide the FINGERPRINT itself (its type field, or a MESSAGE-INTEGRITY
    // length that swallows it): the result is a fingerprint-less message, which RFC 8489 §14.7
    // permits, and those bytes carry nothing we return.
    const cases = [
      [RFC5769_REQUEST, (p: Uint8Array) => parseBindingRequest(p)],
      [RFC5769_IPV4_RESPONSE, (p: Uint8Array) => parseBindingResponse(p)],
      [RFC5769_IPV6_RESPONSE, (p: Uint8Array) => parseBindingResponse(p)],
    ] as const;
    for (const [vector, parse] of cases) {
      const original = parse(vector);
      let accepted = 0;
      for (let byte = 0; byte < vector.length; byte++) {
        for (let bit = 0; bit < 8; bit++) {
          const bad = vector.slice();
          bad[byte]! ^= 1 << bit;
          const result = parse(bad);
          if (result !== undefined) {
            accepted++;
            expect(result, `byte ${byte} bit ${bit}`).toEqual(original);
            expect(byte, 'only FINGERPRINT-hiding flips may parse').toBeGreaterThanOrEqual(
              vector.length - 32,
            );
          }
        }
      }
      expect(accepted).toBeLessThan(20);
    }
  });
});

describe('encodeBindingSuccess', () => {
  it('round-trips IPv4 and lays out XOR-MAPPED-ADDRESS, SOFTWARE, FINGERPRINT', () => {
    const mapped = { ip: '203.0.113.77', port: 61000, family: 4 } as const;
    const msg = encodeBindingSuccess(TID, mapped);
    const dv = new DataView(msg.buffer);
    expect(dv.getUint16(0)).toBe(0x0101);
    expect(dv.getUint16(2)).toBe(msg.length - 20);
    expect(dv.getUint32(4)).toBe(STUN_MAGIC_COOKIE);
    expect(toHex(msg.subarray(8, 20))).toBe(toHex(TID));
    expect(attributesOf(msg).map(([t]) => t)).toEqual([0x0020, 0x8022, 0x8028]);
    const software = attributesOf(msg)[1]![1];
    expect(new TextDecoder().decode(software)).toBe('punch');
    expect(fingerprintIsValid(msg)).toBe(true);
    expect(isStunPacket(msg)).toBe(true);

    const res = parseBindingResponse(msg);
    expect(res?.mapped).toEqual(mapped);
    expect(toHex(res!.transactionId)).toBe(toHex(TID));
  });

  it('round-trips IPv6, normalising to the canonical compressed form', () => {
    const cases: [string, string][] = [
      ['2001:db8:1234:5678:11:2233:4455:6677', '2001:db8:1234:5678:11:2233:4455:6677'],
      ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
      ['::1', '::1'],
      ['::', '::'],
      ['fe80::1%eth0', 'fe80::1'], // zone ids are host-local (RFC 4007 §6)
      ['1:0:0:1:0:0:0:1', '1:0:0:1::1'], // longest run is compressed
      ['1:0:0:1:0:0:1:1', '1::1:0:0:1:1'], // first run wins a tie (RFC 5952 §4.2.3)
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not compressed
      ['::1.2.3.4', '::1.2.3.4'], // IPv4-compatible, printed as Node/libuv does
    ];
    for (const [input, canonical] of cases) {
      const msg = encodeBindingSuccess(TID, { ip: input, port: 443, family: 6 });
      expect(parseBindingResponse(msg)?.mapped, input).toEqual({
        ip: canonical,
        port: 443,
        family: 6,
      });
    }
  });

  it('sends IPv4-mapped IPv6 peers (dual-stack sockets) as plain IPv4', () => {
    const msg = encodeBindingSuccess(TID, { ip: '::ffff:198.51.100.9', port: 5000, family: 6 });
    expect(parseBindingResponse(msg)?.mapped).toEqual({
      ip: '198.51.100.9',
      port: 5000,
      family: 4,
    });
  });

  it('round-trips ports 0 and 65535', () => {
    for (const port of [0, 65535]) {
      const msg = encodeBindingSuccess(TID, { ip: '10.0.0.1', port, family: 4 });
      expect(parseBindingResponse(msg)?.mapped.port).toBe(port);
    }
  });

  it('throws on programming errors', () => {
    const ok = { ip: '10.0.0.1', port: 1, family: 4 } as const;
    expect(() => encodeBindingSuccess(new Uint8Array(11), ok)).toThrow(TypeError);
    expect(() => encodeBindingSuccess(TID, { ...ok, ip: '10.0.0.256' })).toThrow(TypeError);
    expect(() => encodeBindingSuccess(TID, { ...ok, ip: '010.0.0.1' })).toThrow(TypeError);
    expect(() => encodeBindingSuccess(TID, { ...ok, ip: '::1' })).toThrow(TypeError);
    expect(() => encodeBindingSuccess(TID, { ip: '10.0.0.1', port: 1, family: 6 })).toThrow(
      TypeError,
    );
    expect(() => encodeBindingSuccess(TID, { ip: '1::2::3', port: 1, family: 6 })).toThrow(
      TypeError,
    );
    expect(() => encodeBindingSuccess(TID, { ...ok, port: 65536 })).toThrow(RangeError);
    expect(() => encodeBindingSuccess(TID, { ...ok, port: -1 })).toThrow(RangeError);
    expect(() => encodeBindingSuccess(TID, { ...ok, port: 1.5 })).toThrow(RangeError);
  });
});

describe('encodeBindingRequest', () => {
  it('round-trips without a username', () => {
    const msg = encodeBindingRequest(TID);
    expect(msg.length).toBe(28); // header + FINGERPRINT
    expect(attributesOf(msg).map(([t]) => t)).toEqual([0x8028]);
    expect(fingerprintIsValid(msg)).toBe(true);
    const req = parseBindingRequest(msg);
    expect(req).toEqual({ transactionId: TID });
    expect(req && 'username' in req).toBe(false);
  });

  it('round-trips a (non-ASCII, padded) username with FINGERPRINT last', () => {
    const username = 'ζ-room:alice';
    const msg = encodeBindingRequest(TID, username);
    expect(attributesOf(msg).map(([t]) => t)).toEqual([0x0006, 0x8028]);
    expect(fingerprintIsValid(msg)).toBe(true);
    expect(parseBindingRequest(msg)).toEqual({ transactionId: TID, username });
  });

  it('limits the username it sends to under 509 bytes (RFC 8489 §14.3)', () => {
    expect(parseBindingRequest(encodeBindingRequest(TID, 'u'.repeat(508)))?.username).toBe(
      'u'.repeat(508),
    );
    expect(() => encodeBindingRequest(TID, 'u'.repeat(509))).toThrow(RangeError);
    expect(() => encodeBindingRequest(new Uint8Array(16))).toThrow(TypeError);
  });

  it('returns a copy of the transaction id, not a view of the datagram', () => {
    const msg = encodeBindingRequest(TID, 'x');
    const req = parseBindingRequest(msg)!;
    msg.fill(0);
    expect(toHex(req.transactionId)).toBe(toHex(TID));
  });

  it('accepts a datagram that is a view into a larger buffer', () => {
    const msg = encodeBindingRequest(TID, 'offset');
    const big = new Uint8Array(msg.length + 7);
    big.set(msg, 3);
    expect(parseBindingRequest(big.subarray(3, 3 + msg.length))?.username).toBe('offset');
  });
});

describe('parseBindingRequest rejects malformed input', () => {
  const good = () => encodeBindingRequest(TID, 'alice');

  it('truncated packets (every prefix of the RFC sample and of our own)', () => {
    for (const full of [RFC5769_REQUEST, good()]) {
      for (let n = 0; n < full.length; n++) {
        expect(parseBindingRequest(full.subarray(0, n)), `prefix ${n}`).toBeUndefined();
      }
    }
  });

  it('wrong magic cookie', () => {
    const bad = build(0x0001, TID, [[0x0006, utf8('alice')]]);
    new DataView(bad.buffer).setUint32(4, 0x2112a443);
    expect(parseBindingRequest(bad)).toBeUndefined();
  });

  it('wrong message type (indication, error response, other method, top bits set)', () => {
    for (const type of [0x0011, 0x0111, 0x0101, 0x0003, 0x4001, 0x8001]) {
      expect(parseBindingRequest(build(type, TID, [])), type.toString(16)).toBeUndefined();
    }
    expect(parseBindingRequest(build(0x0001, TID, []))).toEqual({ transactionId: TID });
  });

  it('header length that does not match the datagram, or is not a multiple of 4', () => {
    const msg = good();
    const longer = new Uint8Array(msg.length + 4);
    longer.set(msg);
    expect(parseBindingRequest(longer)).toBeUndefined(); // trailing bytes beyond the length

    const lying = msg.slice();
    new DataView(lying.buffer).setUint16(2, msg.length - 20 - 4);
    expect(parseBindingRequest(lying)).toBeUndefined();

    const odd = new Uint8Array(22);
    odd.set(build(0x0001, TID, []));
    new DataView(odd.buffer).setUint16(2, 2);
    expect(parseBindingRequest(odd)).toBeUndefined();
  });

  it('an attribute overrunning the end of the message', () => {
    const bad = build(0x0001, TID, [[0x0006, utf8('alice')]]);
    new DataView(bad.buffer).setUint16(22, 200); // USERNAME claims 200 bytes
    expect(parseBindingRequest(bad)).toBeUndefined();
    new DataView(bad.buffer).setUint16(22, 9); // one byte more than the 8 that are there
    expect(parseBindingRequest(bad)).toBeUndefined();
  });

  it('FINGERPRINT that is not last, has the wrong length, or the wrong CRC', () => {
    const fp = good();
    const notLast = build(0x0001, TID, [
      ...attributesOf(fp),
      [0x8022, utf8('tail')], // anything after FINGERPRINT
    ]);
    expect(parseBindingRequest(notLast)).toBeUndefined();

    const wrongLength = build(0x0001, TID, [[0x8028, new Uint8Array(8)]]);
    expect(parseBindingRequest(wrongLength)).toBeUndefined();

    const wrongCrc = fp.slice();
    wrongCrc[wrongCrc.length - 2]! ^= 0x80;
    expect(parseBindingRequest(wrongCrc)).toBeUndefined();
  });

  it('USERNAME that is not UTF-8 or longer than 763 bytes', () => {
    expect(parseBindingRequest(build(0x0001, TID, [[0x0006, fromHex('c328')]]))).toBeUndefined();
    expect(parseBindingRequest(build(0x0001, TID, [[0x0006, fromHex('ed a0 80')]]))).toBe(
      undefined,
    ); // a UTF-16 surrogate is not UTF-8
    const max = utf8('v'.repeat(763));
    expect(parseBindingRequest(build(0x0001, TID, [[0x0006, max]]))?.username).toHaveLength(763);
    const over = utf8('v'.repeat(764));
    expect(parseBindingRequest(build(0x0001, TID, [[0x0006, over]]))).toBeUndefined();
  });

  it('datagrams over the 1096-byte cap, even if otherwise well-formed', () => {
    const filler = (n: number) => build(0x0001, TID, [[0x8023, new Uint8Array(n)]], true);
    expect(filler(1096 - 20 - 4 - 8).length).toBe(1096);
    expect(parseBindingRequest(filler(1096 - 20 - 4 - 8))).toEqual({ transactionId: TID });
    expect(parseBindingRequest(filler(1100 - 20 - 4 - 8))).toBeUndefined();
  });
});

describe('parseBindingRequest tolerance', () => {
  it('ignores unknown attributes, comprehension-required or not, and padding contents', () => {
    const msg = build(
      0x0001,
      TID,
      [
        [0x0003, fromHex('00000000')], // CHANGE-REQUEST (RFC 5780): comprehension-required
        [0x7fff, utf8('x')],
        [0x0006, utf8('bob')],
        [0xc001, utf8('optional')],
      ],
      true,
    );
    expect(parseBindingRequest(msg)).toEqual({ transactionId: TID, username: 'bob' });
  });

  it('uses the first USERNAME and ignores attributes after MESSAGE-INTEGRITY (RFC 8489 §14.5)', () => {
    const twice = build(0x0001, TID, [
      [0x0006, utf8('first')],
      [0x0006, utf8('second')],
    ]);
    expect(parseBindingRequest(twice)?.username).toBe('first');

    const late = build(
      0x0001,
      TID,
      [
        [0x0008, new Uint8Array(20)],
        [0x0006, utf8('late')],
      ],
      true,
    );
    expect(parseBindingRequest(late)).toEqual({ transactionId: TID });
  });
});

describe('parseBindingResponse', () => {
  const mappedV4 = (port: number, ip: [number, number, number, number]) =>
    new Uint8Array([0, 0x01, port >> 8, port & 0xff, ...ip]);

  it('falls back to MAPPED-ADDRESS when there is no XOR-MAPPED-ADDRESS', () => {
    const msg = build(0x0101, TID, [[0x0001, mappedV4(3478, [198, 51, 100, 1])]], true);
    expect(parseBindingResponse(msg)?.mapped).toEqual({
      ip: '198.51.100.1',
      port: 3478,
      family: 4,
    });
  });

  it('prefers XOR-MAPPED-ADDRESS, and falls back if it is malformed', () => {
    const good = attributesOf(encodeBindingSuccess(TID, { ip: '1.2.3.4', port: 9, family: 4 }));
    const xorAttr = good[0]!;
    const both = build(0x0101, TID, [[0x0001, mappedV4(1, [9, 9, 9, 9])], xorAttr]);
    expect(parseBindingResponse(both)?.mapped.ip).toBe('1.2.3.4');

    const brokenXor: [number, Uint8Array] = [0x0020, new Uint8Array([0, 0x02, 0, 0, 1, 2, 3, 4])];
    const fallback = build(0x0101, TID, [brokenXor, [0x0001, mappedV4(1, [9, 9, 9, 9])]]);
    expect(parseBindingResponse(fallback)?.mapped.ip).toBe('9.9.9.9');
  });

  it('is undefined without a usable address, or for bad families/lengths', () => {
    expect(parseBindingResponse(build(0x0101, TID, [], true))).toBeUndefined();
    for (const value of [
      new Uint8Array([0, 0x03, 0, 1, 1, 2, 3, 4]), // unknown family
      new Uint8Array([0, 0x01, 0, 1, 1, 2, 3]), // short IPv4
      new Uint8Array([0, 0x02, 0, 1, 1, 2, 3, 4]), // IPv6 family, IPv4 length
      new Uint8Array(2),
    ]) {
      expect(parseBindingResponse(build(0x0101, TID, [[0x0020, value]]))).toBeUndefined();
    }
  });

  it('rejects error responses and truncations', () => {
    expect(parseBindingResponse(build(0x0111, TID, [[0x0001, mappedV4(1, [1, 1, 1, 1])]]))).toBe(
      undefined,
    );
    for (let n = 0; n < RFC5769_IPV6_RESPONSE.length; n++) {
      expect(parseBindingResponse(RFC5769_IPV6_RESPONSE.subarray(0, n))).toBeUndefined();
    }
  });
});

describe('isStunPacket', () => {
  it('is true for STUN-framed datagrams of any class', () => {
    expect(isStunPacket(RFC5769_REQUEST)).toBe(true);
    expect(isStunPacket(RFC5769_IPV4_RESPONSE)).toBe(true);
    expect(isStunPacket(encodeBindingRequest(TID))).toBe(true);
    expect(isStunPacket(build(0x0011, TID, []))).toBe(true); // Binding indication
    expect(isStunPacket(build(0x0111, TID, []))).toBe(true); // error response
    // No size cap: a huge STUN-shaped datagram is still STUN (for the parsers to drop).
    expect(isStunPacket(build(0x0001, TID, [[0x8023, new Uint8Array(2000)]]))).toBe(true);
  });

  it('is false for other traffic and broken framing', () => {
    expect(isStunPacket(new Uint8Array(0))).toBe(false);
    expect(isStunPacket(RFC5769_REQUEST.subarray(0, 19))).toBe(false);
    expect(isStunPacket(RFC5769_REQUEST.subarray(0, 104))).toBe(false); // length mismatch

    const rtpLike = RFC5769_REQUEST.slice();
    rtpLike[0] = 0x80; // RTP version 2 / SRT control bit: top bits set
    expect(isStunPacket(rtpLike)).toBe(false);

    const cookie = RFC5769_REQUEST.slice();
    cookie[7] = 0x43;
    expect(isStunPacket(cookie)).toBe(false);

    const odd = new Uint8Array(22);
    odd.set(build(0x0001, TID, []));
    new DataView(odd.buffer).setUint16(2, 2);
    expect(isStunPacket(odd)).toBe(false);

    expect(isStunPacket(utf8('GET / HTTP/1.1\r\nHost: x\r\n\r\n'))).toBe(false);
  });
});

describe('fuzz: junk never throws', () => {
  it('2000 seeded random buffers, half of them with a plausible STUN header', () => {
    const rand = mulberry32(0x5eed);
    const byte = () => Math.floor(rand() * 256);
    for (let i = 0; i < 2000; i++) {
      const length = Math.floor(rand() * 160);
      const buf = new Uint8Array(length);
      for (let j = 0; j < length; j++) buf[j] = byte();
      const framed = i % 2 === 1 && length >= 20;
      if (framed) {
        // Make the header valid so the attribute walker, not the header check, sees the junk.
        const padded = new Uint8Array(20 + Math.floor((length - 20) / 4) * 4);
        padded.set(buf.subarray(0, padded.length));
        const dv = new DataView(padded.buffer);
        dv.setUint16(0, rand() < 0.5 ? 0x0001 : 0x0101);
        dv.setUint16(2, padded.length - 20);
        dv.setUint32(4, STUN_MAGIC_COOKIE);
        expect(() => parseBindingRequest(padded)).not.toThrow();
        expect(() => parseBindingResponse(padded)).not.toThrow();
        expect(isStunPacket(padded)).toBe(true);
      } else {
        expect(() => parseBindingRequest(buf)).not.toThrow();
        expect(() => parseBindingResponse(buf)).not.toThrow();
        expect(() => isStunPacket(buf)).not.toThrow();
        // Unframed random bytes essentially never carry the cookie and a matching length.
        expect(parseBindingRequest(buf)).toBeUndefined();
        expect(parseBindingResponse(buf)).toBeUndefined();
      }
    }
  });

  it('random corruptions of valid messages never throw', () => {
    const rand = mulberry32(42);
    const seeds = [
      RFC5769_REQUEST,
      RFC5769_IPV4_RESPONSE,
      RFC5769_IPV6_RESPONSE,
      encodeBindingRequest(TID, 'fuzz'),
    ];
    for (let i = 0; i < 2000; i++) {
      const msg = seeds[i % seeds.length]!.slice();
      const flips = 1 + Math.floor(rand() * 4);
      for (let f = 0; f < flips; f++) msg[Math.floor(rand() * msg.length)] = rand() * 256;
      expect(() => parseBindingRequest(msg)).not.toThrow();
      expect(() => parseBindingResponse(msg)).not.toThrow();
    }
  });
});
