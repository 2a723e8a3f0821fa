import { describe, expect, it } from 'vitest';
import { hex } from '../encoding.js';
import {
  TURN_ERROR_REASONS,
  challengeResponse,
  errorResponse,
  unknownAttributesResponse,
} from './error-response.js';
import { STUN_METHOD, encodeMessage, parseMessage } from './message.js';
import { RFC5769_REQUEST, RFC5769_TID, fromHex } from '../stun/test/vectors.js';

const request = {
  method: STUN_METHOD.allocate,
  class: 'request',
  transactionId: fromHex(RFC5769_TID),
} as const;

function roundTrip(bytes: Uint8Array) {
  const result = parseMessage(bytes);
  if (!result.ok) throw new Error(result.reason);
  return result.message;
}

describe('error responses', () => {
  it('answer with the same method and transaction id, ERROR-CODE first', () => {
    const m = roundTrip(encodeMessage(errorResponse(request, 437), { fingerprint: true }));
    expect([m.method, m.class, hex(m.transactionId)]).toEqual([3, 'error', RFC5769_TID]);
    expect(m.attributes).toEqual([
      { type: 'ERROR-CODE', code: 437, reason: 'Allocation Mismatch' },
    ]);
  });

  it('encode every defined code', () => {
    for (const code of Object.keys(TURN_ERROR_REASONS).map(Number)) {
      const m = roundTrip(encodeMessage(errorResponse(request, code as 400)));
      expect(m.attributes[0]).toMatchObject({ type: 'ERROR-CODE', code });
    }
  });

  it('420 lists what the request did not understand (RFC 5769 §2.1 has PRIORITY)', () => {
    const parsed = parseMessage(RFC5769_REQUEST);
    if (!parsed.ok) throw new Error(parsed.reason);
    const answer = unknownAttributesResponse(parsed.message, parsed.message.unknownRequired);
    const m = roundTrip(encodeMessage(answer));
    expect([m.method, m.class]).toEqual([STUN_METHOD.binding, 'error']);
    expect(m.attributes).toEqual([
      { type: 'ERROR-CODE', code: 420, reason: 'Unknown Attribute' },
      { type: 'UNKNOWN-ATTRIBUTES', types: [0x0024] },
    ]);
  });

  it('401 and 438 challenges carry REALM and a fresh NONCE', () => {
    for (const code of [401, 438] as const) {
      const m = roundTrip(encodeMessage(challengeResponse(request, code, 'punch', '1.abc')));
      expect(m.attributes).toEqual([
        { type: 'ERROR-CODE', code, reason: TURN_ERROR_REASONS[code] },
        { type: 'REALM', value: 'punch' },
        { type: 'NONCE', value: '1.abc' },
      ]);
    }
  });
});
