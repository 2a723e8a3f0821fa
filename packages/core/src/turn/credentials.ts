/**
 * Long-term credentials (RFC 8489 §9.2) as a TURN server checks them, in the TURN REST form that
 * Punch hands out (signal/ice.ts) and coturn's `use-auth-secret` accepts: the password is not
 * stored anywhere but derived from the username with the shared secret.
 *
 * On string preparation: RFC 8489 §9.2.2 runs username and password through the OpaqueString
 * profile (RFC 8265; RFC 5389 used SASLprep, RFC 4013) before hashing. Neither is implemented
 * here: the strings are hashed as their UTF-8 bytes. Punch's credentials are printable ASCII
 * (`<digits>:<peer id>` and base64), for which both profiles are the identity. Where a client
 * prepares some other string differently, its MESSAGE-INTEGRITY fails: a mismatch locks it out,
 * it never lets anyone in.
 */

import { utf8 } from '../encoding.js';
import { turnCredentials } from '../signal/ice.js';
import { md5 } from './md5.js';

/**
 * The long-term key, MD5(username ":" realm ":" password) (RFC 8489 §9.2.2, the MD5 password
 * algorithm of §18.5.1.1, which every TURN client supports): the HMAC key of MESSAGE-INTEGRITY.
 * The inputs are hashed as given (see the top of this file on string preparation).
 *
 * @example
 * const key = longTermKey('1767225600:alice', 'punch', password);
 * await verifyIntegrity(parsed.message, key);
 */
export function longTermKey(username: string, realm: string, password: string): Uint8Array {
  return md5(utf8(`${username}:${realm}:${password}`));
}

/** The verdict on a TURN REST username (see {@link turnRestPassword}). */
export type TurnRestPassword =
  | {
      readonly ok: true;
      /** base64(HMAC-SHA1(secret, username)): the password for {@link longTermKey}. */
      readonly password: string;
      /** Unix seconds after which the username is refused. */
      readonly expiresAt: number;
      /** The part after the colon: the peer (or agent) the credentials were minted for. */
      readonly id: string;
    }
  | {
      readonly ok: false;
      /**
       * `malformed`: not `<expiry>:<id>` as `turnCredentials` writes it (canonical decimal
       * seconds). `expired`: the expiry has passed. A server answers either with 401.
       */
      readonly reason: 'malformed' | 'expired';
    };

/** Canonical decimal seconds, as `turnCredentials` writes them: no sign, no leading zero. */
const REST_USERNAME = /^(0|[1-9]\d{0,14}):/;

/**
 * Derives the password for a TURN REST username (`<expiry>:<id>`, draft-uberti-behave-turn-rest,
 * coturn's `use-auth-secret`) with the shared `secret`, refusing it once `now` (Unix seconds) is
 * past the expiry, as coturn does. The derivation is `turnCredentials`' own, so what Punch hands
 * out and what its relay accepts cannot drift apart. The username must be exactly what
 * `turnCredentials` produces; coturn's other forms (a bare timestamp, `<id>:<expiry>`) are not
 * Punch's and are refused.
 *
 * @example
 * const verdict = await turnRestPassword(secret, username, Math.floor(Date.now() / 1000));
 * if (!verdict.ok) return challenge(401);
 * const key = longTermKey(username, realm, verdict.password);
 */
export async function turnRestPassword(
  secret: string,
  username: string,
  now: number,
): Promise<TurnRestPassword> {
  const match = REST_USERNAME.exec(username);
  if (match === null) return { ok: false, reason: 'malformed' };
  const expiresAt = Number(match[1]);
  const id = username.slice(match[0].length);
  if (expiresAt < now) return { ok: false, reason: 'expired' };
  const minted = await turnCredentials(secret, id, expiresAt);
  // The pattern already pins the expiry's spelling; this keeps the two formats tied together.
  if (minted.username !== username) return { ok: false, reason: 'malformed' };
  return { ok: true, password: minted.credential, expiresAt, id };
}
