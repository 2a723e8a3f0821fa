import { z } from 'zod';
import { PunchError } from '../errors.js';
import { utf8 } from '../encoding.js';
import { ID_PATTERN, PeerRefSchema } from '../signal/policy.js';
import { MAX_FRAME_BYTES, describeIssues } from './messages.js';

/**
 * The project signalling protocol on `/api/signal`, client → server: JSON text frames with a
 * `type`, at most 16 KiB each. A `signal`'s payload is opaque to Punch (an SDP, an ICE
 * candidate, anything the SDK sends) and at most 10 KiB as JSON. Server → client is in
 * `signal-to-client.ts`.
 */

/** Largest `signal` payload, as JSON text, in bytes. */
export const MAX_SIGNAL_PAYLOAD_BYTES = 10 * 1024;

/** A client-chosen label echoed in an `error`, so a client knows which message was refused. */
const RefSchema = z.string().min(1).max(64).optional();

export const SignalMessage = z
  .object({ type: z.literal('signal'), to: PeerRefSchema, payload: z.unknown(), ref: RefSchema })
  .strict()
  .refine((m) => m.payload !== undefined, { message: 'payload is required', path: ['payload'] });

export const TokenMessage = z
  .object({ type: z.literal('token'), token: z.string().min(1).max(8192), ref: RefSchema })
  .strict();

export const SignalPingMessage = z.object({ type: z.literal('ping') }).strict();

export const SignalClientMessageSchema = z.discriminatedUnion('type', [
  SignalMessage,
  TokenMessage,
  SignalPingMessage,
]);
export type SignalClientMessage = z.infer<typeof SignalClientMessageSchema>;
export type SignalClientMessageType = SignalClientMessage['type'];

/**
 * Decodes one frame from a signalling client: size first, then JSON, then the schema, then the
 * payload's own size. Throws ERR_PAYLOAD_TOO_LARGE or ERR_BAD_REQUEST, carrying the message's
 * `ref` (when one could be read) as `SignalDecodeError.ref`.
 *
 * `byteLength` is the frame's size in bytes when the host knows it (it read the bytes); without
 * it the size is computed, but only when the text could be over a limit at all.
 *
 * @example
 * const m = decodeSignalClientMessage('{"type":"signal","to":{"group":"g","peer":"bob"},"payload":{}}');
 */
export function decodeSignalClientMessage(text: string, byteLength?: number): SignalClientMessage {
  // A UTF-16 code unit is at most 3 UTF-8 bytes: short texts need no measuring.
  const bytes = (limit: number): number =>
    byteLength ?? (text.length * 3 <= limit ? 0 : utf8(text).byteLength);
  if (text.length > MAX_FRAME_BYTES || bytes(MAX_FRAME_BYTES) > MAX_FRAME_BYTES) {
    throw new PunchError('ERR_PAYLOAD_TOO_LARGE', `a message is at most ${MAX_FRAME_BYTES} bytes`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new PunchError('ERR_BAD_REQUEST', 'a message is one JSON object', { cause });
  }
  // Nearly every frame is a well-formed `signal`: checked by hand, it skips the schema walk.
  // Anything else, a refusal included, goes through the schema, which names what is wrong.
  let m: SignalClientMessage | undefined = wellFormedSignal(json);
  if (m === undefined) {
    const parsed = SignalClientMessageSchema.safeParse(json);
    if (!parsed.success) {
      throw new SignalDecodeError('ERR_BAD_REQUEST', describeIssues(parsed.error), refIn(json));
    }
    m = parsed.data;
  }
  // The payload is part of the frame: a frame within the payload limit needs no second look.
  if (
    m.type === 'signal' &&
    bytes(MAX_SIGNAL_PAYLOAD_BYTES) > MAX_SIGNAL_PAYLOAD_BYTES &&
    utf8(JSON.stringify(m.payload)).byteLength > MAX_SIGNAL_PAYLOAD_BYTES
  ) {
    throw new SignalDecodeError(
      'ERR_PAYLOAD_TOO_LARGE',
      `a signal payload is at most ${MAX_SIGNAL_PAYLOAD_BYTES} bytes of JSON`,
      m.ref,
    );
  }
  return m;
}

/**
 * `v` as a `signal` message when it is exactly what `SignalMessage` accepts (no other keys,
 * valid ids, a payload, a valid ref), else undefined (the schema then decides and explains).
 * A unit test holds it to the schema's verdict on every case the schema tests cover.
 */
export function wellFormedSignal(v: unknown): SignalClientMessage | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const m = v as Record<string, unknown>;
  if (m.type !== 'signal' || !Object.hasOwn(m, 'payload') || m.payload === undefined) {
    return undefined;
  }
  for (const k in m) {
    if (k !== 'type' && k !== 'to' && k !== 'payload' && k !== 'ref') return undefined;
  }
  const ref = m.ref;
  if (ref !== undefined && !(typeof ref === 'string' && ref.length >= 1 && ref.length <= 64)) {
    return undefined;
  }
  const to = m.to;
  if (typeof to !== 'object' || to === null) return undefined;
  const t = to as Record<string, unknown>;
  for (const k in t) if (k !== 'group' && k !== 'peer') return undefined;
  const { group, peer } = t;
  if (typeof group !== 'string' || typeof peer !== 'string') return undefined;
  if (!ID_PATTERN.test(group) || !ID_PATTERN.test(peer)) return undefined;
  return m as SignalClientMessage;
}

/** A frame that parsed as JSON but is not a valid message; `ref` echoes the client's label. */
export class SignalDecodeError extends PunchError {
  readonly ref: string | undefined;
  constructor(
    code: 'ERR_BAD_REQUEST' | 'ERR_PAYLOAD_TOO_LARGE',
    detail: string,
    ref: string | undefined,
  ) {
    super(code, detail);
    this.ref = ref;
  }
}

function refIn(v: unknown): string | undefined {
  if (typeof v === 'object' && v !== null && 'ref' in v && typeof v.ref === 'string') {
    const ref = v.ref;
    if (ref.length >= 1 && ref.length <= 64) return ref;
  }
  return undefined;
}
