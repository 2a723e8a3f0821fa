import type { PunchError } from '../errors.js';
import type { PeerIdentity } from '../token/peer-token.js';
import type { SignalServerMessage } from '../wire/signal-to-client.js';

/** One signalling WebSocket as a project room sees it (filled by each host). */
export interface SignalConn {
  readonly id: string;
  /** Who the socket speaks for; replaced in place by a `token` refresh. */
  identity: PeerIdentity;
  /** Punch's STUN address for this client (from the Host it used), or null. */
  readonly stun: { readonly host: string; readonly port: number } | null;
  send(message: SignalServerMessage): void;
  /** Ends the socket with the error's close code (`err.closeCode`) and its code as the reason. */
  close(err: PunchError): void;
}
