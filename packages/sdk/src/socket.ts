import { CLOSE_ABNORMAL } from '@punch/core';
import { isNumber, isRecord } from './parse.js';

/**
 * The few WebSocket members the SDK uses. The browser's `WebSocket` and the `ws` package's
 * both fit, so Node callers pass `ws` without an adapter.
 */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(
    type: 'open' | 'message' | 'close' | 'error',
    listener: (event: unknown) => void,
  ): void;
}

export type WebSocketConstructor = new (url: string, protocols: string[]) => WebSocketLike;

/** `WebSocket.OPEN`. */
export const OPEN = 1;

/**
 * The text of a `message` event; undefined for a binary frame.
 *
 * @example
 * ws.addEventListener('message', (ev) => handle(frameText(ev)));
 */
export function frameText(event: unknown): string | undefined {
  return isRecord(event) && typeof event.data === 'string' ? event.data : undefined;
}

/**
 * The code and reason of a `close` event (1006 when the event carries none).
 *
 * @example
 * ws.addEventListener('close', (ev) => console.log(closeInfo(ev).code));
 */
export function closeInfo(event: unknown): { code: number; reason: string } {
  if (!isRecord(event)) return { code: CLOSE_ABNORMAL, reason: '' };
  return {
    code: isNumber(event.code) ? event.code : CLOSE_ABNORMAL,
    reason: typeof event.reason === 'string' ? event.reason : '',
  };
}

/**
 * The HTTP status of a refused upgrade, when the runtime tells it. Browsers never do (the page
 * sees a bare 1006); the `ws` package reports "Unexpected server response: 401" in its error.
 *
 * @example
 * refusedStatus({ message: 'Unexpected server response: 401' }); // 401
 */
export function refusedStatus(event: unknown): number | undefined {
  if (!isRecord(event) || typeof event.message !== 'string') return undefined;
  const m = /Unexpected server response: (\d{3})/.exec(event.message);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}
