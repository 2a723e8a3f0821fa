import { fail, isNumber, isRecord, isString, ok, type Parsed } from './parse.js';

/**
 * The SDK's payload inside a `signal` (opaque to Punch), versioned so two SDK versions can tell
 * each other apart:
 *
 *     {v: 1, call, kind: 'description', initial?: true, description: {type, sdp} | {type, sdpz}}
 *     {v: 1, call, kind: 'candidate', candidate: {candidate, sdpMid, sdpMLineIndex, usernameFragment}}
 *     {v: 1, call, kind: 'bye' | 'reset'}
 *
 * `call` names one RTCPeerConnection (random, fresh for every new connection). Only the first
 * offer of a call carries `initial: true`: it is how a peer tells a new call from a stale one.
 * `bye` ends the call; `reset` answers a message for a call the receiver does not know.
 * `sdpz` is the SDP deflated and base64-encoded, used when the plain one would not fit in
 * Punch's 10 KiB payload limit.
 */

export const ENVELOPE_VERSION = 1;

export type SdpType = 'offer' | 'answer' | 'pranswer';

export type WireDescription =
  | { readonly type: SdpType; readonly sdp: string }
  | { readonly type: SdpType; readonly sdpz: string };

export interface WireCandidate {
  readonly candidate: string;
  readonly sdpMid: string | null;
  readonly sdpMLineIndex: number | null;
  readonly usernameFragment: string | null;
}

export type Envelope =
  | {
      readonly v: 1;
      readonly call: string;
      readonly kind: 'description';
      readonly initial?: true;
      readonly description: WireDescription;
    }
  | {
      readonly v: 1;
      readonly call: string;
      readonly kind: 'candidate';
      readonly candidate: WireCandidate;
    }
  | { readonly v: 1; readonly call: string; readonly kind: 'bye' }
  | { readonly v: 1; readonly call: string; readonly kind: 'reset' };

export type EnvelopeKind = Envelope['kind'];

/** Call ids: what `newCallId()` makes, with room for other implementations. */
export const CALL_ID = /^[A-Za-z0-9_-]{1,32}$/;
/** SDP and candidate text is bounded by Punch's payload limit; this is a sanity bound. */
const MAX_TEXT = 64 * 1024;

function isSdpType(v: unknown): v is SdpType {
  return v === 'offer' || v === 'answer' || v === 'pranswer';
}

const nullableString = (v: unknown): v is string | null | undefined =>
  v === undefined || v === null || isString(v, 256);

function parseDescription(v: unknown): WireDescription | undefined {
  if (!isRecord(v) || !isSdpType(v.type)) return undefined;
  if (isString(v.sdp, MAX_TEXT) && v.sdpz === undefined) return { type: v.type, sdp: v.sdp };
  if (isString(v.sdpz, MAX_TEXT) && v.sdp === undefined) return { type: v.type, sdpz: v.sdpz };
  return undefined;
}

function parseCandidate(v: unknown): WireCandidate | undefined {
  if (!isRecord(v) || !isString(v.candidate, 4096)) return undefined;
  const { sdpMid, sdpMLineIndex, usernameFragment } = v;
  if (!nullableString(sdpMid) || !nullableString(usernameFragment)) return undefined;
  if (
    sdpMLineIndex !== undefined &&
    sdpMLineIndex !== null &&
    !(isNumber(sdpMLineIndex) && Number.isInteger(sdpMLineIndex) && sdpMLineIndex >= 0)
  ) {
    return undefined;
  }
  return {
    candidate: v.candidate,
    sdpMid: sdpMid ?? null,
    sdpMLineIndex: sdpMLineIndex ?? null,
    usernameFragment: usernameFragment ?? null,
  };
}

/**
 * Decodes a `signal` payload sent by another SDK.
 *
 * @example
 * const r = parseEnvelope({ v: 1, call: 'k3x9', kind: 'bye' });
 * if (r.ok) console.log(r.value.kind); // 'bye'
 */
export function parseEnvelope(payload: unknown): Parsed<Envelope> {
  if (!isRecord(payload)) return fail('not an object');
  if (payload.v !== ENVELOPE_VERSION) {
    return fail(`envelope version ${JSON.stringify(payload.v) ?? 'undefined'} is not 1`);
  }
  const call = payload.call;
  if (!isString(call) || !CALL_ID.test(call)) return fail('bad call id');
  if (
    payload.initial !== undefined &&
    !(payload.initial === true && payload.kind === 'description')
  ) {
    return fail('initial is true, on a description only');
  }
  switch (payload.kind) {
    case 'description': {
      const description = parseDescription(payload.description);
      if (description === undefined) return fail('bad description');
      return ok(
        payload.initial === true
          ? { v: 1, call, kind: 'description', initial: true, description }
          : { v: 1, call, kind: 'description', description },
      );
    }
    case 'candidate': {
      const candidate = parseCandidate(payload.candidate);
      if (candidate === undefined) return fail('bad candidate');
      return ok({ v: 1, call, kind: 'candidate', candidate });
    }
    case 'bye':
    case 'reset':
      return ok({ v: 1, call, kind: payload.kind });
    default:
      return fail(`unknown kind ${JSON.stringify(payload.kind) ?? 'undefined'}`);
  }
}

/**
 * True when `e` opens a new call: the first offer of a call.
 *
 * @example
 * if (isInitialOffer(envelope)) startIncomingCall(envelope);
 */
export function isInitialOffer(e: Envelope): boolean {
  return e.kind === 'description' && e.initial === true && e.description.type === 'offer';
}

/**
 * A fresh random call id (12 characters of [a-z0-9], about 62 bits).
 *
 * @example
 * const call = newCallId(); // 'k3x9q0z1m2ab'
 */
export function newCallId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  let id = '';
  // 256 is not a multiple of 36: the bias (a few per cent on some letters) is harmless for ids
  // that only need to be unique, not secret.
  for (const b of bytes) id += alphabet[b % alphabet.length] ?? 'a';
  return id;
}

/**
 * The candidate's wire form (a browser's RTCIceCandidate, or werift's plain object).
 *
 * @example
 * pc.addEventListener('icecandidate', (e) => e.candidate && send(toWireCandidate(e.candidate)));
 */
export function toWireCandidate(c: {
  readonly candidate: string;
  readonly sdpMid?: string | null | undefined;
  readonly sdpMLineIndex?: number | null | undefined;
  readonly usernameFragment?: string | null | undefined;
}): WireCandidate {
  return {
    candidate: c.candidate,
    sdpMid: c.sdpMid ?? null,
    sdpMLineIndex: c.sdpMLineIndex ?? null,
    usernameFragment: c.usernameFragment ?? null,
  };
}
