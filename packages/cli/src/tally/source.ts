/**
 * What every tally source (a switcher's API, a TSL listener) is to the bridge: something that
 * starts, stops, and reports its connection and its inputs' state through one callback.
 */
import { backoffDelay, type BackoffOptions } from '@punch/core';
import { UsageError } from '../usage.js';
import type { KeyState } from './mapping.js';

export type SourceEvent =
  /** Connected to the switcher (or listening for it); `detail` says to what. */
  | { readonly type: 'connected'; readonly detail: string }
  /** The connection dropped or could not be made; the source tries again in `retryInMs`. */
  | { readonly type: 'lost'; readonly reason: string; readonly retryInMs: number }
  /**
   * The switcher's whole view as the source knows it now; `at` is when the frame that changed
   * it arrived (performance.now()), the start of the change's latency. `others` is the state of
   * every key `state` does not name (TSL's broadcast display), off when absent.
   */
  | {
      readonly type: 'state';
      readonly state: ReadonlyMap<string, KeyState>;
      readonly others?: KeyState;
      readonly at: number;
    }
  /** A frame the source could not read: ignored (the bridge counts and warns). */
  | { readonly type: 'bad-frame'; readonly reason: string }
  /** Something the operator should know that changes nothing (a sender connected). */
  | { readonly type: 'note'; readonly text: string };

export interface TallySource {
  /** The source as the producer named it, e.g. `vMix at 10.0.0.5:8099`. */
  readonly label: string;
  start(): void;
  stop(): void;
}

export type SourceKind = 'vmix' | 'obs' | 'atem' | 'tsl5+udp' | 'tsl5+tcp';

export interface SourceUrl {
  readonly kind: SourceKind;
  /** Empty for a listener with no address: every interface. */
  readonly host: string;
  readonly port: number;
}

const DEFAULT_PORT: Record<SourceKind, number | undefined> = {
  vmix: 8099,
  obs: 4455,
  atem: 9910,
  'tsl5+udp': undefined,
  'tsl5+tcp': undefined,
};

/**
 * Reads SOURCE: `vmix://HOST[:8099]`, `obs://HOST[:4455]`, `atem://HOST[:9910]`,
 * `tsl5+udp://[HOST]:PORT`, `tsl5+tcp://[HOST]:PORT` (IPv6 hosts in brackets; not for an ATEM).
 */
export function parseSourceUrl(text: string): SourceUrl {
  const m =
    /^(vmix|obs|atem|tsl5\+udp|tsl5\+tcp):\/\/(\[[0-9a-fA-F:.]+\]|[^:/[\]]*)(?::(\d{1,5}))?\/?$/.exec(
      text,
    );
  const kind = m?.[1] as SourceKind | undefined;
  if (m === null || kind === undefined)
    throw new UsageError(
      `SOURCE is vmix://HOST[:8099], obs://HOST[:4455], atem://HOST[:9910], tsl5+udp://[HOST]:PORT or tsl5+tcp://[HOST]:PORT (got "${text}")`,
    );
  const host = (m[2] ?? '').replace(/^\[|\]$/g, '');
  const port = m[3] === undefined ? DEFAULT_PORT[kind] : Number(m[3]);
  if (port === undefined || port < 1 || port > 65535)
    throw new UsageError(`${kind}:// needs a port between 1 and 65535 (got "${text}")`);
  if (host === '' && (kind === 'vmix' || kind === 'obs' || kind === 'atem'))
    throw new UsageError(`${kind}:// needs the switcher's address (got "${text}")`);
  // atem-connection speaks UDP over IPv4 only; ATEMs take an IPv4 address.
  if (kind === 'atem' && host.includes(':'))
    throw new UsageError(`atem:// takes the ATEM's IPv4 address or name (got "${text}")`);
  return { kind, host, port };
}

/**
 * What a switcher said, fit to print: control and non-ASCII characters as `?`, cut to `max`.
 *
 * @example
 * printable('TALLY OK \u0007', 60); // 'TALLY OK ?'
 */
export function printable(text: string, max: number): string {
  const clean = text.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

/** A host and port as people write them: IPv6 in brackets. */
export function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host || '*'}:${port}`;
}

/** Sources try again after about 0.5 s, doubling up to about 10 s. */
export const SOURCE_BACKOFF: BackoffOptions = { baseMs: 500, capMs: 10_000, jitter: 'narrow' };

/** One retry timer with its attempt count: `reset()` on success, `schedule()` on loss. */
export class Retry {
  #attempt = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #options: BackoffOptions;

  constructor(options: BackoffOptions = SOURCE_BACKOFF) {
    this.#options = options;
  }

  reset(): void {
    this.#attempt = 0;
  }

  /** Runs `fn` after the next backoff delay (replacing a pending one); returns the delay. */
  schedule(fn: () => void): number {
    clearTimeout(this.#timer);
    const delay = backoffDelay(this.#attempt++, this.#options);
    this.#timer = setTimeout(fn, delay);
    return delay;
  }

  cancel(): void {
    clearTimeout(this.#timer);
  }
}
