import { z } from 'zod';
import {
  CLOSE_ABNORMAL,
  CLOSE_NO_STATUS,
  CLOSE_NORMAL,
  MAX_FRAME_BYTES,
  RelayCredentialsSchema,
  WS_PROTOCOL,
  utf8,
  type PunchError,
} from '@punch/core';

/**
 * A frame's size when it might be over Punch's 16 KiB frame limit (workerd's own is far
 * larger), else undefined: a UTF-16 unit is at most 3 UTF-8 bytes, so short texts need no
 * measuring. Hosts close an oversized frame with 1009, as `ws` does on Node.
 */
export function frameBytes(message: string | ArrayBuffer): number | undefined {
  if (typeof message !== 'string') return message.byteLength;
  return message.length * 3 <= MAX_FRAME_BYTES ? undefined : utf8(message).byteLength;
}

export const tooBig = (bytes: number | undefined): boolean =>
  bytes !== undefined && bytes > MAX_FRAME_BYTES;

/** Answers a client's close (1005/1006 cannot be sent: 1000 instead); already closed is fine. */
export function answerClose(ws: WebSocket, code: number): void {
  try {
    ws.close(code === CLOSE_NO_STATUS || code === CLOSE_ABNORMAL ? CLOSE_NORMAL : code, 'closed');
  } catch {
    // Already closed: nothing to answer.
  }
}

// A session socket carries its client's IP (the room checks claimed endpoints against it) and
// its relay credentials (`registered.relay`, minted once per token: an evicted object cannot
// mint them again, and must not hand out others); a signalling socket only its id.
const AttachmentSchema = z.object({
  id: z.string().min(1).max(64),
  ip: z.string().max(64).exactOptional(),
  relay: RelayCredentialsSchema.nullable().exactOptional(),
});
/** What a hibernatable socket carries through hibernation (the rest is in SQLite). */
export type Attachment = z.infer<typeof AttachmentSchema>;

/**
 * The attachment a socket was given at upgrade, parsed (it comes back from storage after an
 * eviction); undefined when there is none or it does not fit, and the host then closes it.
 */
export function attachmentOf(ws: WebSocket): Attachment | undefined {
  const parsed = AttachmentSchema.safeParse(ws.deserializeAttachment());
  return parsed.success ? parsed.data : undefined;
}

/** JSON out on a hibernatable socket, when it is still open. */
export function sendJson(ws: WebSocket, message: unknown): void {
  if (ws.readyState !== WebSocket.READY_STATE_OPEN) return;
  ws.send(JSON.stringify(message));
}

/** Closes with the code the error carries (its code as the reason), when not closed already. */
export function closeSocket(ws: WebSocket, err: PunchError): void {
  try {
    ws.close(err.closeCode, err.code);
  } catch {
    // Already closing.
  }
}

/**
 * The 101 answer handing `client` to the browser, with the `punch.v1` subprotocol when it was
 * offered (browsers drop a connection whose offered subprotocols get no answer).
 */
export function upgradeResponse(req: Request, client: WebSocket): Response {
  const offered = (req.headers.get('sec-websocket-protocol') ?? '').split(',').map((p) => p.trim());
  return new Response(null, {
    status: 101,
    webSocket: client,
    headers: offered.includes(WS_PROTOCOL) ? { 'sec-websocket-protocol': WS_PROTOCOL } : {},
  });
}
