import { z } from 'zod';
import { ERROR_CODES } from '../errors.js';
import { EndpointSchema, PeerRoleSchema, StatsSchema, TallySchema } from './common.js';
import { StreamView } from './http.js';

/**
 * Server → client messages as a schema, for clients (the agent, the SDK) that parse what a
 * server sends instead of casting it. Not strict: a newer server may add fields.
 */
export const ServerMessageSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('welcome'),
    session: z.string(),
    role: z.enum(['admin', 'peer']),
    stream: z.string().nullable(),
    expiresAt: z.number(),
    tally: TallySchema,
    stun: z.object({ host: z.string(), port: z.number().int() }).nullable(),
  }),
  z.object({
    type: z.literal('registered'),
    stream: z.string(),
    role: PeerRoleSchema,
    bind: z.object({ host: z.string(), port: z.number().int(), username: z.string() }).nullable(),
  }),
  z.object({
    type: z.literal('peer'),
    stream: z.string(),
    role: PeerRoleSchema,
    remote: EndpointSchema.extend({ local: z.array(EndpointSchema).optional() }),
    passphrase: z.string().min(10).max(79),
    pbkeylen: z.number().int(),
    latencyMs: z.number().int(),
  }),
  z.object({ type: z.literal('peer-left'), stream: z.string(), role: PeerRoleSchema }),
  StreamView.extend({ type: z.literal('stream') }),
  TallySchema.extend({ type: z.literal('tally') }),
  z.object({
    type: z.literal('health'),
    stream: z.string(),
    role: PeerRoleSchema,
    stats: StatsSchema,
    at: z.number(),
  }),
  z.object({ type: z.literal('token'), token: z.string(), expiresAt: z.number() }),
  z.object({ type: z.literal('closed'), reason: z.enum(['closed', 'expired']) }),
  z.object({ type: z.literal('error'), code: z.string(), message: z.string() }),
  z.object({ type: z.literal('pong'), at: z.number() }),
]);
export type ParsedServerMessage = z.infer<typeof ServerMessageSchema>;

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
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = ServerMessageSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}
