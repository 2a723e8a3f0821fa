import type { Endpoint, Stats } from '@punch/core';
import type { Addr, PathKind, Via } from './media-path.js';
import type { RelayReason } from './pairing.js';

/** The agent's state, as the status line shows it. */
export type Status =
  | 'connecting'
  | 'waiting'
  | 'paired'
  | 'punching'
  | 'direct'
  | 'relay'
  | 'streaming'
  /** Receiving every stream: this one cannot go on (its error said why); the others do. */
  | 'stopped';

/**
 * What the agent tells its operator (`ui.ts` renders it; `--json` prints it as NDJSON). Every
 * event about one stream names it (`stream`); those about the link (connecting to Punch, the
 * session ending) name none when the agent carries every stream.
 */
export type AgentEvent = AgentEventBody & { stream?: string };

type AgentEventBody =
  | { event: 'status'; status: Status; detail?: string }
  | { event: 'registered'; stream: string; role: string; stun: 'punch' | 'external' | 'none' }
  | { event: 'paired'; remote: Addr & { local?: Endpoint[] | undefined } }
  | {
      event: 'path';
      path: PathKind | 'none';
      via?: Via;
      remote?: Addr;
      reason?: string;
    }
  | { event: 'relay'; address: Addr; transport: 'udp' | 'tcp'; why: RelayReason }
  | { event: 'health'; stats: Stats }
  | { event: 'tally'; tally: 'program' | 'preview' | 'none' }
  | { event: 'peer-left' }
  | { event: 'local'; commands: Record<string, string> }
  | { event: 'error'; code: string; message: string; fatal: boolean }
  /** A line srt-live-transmit printed (`--exec`). */
  | { event: 'exec'; line: string }
  | { event: 'closed'; reason: string };

/** Exit codes of `punch peer` (documented in its help and docs/operators.md). */
export const EXIT = {
  ended: 0,
  error: 1,
  refused: 3,
  notFound: 4,
  noDirectPath: 6,
  portInUse: 7,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
