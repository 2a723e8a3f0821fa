import {
  KeyRing,
  MAX_TTL_DEFAULT,
  PunchError,
  RATE_LIMITS,
  parseLimitOverride,
  type LimitConfig,
} from '@punch/core';

/** The Worker's bindings (wrangler.jsonc) and secrets (`wrangler secret put`). */
export interface Env {
  /** One Durable Object per session, addressed by the session's name. */
  readonly SESSIONS: DurableObjectNamespace;
  /** The projects realm's directory (one object): accounts, projects, keys, audit. */
  readonly DIRECTORY: DurableObjectNamespace;
  /** One signalling room per project, addressed by the project's id. */
  readonly SIGNALS: DurableObjectNamespace;
  /** The built dashboard and operator page (packages/web/dist), when deployed with them. */
  readonly ASSETS?: Fetcher;
  /** Signs and verifies `p_` tokens: at least 32 bytes. */
  readonly PUNCH_SECRET?: string;
  /** Still verifies during a rotation; never signs. */
  readonly PUNCH_SECRET_PREVIOUS?: string;
  /** Rate-limit overrides, e.g. `create=20,connect=50/60` (the `--rate-limit` syntax). */
  readonly PUNCH_RATE_LIMITS?: string;
  /** Base of links and QR codes; default: the scheme and host of each request. */
  readonly PUNCH_PUBLIC_URL?: string;
  /** The operator's key for `POST /api/accounts` (creating accounts); unset: the route is off. */
  readonly PUNCH_OPERATOR_KEY?: string;
  /** coturn's `static-auth-secret`: TURN REST credentials for PUNCH_TURN_URLS, both realms. */
  readonly PUNCH_TURN_SECRET?: string;
  /** Comma-separated `turn:`/`turns:` URLs of coturn, handed out in both realms. */
  readonly PUNCH_TURN_URLS?: string;
  /** Cloudflare Realtime TURN: the TURN key's id (instead of PUNCH_TURN_URLS). */
  readonly PUNCH_CF_TURN_KEY_ID?: string;
  /** Cloudflare Realtime TURN: the TURN key's API token (a secret). */
  readonly PUNCH_CF_TURN_API_TOKEN?: string;
  /** Base URL of the Cloudflare Realtime TURN API (default https://rtc.live.cloudflare.com). */
  readonly PUNCH_CF_TURN_API?: string;
  /** Comma-separated `stun:` URLs handed to project peers (Punch has no UDP on Workers). */
  readonly PUNCH_STUN_URLS?: string;
  /** Longest project peer token lifetime accepted, seconds (default 24 h). */
  readonly PUNCH_MAX_TOKEN_TTL?: string;
  /** How long project audit events are kept, seconds (default 7 days). */
  readonly PUNCH_AUDIT_RETENTION?: string;
  /** The longest session lifetime granted, seconds (default 24 h; `punch serve --max-ttl`). */
  readonly PUNCH_MAX_TTL?: string;
}

const rings = new WeakMap<Env, Promise<KeyRing>>();

/**
 * The signing keys from the secrets, made once per isolate. A missing or short secret is an
 * operator error with a fix in the message, never a signature made with a weak key.
 */
export function keyRing(env: Env): Promise<KeyRing> {
  let ring = rings.get(env);
  if (ring === undefined) {
    const secret = env.PUNCH_SECRET;
    ring =
      secret === undefined || secret === ''
        ? Promise.reject(
            new PunchError(
              'ERR_INTERNAL',
              'PUNCH_SECRET is not set: run `wrangler secret put PUNCH_SECRET`',
            ),
          )
        : KeyRing.fromSecrets(
            secret,
            env.PUNCH_SECRET_PREVIOUS === undefined || env.PUNCH_SECRET_PREVIOUS === ''
              ? []
              : [env.PUNCH_SECRET_PREVIOUS],
          ).catch((cause: unknown) => {
            throw new PunchError(
              'ERR_INTERNAL',
              'PUNCH_SECRET (and PUNCH_SECRET_PREVIOUS) must be at least 32 bytes: `openssl rand -base64 48 | wrangler secret put PUNCH_SECRET`',
              { cause },
            );
          });
    rings.set(env, ring);
  }
  return ring;
}

/** The seed's rate limits with the operator's overrides from PUNCH_RATE_LIMITS. */
export function limitConfig(env: Env): LimitConfig {
  const limits: LimitConfig = { ...RATE_LIMITS };
  for (const text of (env.PUNCH_RATE_LIMITS ?? '').split(',')) {
    if (text.trim() === '') continue;
    const [name, spec] = parseLimitOverride(text.trim());
    limits[name] = spec;
  }
  return limits;
}

/**
 * A whole number of seconds from a variable, or `fallback` when unset. Anything else is an
 * operator error that fails loudly: a lifetime cap must never quietly become "no cap".
 */
export function seconds(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new PunchError(
      'ERR_INTERNAL',
      `${name} must be a whole number of seconds (got "${value}")`,
    );
  return n;
}

/** The longest session lifetime granted (PUNCH_MAX_TTL, default 24 h), seconds. */
export function maxTtl(env: Env): number {
  return seconds(env.PUNCH_MAX_TTL, 'PUNCH_MAX_TTL', MAX_TTL_DEFAULT);
}

/** The client's IP as Cloudflare saw it (`CF-Connecting-IP`, set by the edge). */
export function clientIp(req: Request): string {
  return req.headers.get('cf-connecting-ip') ?? 'unknown';
}

/** Base URL for links: the configured public URL, else the request's own scheme and host. */
export function publicBase(env: Env, req: Request): string {
  if (env.PUNCH_PUBLIC_URL !== undefined && env.PUNCH_PUBLIC_URL !== '')
    return env.PUNCH_PUBLIC_URL.replace(/\/+$/, '');
  const url = new URL(req.url);
  return `${url.protocol}//${url.host}`;
}
