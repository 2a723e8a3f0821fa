import { z } from 'zod';
import type { ErrorCode } from '../errors.js';
import { PeerIdSchema } from '../signal/policy.js';

/**
 * The project signalling protocol on `/api/signal`, server → client, defined once: the room
 * sends `SignalServerMessage` (derived from this schema), and the SDK's own zod-free parser
 * (which keeps the browser bundle small) is held to the same golden frames
 * (`golden/signal-to-client.json`) as this schema. Not strict: a newer server may add fields.
 */

/** The browser's `RTCIceServer`: `urls` is one URL or a list. */
const IceServerSchema = z.object({
  urls: z.union([z.string(), z.array(z.string())]),
  // Absent, never undefined: the result goes straight to `new RTCPeerConnection`.
  username: z.string().exactOptional(),
  credential: z.string().exactOptional(),
});

const Ref = z.string().max(64);

export const SignalCloseReasonSchema = z.enum([
  'replaced',
  'key-deleted',
  'project-deleted',
  'expired',
]);
/** Why the server ended a socket, sent in `closed` just before the close frame. */
export type SignalCloseReason = z.infer<typeof SignalCloseReasonSchema>;

export const SignalServerMessageSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('welcome'),
    project: z.string(),
    group: PeerIdSchema,
    peer: PeerIdSchema,
    /** Unix seconds. */
    expiresAt: z.number(),
    iceServers: z.array(IceServerSchema),
  }),
  z
    .object({
      type: z.literal('signal'),
      from: z.object({ group: PeerIdSchema, peer: PeerIdSchema }),
      payload: z.unknown(),
    })
    .refine((m) => m.payload !== undefined, { message: 'payload is required', path: ['payload'] }),
  z.object({
    type: z.literal('refreshed'),
    expiresAt: z.number(),
    iceServers: z.array(IceServerSchema),
  }),
  z.object({ type: z.literal('error'), code: Ref, message: z.string(), ref: Ref.exactOptional() }),
  z.object({ type: z.literal('closed'), reason: SignalCloseReasonSchema }),
  z.object({ type: z.literal('pong'), at: z.number() }),
]);

/** A signalling message as a client decodes it (`error.code` is any string). */
export type ParsedSignalServerMessage = z.infer<typeof SignalServerMessageSchema>;

/** A signalling message as the room sends it: `error.code` comes from the error table. */
export type SignalServerMessage =
  | Exclude<ParsedSignalServerMessage, { type: 'error' }>
  | { type: 'error'; code: ErrorCode; message: string; ref?: string };
export type SignalServerMessageType = SignalServerMessage['type'];
