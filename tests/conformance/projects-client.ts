/** Black-box helpers for the projects realm: accounts, projects, keys, peer tokens, signalling. */
import { CompactSign, SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';
import { call, uniqueName, WsClient, UpgradeRefused } from './client.js';
import type { Host } from './host.js';

export interface Account {
  readonly name: string;
  readonly key: string;
}

export interface ProjectKey {
  readonly kid: string;
  /** The project it was uploaded to: the `aud` of the tokens it signs. */
  readonly project: string;
  readonly alg: 'EdDSA' | 'ES256';
  readonly privateKey: CryptoKey;
  readonly privateJwk: JWK;
}

export async function newAccount(host: Host, prefix = 'acct'): Promise<Account> {
  const name = uniqueName(prefix);
  return { name, key: await host.createAccount(name) };
}

export async function newProject(base: string, account: Account, name = 'test'): Promise<string> {
  const r = await call(base, 'POST', '/api/projects', { token: account.key, body: { name } });
  if (r.status !== 201) throw new Error(`project create failed: ${r.status} ${r.text}`);
  return (r.json as { id: string }).id;
}

/**
 * A proof of possession for a key upload (DESIGN "Revocation is final"), made with jose
 * directly (independent of the SDK under test): a compact JWS over `{project, iat}`.
 */
export function keyProof(
  privateKey: CryptoKey,
  alg: 'EdDSA' | 'ES256',
  payload: unknown,
  typ = 'punch-key-proof+jwt',
): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg, typ })
    .sign(privateKey);
}

/** Makes a key pair locally and uploads the public half with its proof, as `punch key create` does. */
export async function uploadKey(
  base: string,
  account: Account,
  project: string,
  alg: 'EdDSA' | 'ES256' = 'EdDSA',
): Promise<ProjectKey> {
  const pair = await generateKeyPair(alg, { extractable: true });
  const publicJwk = await exportJWK(pair.publicKey);
  const proof = await keyProof(pair.privateKey, alg, {
    project,
    iat: Math.floor(Date.now() / 1000),
  });
  const r = await call(base, 'POST', `/api/projects/${project}/keys`, {
    token: account.key,
    body: { publicJwk, proof },
  });
  if (r.status !== 201) throw new Error(`key upload failed: ${r.status} ${r.text}`);
  const { kid } = r.json as { kid: string };
  return {
    kid,
    project,
    alg,
    privateKey: pair.privateKey,
    privateJwk: await exportJWK(pair.privateKey),
  };
}

export interface MintOptions {
  group: string;
  peer: string;
  allow?: { group: string; peer: string }[];
  ttl?: number;
  /** Override claims or header for bad-input tests. */
  iat?: number;
  exp?: number;
  kid?: string;
  alg?: string;
  /** The `aud` claim (default: the key's project); null leaves it out. */
  aud?: string | null;
}

/** Signs a peer token with `key` (jose, independent of the SDK under test). */
export function mint(key: ProjectKey, o: MintOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const iat = o.iat ?? now;
  const aud = o.aud === undefined ? key.project : o.aud;
  return new SignJWT({
    gid: o.group,
    pid: o.peer,
    ap: o.allow ?? [{ group: o.group, peer: '*' }],
    ...(aud === null ? {} : { aud }),
  })
    .setProtectedHeader({ alg: o.alg ?? key.alg, kid: o.kid ?? key.kid, typ: 'JWT' })
    .setIssuedAt(iat)
    .setExpirationTime(o.exp ?? iat + (o.ttl ?? 600))
    .sign(key.privateKey);
}

/** Opens `/api/signal` with the token as a subprotocol, as browsers do. */
export function signal(base: string, token: string, from?: string): Promise<WsClient> {
  return WsClient.connect(base, '', undefined, {
    path: '/api/signal',
    protocols: ['punch.v1', `punch.token.${token}`],
    ...(from === undefined ? {} : { from }),
  });
}

/** Expects `/api/signal` to refuse the upgrade; returns the refusal. */
export async function signalRefused(base: string, token: string): Promise<UpgradeRefused> {
  try {
    const c = await signal(base, token);
    c.close();
  } catch (err) {
    if (err instanceof UpgradeRefused) return err;
    throw err;
  }
  throw new Error('the upgrade was accepted');
}
