import type { PeerRef } from './policy.js';

/**
 * What a project's audit log records: who connected and who signalled whom, with the outcome.
 * Never an IP, never a payload.
 */
export type AuditOutcome =
  | 'connected'
  | 'replaced'
  | 'delivered'
  | 'refused-by-sender-policy'
  | 'refused-by-target-policy'
  | 'offline';

export interface AuditEvent {
  readonly project: string;
  /** Milliseconds since the epoch. */
  readonly at: number;
  readonly kind: 'connect' | 'signal';
  readonly from: PeerRef;
  /** The target of a signal; null for a connect. */
  readonly to: PeerRef | null;
  readonly outcome: AuditOutcome;
}

/** Audit retention default: 7 days. */
export const AUDIT_RETENTION_S = 7 * 24 * 3600;
