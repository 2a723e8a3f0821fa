import { z } from 'zod';
import { ERROR_CODES, type ErrorCode } from '../errors.js';
import {
  EndpointView,
  PeerRoleSchema,
  RelayCredentialsSchema,
  RelayModeSchema,
  StatsView,
  TallyOriginSchema,
  TallyView,
  type PeerRole,
} from './common.js';
import { PresenceView, StreamView } from './http.js';

/**
 * The sessions realm, server → client: every message a session WebSocket sends, defined once
 * as a schema. The room sends `ServerMessage` (derived from it); clients (the agent, the
 * dashboard) decode frames with `decodeServerMessage`. Not strict: a newer server may add
 * fields, and an older client must still read the ones it knows.
 */

const HostPort = z.object({ host: z.string(), port: z.number().int() });

export const ServerMessageSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('welcome'),
    session: z.string(),
    role: z.enum(['admin', 'peer']),
    stream: z.string().nullable(),
    expiresAt: z.number(),
    tally: TallyView,
    /** Admins only, once tally has been set: who set it last, and when. */
    tallyOrigin: TallyOriginSchema.optional(),
    stun: HostPort.nullable(),
    /** Where `stun` is null: a public STUN server to ask, then claim the endpoint (Workers). */
    publicStun: HostPort.optional(),
  }),
  z.object({
    type: z.literal('registered'),
    stream: z.string(),
    role: PeerRoleSchema,
    bind: HostPort.extend({ username: z.string() }).nullable(),
    /** TURN credentials for this socket; null (or absent, from an older server) without a relay. */
    relay: RelayCredentialsSchema.nullable().optional(),
    /** The session's relay mode; absent from an older server, which meant `auto`. */
    mode: RelayModeSchema.optional(),
  }),
  z.object({
    type: z.literal('peer'),
    stream: z.string(),
    role: PeerRoleSchema,
    /**
     * The other side: `ip`/`port` is where to try first (its public endpoint, or its relayed
     * address when it has no other or the session relays always), `local` its LAN candidates,
     * `relay` its relayed address on a TURN server.
     */
    remote: EndpointView.extend({
      // As many as a client may claim (`endpoint.local`): a hostile server cannot make an agent
      // probe thousands of addresses.
      local: z.array(EndpointView).max(8).optional(),
      relay: EndpointView.optional(),
    }),
    passphrase: z.string().min(10).max(79),
    pbkeylen: z.number().int(),
    latencyMs: z.number().int(),
  }),
  z.object({ type: z.literal('peer-left'), stream: z.string(), role: PeerRoleSchema }),
  StreamView.extend({ type: z.literal('stream') }),
  TallyView.extend({
    type: z.literal('tally'),
    /** Admins only: who set this tally, and when (peers never learn the switcher's address). */
    origin: TallyOriginSchema.optional(),
  }),
  z.object({
    type: z.literal('health'),
    stream: z.string(),
    role: PeerRoleSchema,
    stats: StatsView,
    at: z.number(),
  }),
  z.object({
    type: z.literal('token'),
    token: z.string(),
    expiresAt: z.number(),
    /** Fresh relay credentials, expiring with the fresh token (when the host has a relay). */
    relay: RelayCredentialsSchema.nullable().optional(),
  }),
  z.object({ type: z.literal('closed'), reason: z.enum(['closed', 'expired']) }),
  z.object({
    type: z.literal('error'),
    code: z.string(),
    message: z.string(),
    /** The stream of the refused message, when it named one (absent from an older server). */
    stream: z.string().optional(),
    /**
     * With `stream`, on ERR_REPLACED: the one slot this socket lost (it keeps its others and
     * stays open). Without it, ERR_REPLACED is followed by the close (4409).
     */
    role: PeerRoleSchema.optional(),
  }),
  z.object({ type: z.literal('pong'), at: z.number() }),
]);

/** A server message as a client decodes it (`error.code` is any string: a newer server's too). */
export type ParsedServerMessage = z.infer<typeof ServerMessageSchema>;

/** A server message as the room sends it: the decoded shape, with `error.code` from the table. */
export type ServerMessage =
  | Exclude<ParsedServerMessage, { type: 'error' }>
  | { type: 'error'; code: ErrorCode; message: string; stream?: string; role?: PeerRole };
export type ServerMessageType = ServerMessage['type'];

/** A stream slot's state, as in `GET /api/session/:id` `streams[]` and the `stream` push. */
export type StreamViewMessage = z.infer<typeof StreamView>;
export type PresenceViewMessage = z.infer<typeof PresenceView>;
/** Where an agent sends its STUN Binding request (`registered.bind`). */
export type Bind = NonNullable<Extract<ServerMessage, { type: 'registered' }>['bind']>;
/** The other side's endpoints in `peer.remote`. */
export type RemoteEndpoint = Extract<ServerMessage, { type: 'peer' }>['remote'];

/** The longest frame a client decodes, in UTF-16 units (the SDK allows the same). */
export const MAX_SERVER_FRAME_CHARS = 64 * 1024;

/** Known error codes, for clients that want to narrow `error.code`. */
export const KNOWN_ERROR_CODES: readonly string[] = ERROR_CODES;

/**
 * Decodes one frame from a Punch server, or undefined when it is not a message this client
 * understands (never throws).
 *
 * @example
 * const m = decodeServerMessage(text);
 * if (m?.type === 'peer') punch(m.remote, m.passphrase);
 */
export function decodeServerMessage(text: string): ParsedServerMessage | undefined {
  // Size before parsing: no message a server sends comes near this (client frames are 16 KiB).
  if (text.length > MAX_SERVER_FRAME_CHARS) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // Not JSON: a proxy's page or a truncated frame is "not a message", like any unknown type.
    return undefined;
  }
  const parsed = ServerMessageSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}
