import { describe, expect, it } from 'vitest';
import { hex, utf8 } from '../encoding.js';
import { longTermKey } from './credentials.js';
import {
  appendIntegrity,
  constantTimeEqual,
  encodeSignedMessage,
  verifyIntegrity,
} from './integrity.js';
import { STUN_METHOD, encodeMessage, parseMessage, type ParsedStunMessage } from './message.js';
import {
  RFC5769_IPV4_RESPONSE,
  RFC5769_IPV6_RESPONSE,
  RFC5769_LONG_TERM,
  RFC5769_LONG_TERM_REQUEST,
  RFC5769_PASSWORD,
  RFC5769_REQUEST,
  RFC5769_TID,
  fromHex,
} from '../stun/test/vectors.js';
import { stunFingerprint } from '../stun/stun.js';

function parsed(bytes: Uint8Array): ParsedStunMessage {
  const result = parseMessage(bytes);
  if (!result.ok) throw new Error(`expected a message, got ${result.reason}`);
  return result.message;
}

const SHORT_TERM_KEY = utf8(RFC5769_PASSWORD);
const ltc = RFC5769_LONG_TERM;
const LONG_TERM_KEY = longTermKey(ltc.username, ltc.realm, ltc.password);

describe('MESSAGE-INTEGRITY on the RFC 5769 vectors', () => {
  it('§2.1-2.3: verifies under the short-term password, and only under it', async () => {
    for (const vector of [RFC5769_REQUEST, RFC5769_IPV4_RESPONSE, RFC5769_IPV6_RESPONSE]) {
      const m = parsed(vector);
      expect(await verifyIntegrity(m, SHORT_TERM_KEY)).toBe(true);
      expect(await verifyIntegrity(m, utf8('VOkJxbRl1RmTxUk/WvJxBu'))).toBe(false);
    }
  });

  it('§2.4: verifies under the long-term key, and only under it', async () => {
    const m = parsed(RFC5769_LONG_TERM_REQUEST);
    expect(m.fingerprint).toBe(false);
    expect(await verifyIntegrity(m, LONG_TERM_KEY)).toBe(true);
    const wrong = longTermKey(ltc.username, ltc.realm, 'TheMatrix');
    expect(await verifyIntegrity(m, wrong)).toBe(false);
  });

  it('§2.4: the encoder reproduces the long-term request byte for byte', async () => {
    const bytes = await encodeSignedMessage(
      {
        method: STUN_METHOD.binding,
        class: 'request',
        transactionId: fromHex(ltc.transactionId),
        attributes: [
          { type: 'USERNAME', value: ltc.username },
          { type: 'NONCE', value: ltc.nonce },
          { type: 'REALM', value: ltc.realm },
        ],
      },
      LONG_TERM_KEY,
    );
    expect(hex(bytes)).toBe(hex(RFC5769_LONG_TERM_REQUEST));
  });

  it('fails when a covered byte changes, even with FINGERPRINT recomputed', async () => {
    // Byte 44 is PRIORITY's value in §2.1; redo the FINGERPRINT so only the MAC can notice.
    const tampered = RFC5769_REQUEST.slice();
    tampered[44]! ^= 1;
    new DataView(tampered.buffer).setUint32(104, stunFingerprint(tampered.subarray(0, 100)));
    const m = parsed(tampered);
    expect(await verifyIntegrity(m, SHORT_TERM_KEY)).toBe(false);
  });

  it('is false without MESSAGE-INTEGRITY or with an empty key, never a throw', async () => {
    const unsigned = parsed(
      encodeMessage({
        method: STUN_METHOD.allocate,
        class: 'request',
        transactionId: fromHex(RFC5769_TID),
        attributes: [],
      }),
    );
    expect(await verifyIntegrity(unsigned, SHORT_TERM_KEY)).toBe(false);
    expect(await verifyIntegrity(parsed(RFC5769_REQUEST), new Uint8Array(0))).toBe(false);
  });
});

describe('signing', () => {
  const request = {
    method: STUN_METHOD.allocate,
    class: 'request',
    transactionId: fromHex(RFC5769_TID),
    attributes: [
      { type: 'REQUESTED-TRANSPORT', protocol: 17 },
      { type: 'USERNAME', value: '1767225600:alice' },
    ],
  } as const;

  it('puts MESSAGE-INTEGRITY before FINGERPRINT, and both check out', async () => {
    const bytes = await encodeSignedMessage(request, LONG_TERM_KEY, { fingerprint: true });
    const m = parsed(bytes);
    expect(m.fingerprint).toBe(true);
    expect(m.attributes).toEqual(request.attributes);
    expect(await verifyIntegrity(m, LONG_TERM_KEY)).toBe(true);
    // MESSAGE-INTEGRITY header 24 + 8 bytes before the end, FINGERPRINT last.
    expect(hex(bytes.subarray(bytes.length - 32, bytes.length - 28))).toBe('00080014');
    expect(hex(bytes.subarray(bytes.length - 8, bytes.length - 4))).toBe('80280004');
  });

  it('appendIntegrity equals encodeSignedMessage and refuses an empty key', async () => {
    const a = await appendIntegrity(encodeMessage(request), LONG_TERM_KEY);
    const b = await encodeSignedMessage(request, LONG_TERM_KEY);
    expect(hex(a)).toBe(hex(b));
    await expect(appendIntegrity(encodeMessage(request), new Uint8Array(0))).rejects.toThrow(
      RangeError,
    );
  });
});

describe('constantTimeEqual', () => {
  it('compares contents and lengths', () => {
    expect(constantTimeEqual(fromHex('0102'), fromHex('0102'))).toBe(true);
    expect(constantTimeEqual(fromHex('0102'), fromHex('0103'))).toBe(false);
    expect(constantTimeEqual(fromHex('0102'), fromHex('010200'))).toBe(false);
    expect(constantTimeEqual(new Uint8Array(0), new Uint8Array(0))).toBe(true);
  });
});

/** Bytes whose `slice` is a view, as a Node Buffer's is (what a host's socket hands over). */
class ViewSlicing extends Uint8Array {
  override slice(start?: number, end?: number): Uint8Array<ArrayBuffer> {
    return this.subarray(start, end);
  }
}

describe('bytes from a socket (slice is a view)', () => {
  it('a signed, fingerprinted answer with XOR addresses parses, verifies and is left as it was', async () => {
    const key = longTermKey('user', 'punch.test', 'pass');
    const encoded = await encodeSignedMessage(
      {
        method: STUN_METHOD.allocate,
        class: 'success',
        transactionId: fromHex(RFC5769_TID),
        attributes: [
          { type: 'XOR-RELAYED-ADDRESS', address: { ip: '192.0.2.7', port: 49152, family: 4 } },
          { type: 'XOR-MAPPED-ADDRESS', address: { ip: '198.51.100.2', port: 40000, family: 4 } },
          { type: 'LIFETIME', seconds: 600 },
        ],
      },
      key,
      { fingerprint: true },
    );
    const pooled = new ViewSlicing(encoded.length + 16);
    const packet = pooled.subarray(8, 8 + encoded.length);
    packet.set(encoded);
    const before = hex(packet);
    const m = parsed(packet);
    expect(m.fingerprint).toBe(true);
    expect(await verifyIntegrity(m, key)).toBe(true);
    expect(m.attributes[0]).toMatchObject({ address: { ip: '192.0.2.7', port: 49152 } });
    expect(hex(packet)).toBe(before);
  });
});
