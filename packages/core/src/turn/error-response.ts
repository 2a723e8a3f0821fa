/**
 * Error responses (RFC 8489 §6.3.4, §14.8): the error codes STUN and TURN define with their
 * reason phrases, and the three answers a TURN server builds most: a plain error, 420 with
 * UNKNOWN-ATTRIBUTES, and the 401/438 challenge with REALM and NONCE.
 */

import type { TurnAttribute } from './attributes.js';
import type { StunHeader, StunMessage } from './message.js';

/** Error codes and their recommended reason phrases (RFC 8489 §14.8, RFC 8656 §18.11). */
export const TURN_ERROR_REASONS = {
  300: 'Try Alternate',
  400: 'Bad Request',
  401: 'Unauthenticated',
  403: 'Forbidden',
  420: 'Unknown Attribute',
  437: 'Allocation Mismatch',
  438: 'Stale Nonce',
  440: 'Address Family not Supported',
  441: 'Wrong Credentials',
  442: 'Unsupported Transport Protocol',
  443: 'Peer Address Family Mismatch',
  486: 'Allocation Quota Reached',
  500: 'Server Error',
  508: 'Insufficient Capacity',
} as const;

export type TurnErrorCode = keyof typeof TURN_ERROR_REASONS;

/**
 * The error response to `request`: same method and transaction id, ERROR-CODE first with the
 * code's reason phrase, then `attributes`. Encode it with `encodeMessage` (or
 * `encodeSignedMessage` when the request was authenticated).
 *
 * @example
 * encodeMessage(errorResponse(request, 437), { fingerprint: true });
 */
export function errorResponse(
  request: StunHeader,
  code: TurnErrorCode,
  attributes: readonly TurnAttribute[] = [],
): StunMessage {
  return {
    method: request.method,
    class: 'error',
    transactionId: request.transactionId,
    attributes: [{ type: 'ERROR-CODE', code, reason: TURN_ERROR_REASONS[code] }, ...attributes],
  };
}

/**
 * 420 Unknown Attribute listing the comprehension-required types the server did not understand
 * (RFC 8489 §6.3.1.1, §14.9): a parsed message's `unknownRequired`.
 *
 * @example
 * if (parsed.message.unknownRequired.length > 0) {
 *   reply(unknownAttributesResponse(parsed.message, parsed.message.unknownRequired));
 * }
 */
export function unknownAttributesResponse(
  request: StunHeader,
  types: readonly number[],
): StunMessage {
  return errorResponse(request, 420, [{ type: 'UNKNOWN-ATTRIBUTES', types: [...types] }]);
}

/**
 * The long-term credential challenge (RFC 8489 §9.2.4): 401 Unauthenticated for a request with
 * no or wrong credentials, 438 Stale Nonce for one whose nonce is no longer valid; both carry
 * REALM and a fresh NONCE, and should carry no MESSAGE-INTEGRITY (the server cannot sign for a
 * client it has not authenticated).
 *
 * @example
 * reply(challengeResponse(request, 438, 'punch', await issueNonce(key, now + 600, client)));
 */
export function challengeResponse(
  request: StunHeader,
  code: 401 | 438,
  realm: string,
  nonce: string,
): StunMessage {
  return errorResponse(request, code, [
    { type: 'REALM', value: realm },
    { type: 'NONCE', value: nonce },
  ]);
}
