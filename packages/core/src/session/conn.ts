import type { PunchError } from '../errors.js';
import type { TokenClaims } from '../token/claims.js';
import type { RelayCredentials } from '../wire/common.js';
import type { ServerMessage } from '../wire/to-client.js';

/**
 * One WebSocket as a room sees it: the contract a host fills over `ws` (Node) or a
 * hibernatable WebSocket (Workers).
 */
export interface Conn {
  readonly id: string;
  /** The client's IP as the host saw it (for `endpoint` checks; never logged). */
  readonly ip: string;
  /** Where this client should send its STUN Binding request, or null when the host has no STUN. */
  readonly stun: { readonly host: string; readonly port: number } | null;
  /**
   * A public STUN server the client should ask instead, where the host has none of its own
   * (Workers: the first of `PUNCH_STUN_URLS`); the client then claims its endpoint (`endpoint`).
   */
  readonly publicStun?: { readonly host: string; readonly port: number };
  claims: TokenClaims;
  /**
   * This socket's TURN credentials (`registered.relay`), minted by the host when it was seated
   * (`Room.mintRelay`) and again with each fresh token; absent or null without a relay.
   */
  relay?: RelayCredentials | null;
  send(message: ServerMessage): void;
  /** Ends the socket with the error's close code (`err.closeCode`) and its code as the reason. */
  close(err: PunchError): void;
}
