import { PunchError } from '../errors.js';
import { base64url, fromBase64url, fromUtf8, utf8 } from '../encoding.js';
import { TokenClaimsSchema, type TokenClaims } from './claims.js';

/**
 * `p_` session tokens: `p_` + base64url(JSON payload) + `.` + base64url(HMAC-SHA256(key, the
 * text before the dot, `p_` included)). Stateless; verified with WebCrypto's HMAC verify,
 * which compares in constant time.
 */

const PREFIX = 'p_';
/** Longest token accepted; anything longer is malformed before any crypto runs. */
export const MAX_TOKEN_LENGTH = 1024;
const SHAPE = /^p_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/;

/**
 * The signing keys: `current` signs and verifies; `previous` (during a secret rotation) only
 * verifies, so live shows survive a rotation.
 */
export class KeyRing {
  readonly #current: CryptoKey;
  readonly #previous: readonly CryptoKey[];

  private constructor(current: CryptoKey, previous: readonly CryptoKey[]) {
    this.#current = current;
    this.#previous = previous;
  }

  /**
   * Builds a key ring from secrets (UTF-8; at least 32 bytes each).
   *
   * @example
   * const keys = await KeyRing.fromSecrets(process.env.PUNCH_SECRET, [oldSecret]);
   */
  static async fromSecrets(current: string, previous: readonly string[] = []): Promise<KeyRing> {
    for (const s of [current, ...previous]) {
      if (utf8(s).byteLength < 32)
        throw new RangeError('a signing secret must be at least 32 bytes');
    }
    const [cur, ...prev] = await Promise.all([current, ...previous].map(importKey));
    if (cur === undefined) throw new RangeError('no signing secret');
    return new KeyRing(cur, prev);
  }

  get current(): CryptoKey {
    return this.#current;
  }

  get all(): readonly CryptoKey[] {
    return [this.#current, ...this.#previous];
  }
}

function importKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', utf8(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
    'verify',
  ]);
}

/**
 * Signs claims into a `p_` token with the ring's current key.
 *
 * @example
 * const token = await signToken(keys, { session: 'nab-floor', role: 'admin', stream: null, exp });
 */
export async function signToken(keys: KeyRing, claims: TokenClaims): Promise<string> {
  const head = PREFIX + base64url(utf8(JSON.stringify(claims)));
  const sig = new Uint8Array(await crypto.subtle.sign('HMAC', keys.current, utf8(head)));
  return `${head}.${base64url(sig)}`;
}

export interface VerifyOptions {
  /** The session the request is for; a token for any other is refused. */
  readonly session?: string;
  /** Current time in Unix seconds. */
  readonly now: number;
}

export interface Verified {
  readonly claims: TokenClaims;
  /** True when only a previous (rotated-out) key verified it: the holder should get a fresh one. */
  readonly stale: boolean;
}

/**
 * Verifies a `p_` token. Throws PunchError with a distinct code for each failure:
 * ERR_TOKEN_MALFORMED, ERR_TOKEN_SIGNATURE, ERR_TOKEN_EXPIRED (no leeway),
 * ERR_TOKEN_WRONG_SESSION. The signature is checked before anything in the payload is read.
 *
 * @example
 * const { claims } = await verifyToken(keys, token, { session: 'nab-floor', now: Date.now() / 1000 });
 */
export async function verifyToken(
  keys: KeyRing,
  token: string,
  options: VerifyOptions,
): Promise<Verified> {
  if (token.length > MAX_TOKEN_LENGTH || !SHAPE.test(token)) {
    throw new PunchError('ERR_TOKEN_MALFORMED');
  }
  const dot = token.indexOf('.');
  const head = token.slice(0, dot);
  const sig = fromBase64url(token.slice(dot + 1));
  const body = fromBase64url(head.slice(PREFIX.length));
  if (sig === undefined || body === undefined) throw new PunchError('ERR_TOKEN_MALFORMED');

  // Every key is tried, whatever the outcome, so timing does not tell which one matched.
  const data = utf8(head);
  const results = await Promise.all(
    keys.all.map((k) => crypto.subtle.verify('HMAC', k, sig, data)),
  );
  const index = results.indexOf(true);
  if (index < 0) throw new PunchError('ERR_TOKEN_SIGNATURE');

  let json: unknown;
  try {
    json = JSON.parse(fromUtf8(body));
  } catch (cause) {
    throw new PunchError('ERR_TOKEN_MALFORMED', undefined, { cause });
  }
  const parsed = TokenClaimsSchema.safeParse(json);
  if (!parsed.success) throw new PunchError('ERR_TOKEN_MALFORMED');
  const claims = parsed.data;
  if (claims.exp <= options.now) throw new PunchError('ERR_TOKEN_EXPIRED');
  if (options.session !== undefined && claims.session !== options.session) {
    throw new PunchError('ERR_TOKEN_WRONG_SESSION');
  }
  return { claims, stale: index > 0 };
}

/**
 * Pulls the token out of an `Authorization: Bearer …` header value.
 *
 * @example
 * bearer('Bearer p_abc.def') // 'p_abc.def'
 */
export function bearer(header: string | null | undefined): string | undefined {
  if (header === null || header === undefined) return undefined;
  const m = /^Bearer +(\S+)\s*$/i.exec(header);
  return m?.[1];
}

/** The WebSocket subprotocol every Punch client offers and the server selects. */
export const WS_PROTOCOL = 'punch.v1';
const TOKEN_PROTOCOL_PREFIX = 'punch.token.';

/**
 * Finds the token offered as a `punch.token.<token>` subprotocol (browsers cannot set headers).
 *
 * @example
 * tokenFromProtocols('punch.v1, punch.token.p_abc.def') // 'p_abc.def'
 */
export function tokenFromProtocols(header: string | null | undefined): string | undefined {
  if (header === null || header === undefined) return undefined;
  for (const part of header.split(',')) {
    const p = part.trim();
    if (p.startsWith(TOKEN_PROTOCOL_PREFIX)) return p.slice(TOKEN_PROTOCOL_PREFIX.length);
  }
  return undefined;
}
