import { z } from 'zod';
import {
  EndpointView,
  NameSchema,
  PeerRoleSchema,
  RelayModeSchema,
  StatsView,
  TallyOriginSchema,
  TallySchema,
  TallySourceSchema,
  TallyView,
} from './common.js';

/** TTL bounds, seconds. Default 1800 (seed: 30 minutes). */
export const TTL_DEFAULT = 1800;
export const TTL_MIN = 5;
export const TTL_MAX = 7 * 24 * 3600;
/**
 * The longest session lifetime a host accepts by default (`--max-ttl`, `PUNCH_MAX_TTL`): 24 h.
 * TTL_MAX bounds what the wire can say; this bounds what a host grants.
 */
export const MAX_TTL_DEFAULT = 24 * 3600;
export const MAX_STREAMS = 32;
export const MAX_BODY_BYTES = 16 * 1024;

const Ttl = z.number().int().min(TTL_MIN).max(TTL_MAX);

export const CreateSessionBody = z
  .object({
    name: NameSchema.optional(),
    ttl: Ttl.optional(),
    streams: z
      .array(NameSchema)
      .min(1)
      .max(MAX_STREAMS)
      .refine((s) => new Set(s).size === s.length, 'stream names must be unique')
      .optional(),
    pbkeylen: z.union([z.literal(16), z.literal(24), z.literal(32)]).optional(),
    latencyMs: z.number().int().min(20).max(8000).optional(),
    relay: RelayModeSchema.optional(),
  })
  .strict();

export const ExtendSessionBody = z.object({ ttl: Ttl }).strict();

export const CreateTokenBody = z
  .object({ stream: NameSchema.nullable(), ttl: Ttl.optional() })
  .strict();

/** `source`: who sets it (a bridge names its switcher); absent: set by hand. */
export const SetTallyBody = TallySchema.extend({ source: TallySourceSchema.optional() }).strict();

// ---- responses (for the OpenAPI description and typed clients) ---------------------------

export const SessionUrls = z.object({
  dashboard: z.string(),
  api: z.string(),
  ws: z.string(),
});

export const SessionCreated = z.object({
  session: z.string(),
  token: z.string(),
  expiresAt: z.number().int(),
  streams: z.array(z.string()),
  /** Absent from a server without a relay, which behaved as `auto`. */
  relay: RelayModeSchema.default('auto'),
  urls: SessionUrls,
});

export const PresenceView = z.object({
  present: z.boolean(),
  endpoint: z.boolean(),
  path: z.enum(['direct', 'relay', 'none']).nullable(),
});

/**
 * `connected`: the path is up and SRT media crosses it; `no-signal`: the path is up, but less
 * than 10 kbit/s of media has crossed it for 3 s (DESIGN.md "Streams on show day").
 */
export const StreamState = z.enum(['idle', 'waiting', 'paired', 'no-signal', 'connected']);
export type StreamStateName = z.infer<typeof StreamState>;

/**
 * The last time a live holder of one side of a stream was replaced: by a peer that asked to
 * take over (`register {takeover: true}`) or by an admin token. When and which side, never who
 * or from where.
 */
export const TakeoverView = z.object({
  role: PeerRoleSchema,
  /** Milliseconds since the epoch. */
  at: z.number().int(),
  by: z.enum(['peer', 'admin']),
});
export type TakeoverViewData = z.infer<typeof TakeoverView>;

export const StreamView = z.object({
  name: z.string(),
  state: StreamState,
  sender: PresenceView,
  receiver: PresenceView,
  tally: z.enum(['program', 'preview', 'none']),
  /** Absent from a server that predates it: no takeover known. */
  takeover: TakeoverView.nullable().default(null),
});

export const SessionView = z.object({
  session: z.string(),
  createdAt: z.number().int(),
  expiresAt: z.number().int(),
  relay: RelayModeSchema.default('auto'),
  tally: TallyView,
  /** Admins only, once tally has been set: who set it last, and when. */
  tallyOrigin: TallyOriginSchema.optional(),
  streams: z.array(StreamView),
});

export const SessionExtended = z.object({
  session: z.string(),
  token: z.string(),
  expiresAt: z.number().int(),
});

export const TokenCreated = z.object({
  token: z.string(),
  stream: z.string().nullable(),
  expiresAt: z.number().int(),
  url: z.string(),
  qr: z.string(),
});

export const ConnectStream = z.object({
  name: z.string(),
  sender: EndpointView.nullable(),
  receiver: EndpointView.nullable(),
  /** This stream's own SRT passphrase. */
  passphrase: z.string(),
  rendezvousPort: z.number().int(),
  commands: z.record(z.string(), z.string()),
});

export const ConnectInfo = z.object({
  passphrase: z.string(),
  pbkeylen: z.number().int(),
  latencyMs: z.number().int(),
  streams: z.array(ConnectStream),
});

export const HealthSampleSchema = z.object({
  stream: z.string(),
  role: PeerRoleSchema,
  at: z.number(),
  stats: StatsView,
});

export const HealthHistory = z.object({
  session: z.string(),
  samples: z.array(HealthSampleSchema),
});

export const ProblemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  code: z.string(),
  detail: z.string(),
});
