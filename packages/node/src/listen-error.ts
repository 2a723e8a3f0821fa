/** Which of the server's sockets could not be opened. */
export type Listener = 'http' | 'stun' | 'turn-tcp';

const WHAT: Record<Listener, string> = {
  http: 'the HTTP port (tcp)',
  stun: 'the STUN port (udp)',
  'turn-tcp': "TURN over TCP on the STUN port's number",
};

/**
 * A socket of the server could not listen: which one, where, and the OS's reason (`code`, e.g.
 * EADDRINUSE, EACCES, EADDRNOTAVAIL). Thrown by `startServer` after it has released every
 * socket it had already opened, so the caller can report it and exit.
 */
export class ListenError extends Error {
  override readonly name = 'ListenError';
  readonly listener: Listener;
  readonly host: string;
  readonly port: number;
  readonly code: string;

  constructor(listener: Listener, host: string, port: number, cause: unknown) {
    const code =
      typeof cause === 'object' &&
      cause !== null &&
      'code' in cause &&
      typeof cause.code === 'string'
        ? cause.code
        : 'error';
    super(`${WHAT[listener]} cannot listen on ${host}:${port} (${code})`, { cause });
    this.listener = listener;
    this.host = host;
    this.port = port;
    this.code = code;
  }
}
