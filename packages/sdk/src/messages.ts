import type {
  ParsedSignalServerMessage,
  SignalClientMessage,
  SignalCloseReason,
} from '@punch/core';
import { isId, type PeerRef } from './ids.js';
import { fail, isNumber, isRecord, isString, ok, parseJson, type Parsed } from './parse.js';

/**
 * The signalling wire (`docs/protocol.md`, "Signalling protocol v1"): what the SDK sends and a
 * decoder for what the server sends. Servers may add fields; unknown ones are ignored.
 */

/** Why the server ended a socket, sent in `closed` just before the close frame. */
export type ServerCloseReason = SignalCloseReason;

/**
 * A frame from the server. The shapes are core's (`SignalServerMessageSchema`), imported as
 * types only: the parser below checks the same rules by hand, so the browser bundle carries
 * no schema library, and a unit test holds both to the same golden frames.
 */
export type ServerMessage = ParsedSignalServerMessage;

/** A frame to the server (core's `SignalClientMessage`). */
export type ClientMessage = SignalClientMessage;

/** Server frames are at most 16 KiB; a little slack costs nothing. */
const MAX_SERVER_FRAME = 64 * 1024;

function isCloseReason(v: unknown): v is ServerCloseReason {
  return v === 'replaced' || v === 'key-deleted' || v === 'project-deleted' || v === 'expired';
}

function parseIceServer(v: unknown): RTCIceServer | undefined {
  if (!isRecord(v)) return undefined;
  const { urls, username, credential } = v;
  let list: string | string[];
  if (isString(urls)) list = urls;
  else if (Array.isArray(urls) && urls.every((u) => isString(u))) list = urls;
  else return undefined;
  if (username !== undefined && !isString(username)) return undefined;
  if (credential !== undefined && !isString(credential)) return undefined;
  return {
    urls: list,
    ...(username === undefined ? {} : { username }),
    ...(credential === undefined ? {} : { credential }),
  };
}

function parseIceServers(v: unknown): RTCIceServer[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out: RTCIceServer[] = [];
  for (const item of v) {
    const s = parseIceServer(item);
    if (s === undefined) return undefined;
    out.push(s);
  }
  return out;
}

function parsePeerRef(v: unknown): PeerRef | undefined {
  if (!isRecord(v) || !isId(v.group) || !isId(v.peer)) return undefined;
  return { group: v.group, peer: v.peer };
}

/**
 * Decodes one frame from the server.
 *
 * @example
 * const r = parseServerMessage('{"type":"pong","at":1}');
 * if (r.ok && r.value.type === 'pong') console.log(r.value.at);
 */
export function parseServerMessage(text: unknown): Parsed<ServerMessage> {
  const json = parseJson(text, MAX_SERVER_FRAME);
  if (!json.ok) return json;
  const m = json.value;
  if (!isRecord(m)) return fail('not a JSON object');
  switch (m.type) {
    case 'welcome': {
      const iceServers = parseIceServers(m.iceServers);
      if (
        !isString(m.project) ||
        !isId(m.group) ||
        !isId(m.peer) ||
        !isNumber(m.expiresAt) ||
        iceServers === undefined
      ) {
        return fail('malformed welcome');
      }
      return ok({
        type: 'welcome',
        project: m.project,
        group: m.group,
        peer: m.peer,
        expiresAt: m.expiresAt,
        iceServers,
      });
    }
    case 'signal': {
      const from = parsePeerRef(m.from);
      if (from === undefined || !('payload' in m)) return fail('malformed signal');
      return ok({ type: 'signal', from, payload: m.payload });
    }
    case 'refreshed': {
      const iceServers = parseIceServers(m.iceServers);
      if (!isNumber(m.expiresAt) || iceServers === undefined) return fail('malformed refreshed');
      return ok({ type: 'refreshed', expiresAt: m.expiresAt, iceServers });
    }
    case 'error': {
      if (
        !isString(m.code, 64) ||
        !isString(m.message) ||
        (m.ref !== undefined && !isString(m.ref, 64))
      ) {
        return fail('malformed error');
      }
      return ok({
        type: 'error',
        code: m.code,
        message: m.message,
        ...(m.ref === undefined ? {} : { ref: m.ref }),
      });
    }
    case 'closed': {
      if (!isCloseReason(m.reason)) return fail('malformed closed');
      return ok({ type: 'closed', reason: m.reason });
    }
    case 'pong':
      if (!isNumber(m.at)) return fail('malformed pong');
      return ok({ type: 'pong', at: m.at });
    default:
      return fail(`unknown message type ${JSON.stringify(m.type) ?? 'undefined'}`);
  }
}
