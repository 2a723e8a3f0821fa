import {
  challengeResponse,
  checkNonce,
  encodeMessage,
  encodeSignedMessage,
  errorResponse,
  findAttribute,
  issueNonce,
  longTermKey,
  nonceKey,
  turnRestPassword,
  verifyIntegrity,
  type ParsedStunMessage,
  type StunMessage,
  type TurnAttribute,
  type TurnErrorCode,
} from '@punch/core';
import { clientKey, type ClientLink } from './allocations.js';
import { bump, type TurnStats } from './stats.js';

/** The realm in every challenge: credentials are minted for it (RFC 8489 §9.2). */
export const TURN_REALM = 'punch';
/** How long a nonce stays valid; after that a request gets 438 and retries with a fresh one. */
const NONCE_LIFETIME_S = 600;

/**
 * How the relay answers requests: the long-term credential check with TURN REST passwords and
 * stateless nonces bound to the client's address (RFC 8489 §9.2), error answers (signed once the
 * client is authenticated), and signed success answers. Every refusal is counted by code.
 */
export async function answers(io: {
  readonly secret: string;
  readonly stats: TurnStats;
  readonly nowS: () => number;
  /** False for credentials that must no longer work though unexpired (a closed session's). */
  readonly usable?: (username: string) => boolean;
}) {
  const { secret, stats, nowS } = io;
  const send = (bytes: Uint8Array, to: ClientLink): void => {
    to.send(bytes, 'answer');
  };
  // core types the key with the DOM's CryptoKey, which the Node lib does not declare.
  // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment
  const nonces = await nonceKey(new TextEncoder().encode(`punch-turn-nonce|${secret}`));

  const refuse = async (
    request: ParsedStunMessage,
    to: ClientLink,
    code: TurnErrorCode,
    key?: Uint8Array,
  ): Promise<void> => {
    bump(stats.refused, code);
    const message = errorResponse(request, code);
    send(
      key === undefined
        ? encodeMessage(message, { fingerprint: true })
        : await encodeSignedMessage(message, key, { fingerprint: true }),
      to,
    );
  };
  const challenge = async (
    request: ParsedStunMessage,
    to: ClientLink,
    code: 401 | 438,
  ): Promise<void> => {
    bump(stats.refused, code);
    const nonce = await issueNonce(nonces, nowS() + NONCE_LIFETIME_S, clientKey(to));
    send(
      encodeMessage(challengeResponse(request, code, TURN_REALM, nonce), { fingerprint: true }),
      to,
    );
  };
  const succeed = async (
    request: ParsedStunMessage,
    to: ClientLink,
    key: Uint8Array,
    attributes: TurnAttribute[] = [],
  ): Promise<Uint8Array> => {
    const message: StunMessage = {
      method: request.method,
      class: 'success',
      transactionId: request.transactionId,
      attributes,
    };
    const bytes = await encodeSignedMessage(message, key, { fingerprint: true });
    send(bytes, to);
    return bytes;
  };

  /** The long-term credential check (RFC 8489 §9.2.4); undefined when it answered already. */
  const authenticate = async (
    request: ParsedStunMessage,
    client: ClientLink,
  ): Promise<{ username: string; key: Uint8Array; expiresAt: number } | undefined> => {
    const username = findAttribute(request.attributes, 'USERNAME')?.value;
    const realm = findAttribute(request.attributes, 'REALM')?.value;
    const nonce = findAttribute(request.attributes, 'NONCE')?.value;
    if (request.integrity === undefined) {
      await challenge(request, client, 401);
      return undefined;
    }
    if (username === undefined || realm === undefined || nonce === undefined) {
      {
        await refuse(request, client, 400);
        return undefined;
      }
    }
    if ((await checkNonce(nonces, nonce, nowS(), clientKey(client))) !== 'valid') {
      {
        await challenge(request, client, 438);
        return undefined;
      }
    }
    const verdict = await turnRestPassword(secret, username, nowS());
    if (realm !== TURN_REALM || !verdict.ok || io.usable?.(username) === false) {
      await challenge(request, client, 401);
      return undefined;
    }
    const key = longTermKey(username, TURN_REALM, verdict.password);
    if (!(await verifyIntegrity(request, key))) {
      await challenge(request, client, 401);
      return undefined;
    }
    return { username, key, expiresAt: verdict.expiresAt };
  };

  return { refuse, succeed, authenticate };
}
