import { z } from 'zod';
import { PunchError } from '../errors.js';
import { utf8 } from '../encoding.js';
import {
  EndpointSchema,
  NameSchema,
  PeerRoleSchema,
  StatsSchema,
  TallySchema,
  TallySourceSchema,
  type Endpoint,
  type PeerRole,
  type Stats,
  type Tally,
} from './common.js';

/**
 * The sessions realm, client → server: every message a session WebSocket accepts, as strict
 * schemas (server → client is in `to-client.ts`).
 */

/** Largest WebSocket frame accepted, in bytes (a bigger one closes the socket with 1009). */
export const MAX_FRAME_BYTES = 16 * 1024;

// ---- client → server -------------------------------------------------------------------

export const RegisterMessage = z
  .object({
    type: z.literal('register'),
    stream: NameSchema,
    role: PeerRoleSchema,
    /** Replace a live holder of the slot (`punch peer --takeover`); an admin token always may. */
    takeover: z.boolean().optional(),
  })
  .strict();

export const EndpointMessage = z
  .object({
    type: z.literal('endpoint'),
    stream: NameSchema,
    role: PeerRoleSchema,
    public: EndpointSchema.optional(),
    local: z.array(EndpointSchema).max(8).optional(),
    /** The address a TURN relay allocated for this side (the relay's IP, never the agent's). */
    relay: EndpointSchema.optional(),
  })
  .strict();

export const HealthMessage = z
  .object({
    type: z.literal('health'),
    stream: NameSchema,
    role: PeerRoleSchema,
    stats: StatsSchema,
  })
  .strict();

/** `source` as in `PUT /api/session/:id/tally`: who sets it; absent: set by hand. */
export const TallyMessage = TallySchema.extend({
  type: z.literal('tally'),
  source: TallySourceSchema.optional(),
}).strict();

export const PingMessage = z.object({ type: z.literal('ping') }).strict();

export const ClientMessageSchema = z.discriminatedUnion('type', [
  RegisterMessage,
  EndpointMessage,
  HealthMessage,
  TallyMessage,
  PingMessage,
]);
export type ClientMessage = z.infer<typeof ClientMessageSchema>;
export type ClientMessageType = ClientMessage['type'];

/**
 * Decodes one text frame into a client message. Size is checked before parsing; anything
 * that is not a known message throws ERR_BAD_REQUEST (or ERR_PAYLOAD_TOO_LARGE) with a detail
 * naming the problem.
 *
 * @example
 * const msg = decodeClientMessage('{"type":"register","stream":"cam-wide","role":"sender"}');
 * if (msg.type === 'register') console.log(msg.stream);
 */
export function decodeClientMessage(text: string): ClientMessage {
  if (text.length > MAX_FRAME_BYTES || utf8(text).byteLength > MAX_FRAME_BYTES) {
    throw new PunchError('ERR_PAYLOAD_TOO_LARGE', `a message is at most ${MAX_FRAME_BYTES} bytes`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new PunchError('ERR_BAD_REQUEST', 'a message is one JSON object', { cause });
  }
  const parsed = ClientMessageSchema.safeParse(json);
  if (!parsed.success) throw new PunchError('ERR_BAD_REQUEST', describeIssues(parsed.error));
  return parsed.data;
}

/** One line naming what is wrong with a parse, for the `detail` of an error. */
export function describeIssues(error: z.ZodError): string {
  const first = error.issues.slice(0, 3).map((i) => {
    const path = i.path.length > 0 ? i.path.join('.') : 'message';
    return `${path}: ${i.message}`;
  });
  return first.join('; ');
}

export type { Endpoint, PeerRole, Stats, Tally };
