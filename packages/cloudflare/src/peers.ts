import {
  KeyDirectory,
  PEER_TOKEN_MAX_TTL,
  authenticatePeer,
  verifyPeerToken,
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
