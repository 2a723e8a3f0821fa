import { PunchError, type Logger, type TurnConfig } from '@punch/core';
import type { Env } from './env.js';

/**
 * Which TURN server the Workers host hands out, in both realms (DESIGN.md "The relay",
 * "External TURN"): coturn with TURN REST credentials (`PUNCH_TURN_URLS` + `PUNCH_TURN_SECRET`),
 * Cloudflare Realtime TURN (`PUNCH_CF_TURN_KEY_ID` + `PUNCH_CF_TURN_API_TOKEN`), or none.
 * Workers has no UDP, so there is no relay of Punch's own here.
 */
export type TurnSource =
  | { readonly kind: 'none' }
  | { readonly kind: 'rest'; readonly turn: TurnConfig }
  | { readonly kind: 'cloudflare'; readonly cloudflare: CloudflareTurnConfig };

/** What the Cloudflare Realtime TURN API needs: a TURN key's id and its API token. */
export interface CloudflareTurnConfig {
  readonly keyId: string;
  readonly token: string;
  /** The API's base URL, without a trailing slash (PUNCH_CF_TURN_API, for tests). */
  readonly api: string;
}

export const CLOUDFLARE_TURN_API = 'https://rtc.live.cloudflare.com';

/**
 * Credentials travel in each session socket's hibernation attachment (2 KiB at most, with
 * the socket's id and IP): the URLs handed out must fit there.
 */
const MAX_URLS = 8;
const MAX_URL_CHARS = 200;

const sources = new WeakMap<Env, TurnSource | PunchError>();

/**
 * The TURN source the variables name, read once per isolate. Half a configuration (URLs without
 * the secret, a key id without its token), both kinds at once, or a URL that is not `turn:` /
 * `turns:` is an operator error that fails every request with the fix in the message (and one
 * log line per isolate): never a quiet "no relay".
 */
export function turnSource(env: Env, log?: Logger): TurnSource {
  let source = sources.get(env);
  if (source === undefined) {
    try {
      source = readTurnSource(env);
    } catch (err) {
      if (!(err instanceof PunchError)) throw err;
      source = err;
      log?.error({ code: err.code, detail: err.message }, 'TURN configuration refused');
    }
    sources.set(env, source);
  }
  if (source instanceof PunchError) throw source;
  return source;
}

const set = (value: string | undefined): value is string =>
  value !== undefined && value.trim() !== '';

const refuse = (message: string): never => {
  throw new PunchError('ERR_INTERNAL', message);
};

/** {@link turnSource} without the cache (exported for the unit tests). */
export function readTurnSource(env: Env): TurnSource {
  const urls = (env.PUNCH_TURN_URLS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const rest = urls.length > 0 || set(env.PUNCH_TURN_SECRET);
  const cf = set(env.PUNCH_CF_TURN_KEY_ID) || set(env.PUNCH_CF_TURN_API_TOKEN);
  if (rest && cf)
    refuse(
      'set PUNCH_TURN_URLS + PUNCH_TURN_SECRET (coturn) or PUNCH_CF_TURN_KEY_ID + PUNCH_CF_TURN_API_TOKEN (Cloudflare Realtime TURN), not both',
    );
  if (rest) {
    if (urls.length === 0)
      refuse(
        'PUNCH_TURN_SECRET is set but PUNCH_TURN_URLS is not: name the TURN server, e.g. turn:turn.example.com:3478?transport=udp',
      );
    const secret = env.PUNCH_TURN_SECRET;
    if (!set(secret))
      refuse(
        "PUNCH_TURN_URLS is set but PUNCH_TURN_SECRET is not: `wrangler secret put PUNCH_TURN_SECRET` (coturn's static-auth-secret)",
      );
    if (urls.length > MAX_URLS) refuse(`PUNCH_TURN_URLS holds at most ${MAX_URLS} URLs`);
    for (const url of urls) {
      if (!/^turns?:[^\s]+$/.test(url) || url.length > MAX_URL_CHARS)
        refuse(
          `PUNCH_TURN_URLS: "${url.slice(0, MAX_URL_CHARS)}" is not a turn: or turns: URL (at most ${MAX_URL_CHARS} characters)`,
        );
    }
    return { kind: 'rest', turn: { secret: secret ?? '', urls } };
  }
  if (cf) {
    const keyId = env.PUNCH_CF_TURN_KEY_ID?.trim() ?? '';
    const token = env.PUNCH_CF_TURN_API_TOKEN?.trim() ?? '';
    if (keyId === '')
      refuse('PUNCH_CF_TURN_API_TOKEN is set but PUNCH_CF_TURN_KEY_ID is not: add the TURN key id');
    if (token === '')
      refuse(
        "PUNCH_CF_TURN_KEY_ID is set but PUNCH_CF_TURN_API_TOKEN is not: `wrangler secret put PUNCH_CF_TURN_API_TOKEN` (the TURN key's API token)",
      );
    // Key ids are hex; anything else would change the API path it is put in.
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(keyId))
      refuse('PUNCH_CF_TURN_KEY_ID must be the TURN key id (letters and digits)');
    return {
      kind: 'cloudflare',
      cloudflare: { keyId, token, api: apiBase(env.PUNCH_CF_TURN_API) },
    };
  }
  return { kind: 'none' };
}

function apiBase(value: string | undefined): string {
  if (!set(value)) return CLOUDFLARE_TURN_API;
  let url: URL | undefined;
  try {
    url = new URL(value.trim());
  } catch {
    // Not a URL at all: refused below with the same message as a wrong scheme.
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:'))
    refuse(`PUNCH_CF_TURN_API must be an http(s) URL (default ${CLOUDFLARE_TURN_API})`);
  return value.trim().replace(/\/+$/, '');
}

/**
 * The STUN server a session agent asks on Workers (Punch has no UDP here): the first `stun:`
 * URL of `PUNCH_STUN_URLS` as host and port (3478 when it names none), handed out in
 * `welcome.publicStun` so an operator's `punch peer LINK` needs no `--stun`. Undefined when
 * none is configured or the first one is not a `stun:` URL.
 *
 * @example
 * publicStun({ PUNCH_STUN_URLS: 'stun:stun.cloudflare.com:3478' } as Env);
 * // { host: 'stun.cloudflare.com', port: 3478 }
 */
export function publicStun(env: Env): { host: string; port: number } | undefined {
  const first = (env.PUNCH_STUN_URLS ?? '').split(',')[0]?.trim() ?? '';
  const m = /^stun:(\[[0-9a-fA-F:.]+\]|[^:?\s[\]]+)(?::(\d{1,5}))?(?:\?.*)?$/.exec(first);
  const host = m?.[1];
  if (host === undefined) return undefined;
  const port = m?.[2] === undefined ? 3478 : Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  return { host: host.replace(/^\[|\]$/g, ''), port };
}
