import { z } from 'zod';
import type { IceServer, Logger, RelayCredentials } from '@punch/core';
import type { CloudflareTurnConfig } from './turn-config.js';

/**
 * Cloudflare Realtime TURN's credentials API, as documented in "Generate Credentials"
 * (https://developers.cloudflare.com/realtime/turn/generate-credentials/):
 * - `POST {api}/v1/turn/keys/{key id}/credentials/generate-ice-servers` with
 *   `Authorization: Bearer <key API token>` and `{"ttl": seconds}` answers 201 with
 *   `{"iceServers": [{"urls": ["stun:…"]}, {"urls": ["turn:…", "turns:…"], "username", "credential"}]}`;
 * - `POST {api}/v1/turn/keys/{key id}/credentials/{username}/revoke` (same header, no body)
 *   answers 204 once the credential is revoked.
 * A credential lives at most 48 hours (https://developers.cloudflare.com/realtime/turn/faq/).
 */

/** The longest TTL the API accepts, seconds. */
export const CLOUDFLARE_MAX_TTL = 48 * 3600;
/**
 * How long a call may take. Credentials are minted during a WebSocket upgrade, which must not
 * hang on the API: past this the socket goes on without relay.
 */
const TIMEOUT_MS = 3000;
/** A larger answer is not the documented one. */
const MAX_ANSWER_BYTES = 16 * 1024;

const Urls = z.union([
  z.string().min(1).max(256),
  z.array(z.string().min(1).max(256)).min(1).max(16),
]);
const GenerateAnswer = z.object({
  iceServers: z
    .array(
      z.object({
        urls: Urls,
        username: z.string().min(1).max(512).optional(),
        credential: z.string().min(1).max(512).optional(),
      }),
    )
    .min(1)
    .max(8),
});

/** Minted credentials: the TURN entry for a session socket, and every server for a browser. */
export interface Minted {
  readonly relay: RelayCredentials;
  readonly iceServers: IceServer[];
}

/** Why a call gave nothing: logged, never thrown into an upgrade. */
type Failure =
  | { reason: 'timeout' | 'network' }
  | { reason: 'status'; status: number }
  | { reason: 'malformed'; status: number };

/**
 * The API's client. Every failure is logged once, by reason and HTTP status (never the token),
 * and answered with null/false: a failing Cloudflare API leaves sockets working without relay.
 */
export class CloudflareTurnApi {
  readonly #config: CloudflareTurnConfig;
  readonly #log: Logger;

  constructor(config: CloudflareTurnConfig, log: Logger) {
    this.#config = config;
    this.#log = log;
  }

  /**
   * Credentials that expire at `expiresAt` (Unix seconds; 48 h from now at the latest), or null
   * when there is no time left or the API gave none.
   */
  async generate(expiresAt: number, nowMs: number): Promise<Minted | null> {
    const now = Math.floor(nowMs / 1000);
    const ttl = Math.min(Math.floor(expiresAt) - now, CLOUDFLARE_MAX_TTL);
    if (ttl < 1) return null;
    const url = `${this.#keyPath()}/credentials/generate-ice-servers`;
    const answer = await this.#post(url, JSON.stringify({ ttl }));
    if ('reason' in answer) return this.#failed('generate', answer, null);
    if (answer.status !== 201 && answer.status !== 200) {
      await answer.body?.cancel();
      return this.#failed('generate', { reason: 'status', status: answer.status }, null);
    }
    // A body that breaks off is as useless as a malformed one: both are refused below.
    const text = await answer.text().catch(() => undefined);
    const json = text === undefined || text.length > MAX_ANSWER_BYTES ? undefined : parseJson(text);
    const parsed = GenerateAnswer.safeParse(json);
    const minted = parsed.success ? mintedFrom(parsed.data, now + ttl) : undefined;
    if (minted === undefined)
      return this.#failed('generate', { reason: 'malformed', status: answer.status }, null);
    return minted;
  }

  /** Revokes one credential; false (logged) when the API did not confirm it. */
  async revoke(username: string): Promise<boolean> {
    const url = `${this.#keyPath()}/credentials/${encodeURIComponent(username)}/revoke`;
    const answer = await this.#post(url, undefined);
    if ('reason' in answer) return this.#failed('revoke', answer, false);
    // The body is not needed; cancelling it frees the connection.
    await answer.body?.cancel();
    if (answer.status < 200 || answer.status > 299)
      return this.#failed('revoke', { reason: 'status', status: answer.status }, false);
    return true;
  }

  #keyPath(): string {
    return `${this.#config.api}/v1/turn/keys/${encodeURIComponent(this.#config.keyId)}`;
  }

  async #post(url: string, body: string | undefined): Promise<Response | Failure> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.#config.token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      return await fetch(url, {
        method: 'POST',
        headers,
        ...(body === undefined ? {} : { body }),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (err) {
      // A timeout or a network failure is a typed result: the caller goes on without relay.
      const name = err instanceof Error ? err.name : '';
      return { reason: name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'network' };
    }
  }

  #failed<T>(call: 'generate' | 'revoke', failure: Failure, answer: T): T {
    this.#log.warn(
      { call, keyId: this.#config.keyId, ...failure },
      call === 'generate'
        ? 'Cloudflare TURN: no credentials minted; the socket goes on without relay'
        : 'Cloudflare TURN: a credential was not revoked; it lapses at its expiry',
    );
    return answer;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // Not JSON: the schema check that follows refuses undefined as malformed.
    return undefined;
  }
}

/** The answer's TURN entry (the one with a username) and every server in RTCIceServer form. */
function mintedFrom(answer: z.infer<typeof GenerateAnswer>, expiresAt: number): Minted | undefined {
  const iceServers: IceServer[] = answer.iceServers.map((s) => ({
    urls: typeof s.urls === 'string' ? [s.urls] : s.urls,
    ...(s.username === undefined ? {} : { username: s.username }),
    ...(s.credential === undefined ? {} : { credential: s.credential }),
  }));
  for (const s of iceServers) {
    const urls = s.urls.filter((u) => /^turns?:/.test(u));
    if (s.username === undefined || s.credential === undefined || urls.length === 0) continue;
    // What a session socket keeps through hibernation (its attachment is 2 KiB at most).
    if (urls.join('').length > 1200) return undefined;
    return {
      relay: { urls, username: s.username, credential: s.credential, expiresAt },
      iceServers,
    };
  }
  return undefined;
}
