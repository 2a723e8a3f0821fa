import { z } from 'zod';
import { NAME_PATTERN } from '../names.js';

export const NameSchema = z
  .string()
  .regex(
    NAME_PATTERN,
    'lowercase letters, digits and "-", 2 to 63 characters, starting with a letter or digit',
  );

export const PeerRoleSchema = z.enum(['sender', 'receiver']);
export type PeerRole = z.infer<typeof PeerRoleSchema>;

export const EndpointSchema = z
  .object({
    ip: z.union([z.ipv4(), z.ipv6()]),
    port: z.number().int().min(1).max(65535),
  })
  .strict();
export type Endpoint = z.infer<typeof EndpointSchema>;

/**
 * How a session's media may travel (DESIGN.md "The relay"): `auto` tries direct first and
 * relays when no direct path opens; `always` relays from the start, so neither peer ever learns
 * the other's IP.
 */
export const RelayModeSchema = z.enum(['auto', 'always']);
export type RelayMode = z.infer<typeof RelayModeSchema>;

/** TURN credentials in the browser's `RTCIceServer` form, with when they stop working. */
export const RelayCredentialsSchema = z.object({
  urls: z.array(z.string()).min(1),
  username: z.string(),
  credential: z.string(),
  /** Unix seconds. */
  expiresAt: z.number(),
});
export type RelayCredentials = z.infer<typeof RelayCredentialsSchema>;

export const TallySchema = z
  .object({
    program: z.array(NameSchema).max(64),
    preview: z.array(NameSchema).max(64),
  })
  .strict();
export type Tally = z.infer<typeof TallySchema>;

/** The longest `source` a tally set may name, in UTF-16 units. */
export const TALLY_SOURCE_MAX = 80;

// Letters, marks, digits, punctuation and symbols, with single spaces inside: no control or
// format characters (a bidi override would reorder what every admin reads), no line breaks,
// nothing that renders as nothing (a Hangul filler is a letter; variation selectors are marks;
// the braille blank is a symbol), and no word starting with a mark or stacking more than four
// (written languages stack three at most; a tall stack paints over the lines around it).
const PRINTABLE =
  /^(?!.*\p{Default_Ignorable_Code_Point})(?!.*\u2800)(?!.*\p{M}{5})(?!\p{M})(?!.* \p{M})[\p{L}\p{M}\p{N}\p{P}\p{S}]+(?: [\p{L}\p{M}\p{N}\p{P}\p{S}]+)*$/u;

/**
 * Who set tally, as the setter names itself (`punch tally bridge` sends `vMix at 10.0.0.5:8099`).
 * Shown to every admin of the session, so it is short and printable.
 */
export const TallySourceSchema = z
  .string()
  .min(1)
  .max(TALLY_SOURCE_MAX)
  .regex(PRINTABLE, 'printable characters with single spaces inside');

/**
 * Where the session's tally last came from (admins only, DESIGN.md "Tally from the switcher"):
 * `source` as the setter named it, null when set without one (a press on the dashboard,
 * `punch tally`); `at` in milliseconds since the epoch. Last writer wins.
 * Read leniently (any string): a newer server may allow more.
 */
export const TallyOriginSchema = z.object({
  source: z.string().nullable(),
  at: z.number().int(),
});
export type TallyOrigin = z.infer<typeof TallyOriginSchema>;

/** Link health as reported by an agent once a second. Every field is optional. */
export const StatsSchema = z
  .object({
    path: z.enum(['direct', 'relay', 'none']).optional(),
    rttMs: z.number().nonnegative().max(600_000).optional(),
    sendBps: z.number().nonnegative().optional(),
    recvBps: z.number().nonnegative().optional(),
    sendBytes: z.number().int().nonnegative().optional(),
    recvBytes: z.number().int().nonnegative().optional(),
    sendPackets: z.number().int().nonnegative().optional(),
    recvPackets: z.number().int().nonnegative().optional(),
    lossPct: z.number().min(0).max(100).optional(),
    retransmits: z.number().int().nonnegative().optional(),
    /**
     * SRT media only: the rate and total of SRT data packets forwarded either way, never SRT's
     * control packets (ACK, keepalive, handshake) nor the agents' own probes. The room reads
     * `mediaBps` for `no-signal`; a report without it (an agent that predates it) counts as
     * media flowing.
     */
    mediaBps: z.number().nonnegative().optional(),
    mediaBytes: z.number().int().nonnegative().optional(),
    srt: z
      .record(z.string().max(64), z.union([z.number(), z.string().max(64), z.boolean()]))
      .refine((r) => Object.keys(r).length <= 32, 'at most 32 SRT statistics')
      .optional(),
  })
  .strict();
export type Stats = z.infer<typeof StatsSchema>;

/**
 * `schema` as a client reads what a server sends: the same fields checked the same way, and
 * any other (a newer server's) dropped instead of refused. What the server accepts stays strict.
 *
 * @example
 * lenient(TallySchema).parse({ program: [], preview: [], later: 1 }); // { program: [], preview: [] }
 */
export function lenient<T extends z.ZodRawShape>(schema: z.ZodObject<T>): z.ZodObject<T> {
  return z.object(schema.shape);
}

/** The tally, an endpoint and a health report as clients read them (see `lenient`). */
export const TallyView = lenient(TallySchema);
export const EndpointView = lenient(EndpointSchema);
export const StatsView = lenient(StatsSchema);
