import type { Endpoint } from '@punch/core';
import type { Socket } from 'node:dgram';
import type { RelayOptions } from './config.js';
import { createTurnServer, type TurnServer } from './server.js';
import { ListenError } from '../listen-error.js';
import { listenTurnTcp, type TurnTcpListener } from './tcp-listener.js';

/** Tries for a STUN port number (port 0) whose TCP side is free too. */
const PORT_TRIES = 5;

/**
 * Starts STUN and, unless `relay` is null, the TURN relay on the same port: over UDP on the STUN
 * socket and over TCP on the same number (RFC 8656 §3.1). With port 0 the OS picks the UDP
 * number, whose TCP side another program may hold: then STUN starts again on another number.
 * A fixed port whose TCP side is taken fails startup rather than run UDP-only, since clients
 * behind networks that block UDP would then find no relay and nothing would say why.
 */
export async function startStunAndRelay<S extends StunLike>(options: {
  readonly host: string;
  /** The STUN port asked for (0: any). */
  readonly port: number;
  readonly startStun: (port: number) => Promise<S>;
  readonly relay: {
    readonly secret: string;
    readonly options: RelayOptions;
    /** The addresses Punch handed a session socket: all its relay credentials may reach. */
    readonly sessionPeers?: (session: string, conn: string) => readonly Endpoint[];
    /** False once a session has ended. */
    readonly sessionAlive?: (session: string) => boolean;
    /** How many allocations a session's sockets may hold together. */
    readonly sessionAllocations?: (session: string) => number | undefined;
  } | null;
  readonly onTcpError: (err: Error) => void;
}): Promise<{ stun: S; turn?: TurnServer; tcp?: TurnTcpListener }> {
  const { host, relay } = options;
  for (let attempt = 1; ; attempt++) {
    const stun = await options.startStun(options.port);
    if (relay === null) return { stun };
    const turn = await createTurnServer({
      socket: stun.socket,
      host,
      secret: relay.secret,
      relay: relay.options,
      ...(relay.sessionPeers === undefined ? {} : { sessionPeers: relay.sessionPeers }),
      ...(relay.sessionAlive === undefined ? {} : { sessionAlive: relay.sessionAlive }),
      ...(relay.sessionAllocations === undefined
        ? {}
        : { sessionAllocations: relay.sessionAllocations }),
    });
    try {
      const tcp = await listenTurnTcp({ host, port: stun.port, turn, onError: options.onTcpError });
      return { stun, turn, tcp };
    } catch (err) {
      turn.close();
      await stun.close();
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      if (code === 'EADDRINUSE' && options.port === 0 && attempt < PORT_TRIES) continue;
      throw new ListenError('turn-tcp', host, stun.port, err);
    }
  }
}

interface StunLike {
  readonly port: number;
  readonly socket: Socket;
  close(): Promise<void>;
}
