import {
  KeyDirectory,
  PEER_TOKEN_MAX_TTL,
  authenticatePeer,
  iceServers,
  verifyPeerToken,
  type IceServer,
  type Logger,
  type PeerIdentity,
} from '@punch/core';
import { directoryStore } from './directory-client.js';
import { keyRing, seconds, type Env } from './env.js';

/**
 * Verifies a project peer token from a request's headers (subprotocol or bearer), with keys
 * looked up in the directory object each time: a fresh KeyDirectory per call, so no isolate
 * keeps a deleted key. Failures are logged with the IP, never the token.
 */
export async function verifyPeer(
  env: Env,
  headers: Headers,
  ip: string,
  log: Logger,
): Promise<PeerIdentity> {
  const keys = new KeyDirectory(directoryStore(env, log));
  const maxTtl = seconds(env.PUNCH_MAX_TOKEN_TTL, 'PUNCH_MAX_TOKEN_TTL', PEER_TOKEN_MAX_TTL);
  return authenticatePeer(
    {
      keys: await keyRing(env),
      now: () => Date.now(),
      log,
      verify: (token) =>
        verifyPeerToken(token, { key: (kid) => keys.find(kid), now: Date.now(), maxTtl }),
    },
    headers,
    { ip, endpoint: 'GET /api/signal' },
  );
}

const list = (text: string | undefined): string[] =>
  (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

/**
 * A peer's ICE servers on Workers: the STUN servers the operator names (Punch has no UDP here),
 * and TURN with REST credentials that end with the token.
 */
export async function iceFor(env: Env, identity: PeerIdentity): Promise<IceServer[]> {
  const stun = list(env.PUNCH_STUN_URLS);
  const turnUrls = list(env.PUNCH_TURN_URLS);
  const turn =
    env.PUNCH_TURN_SECRET !== undefined && env.PUNCH_TURN_SECRET !== '' && turnUrls.length > 0
      ? { secret: env.PUNCH_TURN_SECRET, urls: turnUrls }
      : undefined;
  const out = await iceServers({
    stun: null,
    turn,
    peer: identity.peer,
    expiresAt: identity.expiresAt,
  });
  return stun.length > 0 ? [{ urls: stun }, ...out] : out;
}
