import type { IncomingMessage } from 'node:http';
import { normalizeIp } from '@punch/core';

/**
 * Who a request came from and what it asked for, as `punch serve` reads them: the client's IP
 * (from the socket, or behind a trusted proxy its last X-Forwarded-For hop), the base URL links
 * are built on, and the host name STUN and TURN are advertised at.
 */

/**
 * The client IP of a request: behind a trusted proxy the address the proxy appended last
 * (everything left of it was written by the client), else the socket's.
 *
 * @example
 * const ip = clientIpOf(req, options.trustProxy === true);
 */
export function clientIpOf(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const fwd = req.headers['x-forwarded-for'];
    const last = (Array.isArray(fwd) ? fwd.join(',') : fwd)?.split(',').pop()?.trim();
    if (last !== undefined && last !== '') return normalizeIp(last);
  }
  return normalizeIp(req.socket.remoteAddress ?? 'unknown');
}

/**
 * The base URL links point to: `--public-url` when set, else the request's own scheme (the
 * proxy's X-Forwarded-Proto when trusted) and host.
 *
 * @example
 * publicBaseOf(request, { publicUrl: undefined, trustProxy: false }); // 'http://127.0.0.1:8787'
 */
export function publicBaseOf(
  req: Request,
  options: { readonly publicUrl: string | undefined; readonly trustProxy: boolean },
): string {
  if (options.publicUrl !== undefined) return options.publicUrl.replace(/\/+$/, '');
  const url = new URL(req.url);
  const proto = options.trustProxy
    ? (req.headers.get('x-forwarded-proto') ?? url.protocol.slice(0, -1))
    : url.protocol.slice(0, -1);
  return `${proto}://${url.host}`;
}

/**
 * The host part of a Host header (`example.com:8787`, `[::1]:8787`).
 *
 * @example
 * hostName('[::1]:8787'); // '::1'
 */
export function hostName(header: string | undefined): string | undefined {
  if (header === undefined || header === '') return undefined;
  const m = /^\[([^\]]+)\]/.exec(header);
  if (m !== null) return m[1];
  return header.replace(/:\d+$/, '');
}
