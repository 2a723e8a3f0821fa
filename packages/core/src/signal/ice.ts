import { base64, utf8 } from '../encoding.js';

/** An ICE server in the browser's `RTCIceServer` form. */
export interface IceServer {
  urls: string[];
  username?: string;
  credential?: string;
}

export interface TurnConfig {
  /** The secret coturn has as `static-auth-secret` (`use-auth-secret`). */
  readonly secret: string;
  /** `turn:` / `turns:` URLs, e.g. `turn:turn.example.com:3478?transport=udp`. */
  readonly urls: readonly string[];
}

/**
 * TURN REST-API credentials (draft-uberti-behave-turn-rest, as coturn's `use-auth-secret`
 * checks them): `username = "<expiry>:<peer>"`, `credential = base64(HMAC-SHA1(secret,
 * username))`. coturn refuses the username after `expiry` (Unix seconds).
 *
 * @example
 * const { username, credential } = await turnCredentials('s3cret', 'alice', 1767225600);
 * // username === '1767225600:alice'
 */
export async function turnCredentials(
  secret: string,
  peer: string,
  expiresAt: number,
): Promise<{ username: string; credential: string }> {
  const username = `${Math.floor(expiresAt)}:${peer}`;
  const key = await crypto.subtle.importKey(
    'raw',
    utf8(secret),
    { name: 'HMAC', hash: 'SHA-1' },
    false,
    ['sign'],
  );
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, utf8(username)));
  return { username, credential: base64(mac) };
}

/**
 * The `iceServers` a peer gets in `welcome`: Punch's own STUN (when the host runs one) and TURN
 * with credentials that expire with the peer's token, never later.
 *
 * @example
 * await iceServers({ stun: { host: 'punch.example', port: 3478 }, turn, peer: 'alice', expiresAt });
 * // [{ urls: ['stun:punch.example:3478'] }, { urls: ['turn:…'], username, credential }]
 */
export async function iceServers(options: {
  readonly stun: { readonly host: string; readonly port: number } | null;
  readonly turn: TurnConfig | undefined;
  readonly peer: string;
  readonly expiresAt: number;
}): Promise<IceServer[]> {
  const out: IceServer[] = [];
  if (options.stun !== null) {
    const host = options.stun.host.includes(':') ? `[${options.stun.host}]` : options.stun.host;
    out.push({ urls: [`stun:${host}:${options.stun.port}`] });
  }
  if (options.turn !== undefined && options.turn.urls.length > 0) {
    const creds = await turnCredentials(options.turn.secret, options.peer, options.expiresAt);
    out.push({ urls: [...options.turn.urls], ...creds });
  }
  return out;
}
