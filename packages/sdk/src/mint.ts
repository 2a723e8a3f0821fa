import { importJWK, SignJWT, type JWK } from 'jose';
import { checkId, checkPattern, MAX_ALLOW_RULES, type AllowRule } from './ids.js';

/**
 * Peer tokens, minted by the developer's server with the project key's private half. Uses only
 * WebCrypto (through jose), so the same code runs on Node, Deno, Bun and Workers.
 */

export type PeerTokenAlg = 'EdDSA' | 'ES256';

/** Longest lifetime Punch accepts by default (24 h). */
export const MAX_PEER_TOKEN_TTL = 24 * 3600;
/** Lifetime when none is given (1 h). */
export const DEFAULT_PEER_TOKEN_TTL = 3600;

export interface MintPeerTokenOptions {
  /**
   * The key's id (`kid`) in the project. May be left out when `privateKey` is a JWK that
   * carries its `kid`, as the ones Punch returns and `punch key create` writes do.
   */
  readonly keyId?: string;
  /**
   * The project id (`pr-…`), set as the token's `aud`: Punch refuses a token whose `aud` is not
   * its key's project. May be left out when `privateKey` is a JWK that carries `project`, as
   * the ones Punch returns and `punch key create` writes do.
   */
  readonly project?: string;
  /** The private key: a private JWK (Ed25519 or P-256) or a WebCrypto `CryptoKey`. */
  readonly privateKey: JWK | CryptoKey;
  /**
   * The algorithm. Optional: read from the JWK's `alg`, its curve, or the CryptoKey's
   * algorithm.
   */
  readonly alg?: PeerTokenAlg;
  /** The group this token speaks for. */
  readonly group: string;
  /** The peer id this token speaks for. */
  readonly peer: string;
  /** Whom the holder may signal: `{group, peer}` patterns, each part with at most one `*`. */
  readonly allow: readonly AllowRule[];
  /** Lifetime in seconds, 1 to 86 400 (default 3600). */
  readonly ttl?: number;
  /** The current time in ms since the epoch (default `Date.now()`); for tests. */
  readonly now?: number;
}

function algOfJwk(jwk: JWK): PeerTokenAlg {
  if (jwk.alg === 'EdDSA') return 'EdDSA';
  if (jwk.alg === 'ES256') return 'ES256';
  if (jwk.alg !== undefined) {
    throw new TypeError(`privateKey.alg must be EdDSA or ES256, not ${JSON.stringify(jwk.alg)}`);
  }
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256';
  throw new TypeError('privateKey must be an Ed25519 (OKP) or P-256 (EC) JWK');
}

function algOfCryptoKey(key: CryptoKey): PeerTokenAlg {
  const a = key.algorithm;
  if (a.name === 'Ed25519') return 'EdDSA';
  if (a.name === 'ECDSA' && 'namedCurve' in a && a.namedCurve === 'P-256') return 'ES256';
  throw new TypeError(`privateKey is a ${a.name} key: use an Ed25519 or P-256 (ECDSA) key`);
}

function isJwk(key: JWK | CryptoKey): key is JWK {
  return typeof key === 'object' && key !== null && 'kty' in key;
}

// Importing a JWK costs a WebCrypto round trip: keep the CryptoKey for each JWK object.
const imported = new WeakMap<JWK, Promise<CryptoKey>>();

async function importPrivate(jwk: JWK, alg: PeerTokenAlg): Promise<CryptoKey> {
  if (typeof jwk.d !== 'string') {
    throw new TypeError('privateKey is a public JWK (no "d"): mint with the private half');
  }
  let key = imported.get(jwk);
  if (key === undefined) {
    key = importJWK(jwk, alg).then((k) => {
      // Only symmetric ("oct") JWKs import as bytes, and those were refused by algOfJwk.
      if (k instanceof Uint8Array) throw new TypeError('privateKey is not an asymmetric key');
      return k;
    });
    imported.set(jwk, key);
    key.catch(() => imported.delete(jwk));
  }
  return key;
}

/**
 * The algorithm and WebCrypto key to sign with, from a private JWK or CryptoKey (and an optional
 * `alg` that overrides what the key says). Throws TypeError on a public or unsupported key.
 *
 * @example
 * const { alg, key } = await signingKey(JSON.parse(await readFile('punch-key.json', 'utf8')));
 */
export async function signingKey(
  privateKey: JWK | CryptoKey,
  algOverride?: PeerTokenAlg,
): Promise<{ alg: PeerTokenAlg; key: CryptoKey }> {
  if (typeof privateKey !== 'object' || privateKey === null) {
    throw new TypeError('privateKey must be a private JWK or a CryptoKey');
  }
  let alg: PeerTokenAlg;
  let key: CryptoKey;
  if (isJwk(privateKey)) {
    alg = algOverride ?? algOfJwk(privateKey);
    key = await importPrivate(privateKey, alg);
  } else {
    if (privateKey.type !== 'private') {
      throw new TypeError(
        `privateKey is a ${privateKey.type} CryptoKey: sign with the private key`,
      );
    }
    alg = algOverride ?? algOfCryptoKey(privateKey);
    key = privateKey;
  }
  if (alg !== 'EdDSA' && alg !== 'ES256') {
    throw new TypeError(`alg must be EdDSA or ES256, not ${JSON.stringify(alg)}`);
  }
  return { alg, key };
}

function checkTtl(ttl: unknown): number {
  if (ttl === undefined) return DEFAULT_PEER_TOKEN_TTL;
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 1 || ttl > MAX_PEER_TOKEN_TTL) {
    throw new RangeError(
      `ttl must be a whole number of seconds from 1 to ${MAX_PEER_TOKEN_TTL} (got ${typeof ttl === 'number' ? String(ttl) : typeof ttl})`,
    );
  }
  return ttl;
}

function checkAllow(allow: unknown): AllowRule[] {
  if (!Array.isArray(allow)) {
    throw new TypeError('allow must be an array of {group, peer} patterns');
  }
  if (allow.length > MAX_ALLOW_RULES) {
    throw new RangeError(`allow holds at most ${MAX_ALLOW_RULES} rules (got ${allow.length})`);
  }
  return allow.map((rule: unknown, i) => {
    if (typeof rule !== 'object' || rule === null) {
      throw new TypeError(`allow[${i}] must be {group, peer}`);
    }
    return {
      group: checkPattern(`allow[${i}].group`, 'group' in rule ? rule.group : undefined),
      peer: checkPattern(`allow[${i}].peer`, 'peer' in rule ? rule.peer : undefined),
    };
  });
}

/**
 * Mints a peer token: a JWT (header `{alg, kid, typ: "JWT"}`, claims `{aud, gid, pid, ap, iat,
 * exp}`, `aud` the project id) that lets a browser join the project's signalling as (group, peer) and signal the
 * peers `allow` matches. Run it on your server: the private key must never reach a browser.
 * Throws TypeError or RangeError on a bad argument, naming it.
 *
 * @example
 * import { readFile } from 'node:fs/promises';
 * const privateKey = JSON.parse(await readFile('punch-key.json', 'utf8'));
 * const token = await mintPeerToken({
 *   privateKey, // its kid, alg and project are read from the JWK
 *   group: 'room-1',
 *   peer: 'alice',
 *   allow: [{ group: 'room-1', peer: '*' }],
 *   ttl: 3600,
 * });
 */
export async function mintPeerToken(options: MintPeerTokenOptions): Promise<string> {
  const { privateKey } = options;
  if (typeof privateKey !== 'object' || privateKey === null) {
    throw new TypeError('privateKey must be a private JWK or a CryptoKey');
  }
  const group = checkId('group', options.group);
  const peer = checkId('peer', options.peer);
  const allow = checkAllow(options.allow);
  const ttl = checkTtl(options.ttl);
  const kid = options.keyId ?? (isJwk(privateKey) ? privateKey.kid : undefined);
  if (typeof kid !== 'string' || kid === '' || kid.length > 128) {
    throw new TypeError(
      'keyId is required (the key\'s kid), unless privateKey is a JWK with "kid"',
    );
  }
  // `project` is not a JWK member jose knows: read it from the object as unknown.
  const fromKey: unknown =
    isJwk(privateKey) && 'project' in privateKey ? privateKey.project : undefined;
  const project = options.project ?? fromKey;
  if (typeof project !== 'string' || project === '' || project.length > 128) {
    throw new TypeError(
      'project is required (the project id, set as aud), unless privateKey is a JWK with "project"',
    );
  }
  const { alg, key } = await signingKey(privateKey, options.alg);
  const now = options.now ?? Date.now();
  if (!Number.isFinite(now)) throw new TypeError('now must be a time in ms');
  const iat = Math.floor(now / 1000);
  return new SignJWT({ gid: group, pid: peer, ap: allow })
    .setProtectedHeader({ alg, kid, typ: 'JWT' })
    .setAudience(project)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttl)
    .sign(key);
}
