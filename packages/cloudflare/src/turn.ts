import {
  iceServers,
  turnRestCredentials,
  type IceServer,
  type Logger,
  type PeerIdentity,
  type RelayIssuer,
  type SqlIssuedRelays,
} from '@punch/core';
import { CloudflareTurnApi } from './cf-turn.js';
import type { Env } from './env.js';
import { revokeAll } from './issued.js';
import { turnSource } from './turn-config.js';

/** The scope a session object files its usernames under (it holds one session). */
export const SESSION_SCOPE = 'session';

/**
 * A session socket's relay credentials on Workers (`RoomDeps.relay`): TURN REST credentials
 * for coturn, or Cloudflare Realtime TURN credentials (remembered in `issued`, to be revoked
 * when the session closes), or none. Never rejects for a failing API: that socket gets null.
 *
 * @example
 * const relay = sessionRelay(env, log, issued);
 * await relay({ session: 'show', conn: 'k3v9', expiresAt, host: undefined });
 */
export function sessionRelay(env: Env, log: Logger, issued: SqlIssuedRelays): RelayIssuer {
  return async (request) => {
    const source = turnSource(env, log);
    if (source.kind === 'rest') return turnRestCredentials(source.turn, request);
    if (source.kind === 'none') return null;
    const api = new CloudflareTurnApi(source.cloudflare, log);
    const minted = await api.generate(request.expiresAt, Date.now());
    if (minted === null) return null;
    issued.remember(minted.relay.username, SESSION_SCOPE, minted.relay.expiresAt, Date.now());
    return minted.relay;
  };
}

/**
 * A project peer's ICE servers on Workers: the STUN servers the operator names (Punch has no
 * UDP here), then TURN: REST credentials for coturn, or what Cloudflare Realtime TURN minted
 * (filed under the token's key in `issued`, to be revoked when the key is deleted). Both end
 * with the token. A failing Cloudflare API leaves STUN only.
 *
 * @example
 * const servers = await peerIceServers(env, identity, log, issued);
 */
export async function peerIceServers(
  env: Env,
  identity: PeerIdentity,
  log: Logger,
  issued: SqlIssuedRelays | undefined,
): Promise<IceServer[]> {
  const stun = list(env.PUNCH_STUN_URLS);
  const stunOut: IceServer[] = stun.length > 0 ? [{ urls: stun }] : [];
  const source = turnSource(env, log);
  if (source.kind === 'none') return stunOut;
  if (source.kind === 'rest') {
    const turn = await iceServers({
      stun: null,
      turn: source.turn,
      peer: identity.peer,
      expiresAt: identity.expiresAt,
    });
    return [...stunOut, ...turn];
  }
  const minted = await new CloudflareTurnApi(source.cloudflare, log).generate(
    identity.expiresAt,
    Date.now(),
  );
  if (minted === null) return stunOut;
  issued?.remember(minted.relay.username, identity.kid, minted.relay.expiresAt, Date.now());
  return [...stunOut, ...minted.iceServers];
}

/**
 * Revokes with Cloudflare what `issued` holds under `scope` (a kid, or {@link SESSION_SCOPE};
 * everything when undefined); the rows go whatever the TURN source. Resolves to how many the
 * API confirmed.
 *
 * @example
 * ctx.waitUntil(revokeIssued(env, log, issued, SESSION_SCOPE));
 */
export async function revokeIssued(
  env: Env,
  log: Logger,
  issued: SqlIssuedRelays,
  scope: string | undefined,
): Promise<number> {
  const usernames = issued.take(scope, Date.now());
  const source = turnSource(env, log);
  if (source.kind !== 'cloudflare' || usernames.length === 0) return 0;
  const revoked = await revokeAll(new CloudflareTurnApi(source.cloudflare, log), usernames);
  log.info(
    { scope: scope ?? 'all', issued: usernames.length, revoked },
    'TURN credentials revoked',
  );
  return revoked;
}

const list = (text: string | undefined): string[] =>
  (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
