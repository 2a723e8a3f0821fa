import { createHmac } from 'node:crypto';

/** What `punch serve` configures (DESIGN.md "The relay"). */
export interface RelayOptions {
  /** The TURN REST secret (coturn's `static-auth-secret`); default see {@link relaySecret}. */
  readonly secret?: string;
  /** Relayed ports, inclusive. Default 49152-65535. */
  readonly ports?: readonly [number, number];
  /** The address advertised in XOR-RELAYED-ADDRESS; default: the address the client reached. */
  readonly ip?: string;
  /** Per-allocation bandwidth cap, bits per second (both directions together). Default 50 Mbit/s. */
  readonly maxBps?: number;
  /** Relay to loopback, link-local and private addresses too (LAN use). Default false. */
  readonly allowPrivate?: boolean;
  /** Allocations one username may hold at once. Default 10. */
  readonly maxPerUsername?: number;
  /** Allocations the relay holds at once. Default 1000. */
  readonly maxTotal?: number;
}

export const RELAY_DEFAULTS = {
  ports: [49152, 65535] as const,
  maxBps: 50_000_000,
  maxPerUsername: 10,
  maxTotal: 1000,
};

/**
 * The secret TURN REST credentials are checked with: PUNCH_TURN_SECRET when set (so coturn's
 * `static-auth-secret` and Punch's relay take the same credentials), else derived from the
 * signing secret, so a host needs no second secret to run its own relay. The derivation is
 * one-way: knowing the TURN secret does not give the signing secret.
 *
 * @example
 * relaySecret(process.env.PUNCH_TURN_SECRET, secrets.current);
 */
export function relaySecret(turnSecret: string | undefined, signingSecret: string): string {
  if (turnSecret !== undefined && turnSecret !== '') return turnSecret;
  return createHmac('sha256', signingSecret).update('punch turn').digest('hex');
}
