/**
 * The STUN and TURN attributes a TURN server and its clients use (RFC 8489 §14, RFC 8656 §18),
 * as a discriminated union on `type` (the RFC's own names), and the entry points between that
 * union and value bytes (one codec per attribute, in attribute-codecs.ts). MESSAGE-INTEGRITY and
 * FINGERPRINT are not here: they cover the message around them, so message.ts and integrity.ts
 * handle them.
 */

import type { StunAddress } from '../stun/stun.js';
import { ATTRIBUTE_CODECS, type Codec } from './attribute-codecs.js';

/** Attribute type codes (RFC 8489 §18.3, RFC 8656 §18). */
export const STUN_ATTRIBUTE = {
  USERNAME: 0x0006,
  'MESSAGE-INTEGRITY': 0x0008,
  'ERROR-CODE': 0x0009,
  'UNKNOWN-ATTRIBUTES': 0x000a,
  'CHANNEL-NUMBER': 0x000c,
  LIFETIME: 0x000d,
  'XOR-PEER-ADDRESS': 0x0012,
  DATA: 0x0013,
  REALM: 0x0014,
  NONCE: 0x0015,
  'XOR-RELAYED-ADDRESS': 0x0016,
  'REQUESTED-ADDRESS-FAMILY': 0x0017,
  'EVEN-PORT': 0x0018,
  'REQUESTED-TRANSPORT': 0x0019,
  'DONT-FRAGMENT': 0x001a,
  'XOR-MAPPED-ADDRESS': 0x0020,
  'RESERVATION-TOKEN': 0x0022,
  SOFTWARE: 0x8022,
  FINGERPRINT: 0x8028,
} as const;

/** REQUESTED-TRANSPORT's protocol number for UDP, the only one RFC 8656 allocates (§18.7). */
export const TRANSPORT_UDP = 17;

/** What each attribute carries, by type. */
export interface TurnAttributeValues {
  USERNAME: { value: string };
  REALM: { value: string };
  NONCE: { value: string };
  SOFTWARE: { value: string };
  /** `code` 300..699; `reason` the human text (RFC 8489 §14.8). */
  'ERROR-CODE': { code: number; reason: string };
  /** The comprehension-required types the server did not understand (§14.9). */
  'UNKNOWN-ATTRIBUTES': { types: number[] };
  'XOR-MAPPED-ADDRESS': { address: StunAddress };
  'XOR-PEER-ADDRESS': { address: StunAddress };
  'XOR-RELAYED-ADDRESS': { address: StunAddress };
  /** Seconds (RFC 8656 §18.2). */
  LIFETIME: { seconds: number };
  /** The application payload of a Send or Data indication: a view into the parsed bytes. */
  DATA: { data: Uint8Array };
  /** IANA protocol number; {@link TRANSPORT_UDP} is the only one a server allocates. */
  'REQUESTED-TRANSPORT': { protocol: number };
  'DONT-FRAGMENT': object;
  /** R bit: also reserve the next-higher port (RFC 8656 §18.4). */
  'EVEN-PORT': { reserveNext: boolean };
  /** 8 opaque bytes naming a reserved port (RFC 8656 §18.9). */
  'RESERVATION-TOKEN': { token: Uint8Array };
  /** 0x4000..0x4FFF (RFC 8656 §12). */
  'CHANNEL-NUMBER': { channel: number };
  /**
   * `unsupported` for a family code other than IPv4/IPv6, answered 440 (RFC 8656 §7.2); it is
   * encoded as 0x00.
   */
  'REQUESTED-ADDRESS-FAMILY': { family: 4 | 6 | 'unsupported' };
}

/** The name of an attribute this codec understands (MESSAGE-INTEGRITY and FINGERPRINT aside). */
export type TurnAttributeType = keyof TurnAttributeValues;

/** One attribute of `type`, e.g. `TurnAttributeOf<'LIFETIME'>` is `{ type: 'LIFETIME'; seconds }`. */
export type TurnAttributeOf<K extends TurnAttributeType> = { type: K } & TurnAttributeValues[K];

/** Any attribute this codec understands, discriminated on `type`. */
export type TurnAttribute = { [K in TurnAttributeType]: TurnAttributeOf<K> }[TurnAttributeType];

const NAMES = new Map<number, TurnAttributeType>(
  (Object.keys(ATTRIBUTE_CODECS) as TurnAttributeType[]).map((name) => [
    STUN_ATTRIBUTE[name],
    name,
  ]),
);

/**
 * Decodes one attribute's value. `'unknown'` for a type this codec does not understand (the
 * caller decides between comprehension-required and -optional), `undefined` for a value that
 * does not fit its type. The XOR address attributes need the message's transaction id. Values of
 * DATA and RESERVATION-TOKEN are views into `value`. Never throws.
 *
 * @example
 * decodeAttribute(0x000d, Uint8Array.of(0, 0, 2, 88), tid); // { type: 'LIFETIME', seconds: 600 }
 */
export function decodeAttribute(
  type: number,
  value: Uint8Array,
  transactionId: Uint8Array,
): TurnAttribute | 'unknown' | undefined {
  const name = NAMES.get(type);
  if (name === undefined) return 'unknown';
  // TypeScript cannot correlate `name` with its codec's value type; ATTRIBUTE_CODECS' own type ties them.
  const decoded = (ATTRIBUTE_CODECS[name] as Codec<TurnAttributeValues[TurnAttributeType]>).decode(
    value,
    transactionId,
  );
  return decoded === undefined ? undefined : ({ type: name, ...decoded } as TurnAttribute);
}

/**
 * The type code and value bytes of `attribute` (no header, no padding). Throws RangeError or
 * TypeError for values the RFCs do not allow (a channel number outside 0x4000..0x4FFF, an
 * ERROR-CODE outside 300..699, text of 128 characters or more, ...).
 *
 * @example
 * encodeAttribute({ type: 'LIFETIME', seconds: 600 }, tid); // [0x000d, Uint8Array [0, 0, 2, 88]]
 */
export function encodeAttribute(
  attribute: TurnAttribute,
  transactionId: Uint8Array,
): [number, Uint8Array] {
  const codec = ATTRIBUTE_CODECS[attribute.type] as Codec<TurnAttributeValues[TurnAttributeType]>; // see decodeAttribute
  return [STUN_ATTRIBUTE[attribute.type], codec.encode(attribute, transactionId)];
}

/**
 * The first attribute of `type` (RFC 8489 §14: only the first occurrence needs processing).
 *
 * @example
 * findAttribute(message.attributes, 'LIFETIME')?.seconds; // 600, or undefined when absent
 */
export function findAttribute<K extends TurnAttributeType>(
  attributes: readonly TurnAttribute[],
  type: K,
): TurnAttributeOf<K> | undefined {
  return attributes.find((a): a is TurnAttribute & TurnAttributeOf<K> => a.type === type);
}

/**
 * Every attribute of `type`, in order: for the ones that may repeat, like XOR-PEER-ADDRESS in a
 * CreatePermission request (RFC 8656 §9.1).
 *
 * @example
 * findAttributes(message.attributes, 'XOR-PEER-ADDRESS').map((a) => a.address);
 */
export function findAttributes<K extends TurnAttributeType>(
  attributes: readonly TurnAttribute[],
  type: K,
): TurnAttributeOf<K>[] {
  return attributes.filter((a): a is TurnAttribute & TurnAttributeOf<K> => a.type === type);
}
