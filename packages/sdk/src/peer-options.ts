import type { PunchSignalError } from './errors.js';
import type { Logger } from './logger.js';
import type { RecoveryOptions } from './recovery.js';
import type { Session } from './session.js';
import type { WebSocketConstructor } from './socket.js';

/** The options of `createPeer()`, and what a peer reports. */

export type PeerConnectionConstructor = new (configuration: RTCConfiguration) => RTCPeerConnection;

export interface PeerOptions {
  /** Punch's base URL, like `https://punch.example.com` (the socket is `wss://…/api/signal`). */
  readonly url: string;
  /** A peer token. Without `getToken` it is never refreshed: the peer ends when it expires. */
  readonly token?: string;
  /**
   * Fetches a fresh peer token from your server: called for the first connection, every
   * reconnect, and `refreshBeforeS` seconds before the current token expires.
   */
  readonly getToken?: () => Promise<string>;
  /** Relay everything through TURN (`iceTransportPolicy: 'relay'`). */
  readonly forceRelay?: boolean;
  /**
   * More ICE servers, added after Punch's (an array), or a function that gets Punch's and
   * returns the list to use (to replace or reorder them).
   */
  readonly iceServers?: readonly RTCIceServer[] | ((fromPunch: RTCIceServer[]) => RTCIceServer[]);
  /** The WebSocket class (default: the global one). In Node, pass the `ws` package's. */
  readonly WebSocket?: WebSocketConstructor;
  /**
   * The RTCPeerConnection class (default: the global one). In Node, pass
   * `fromWerift(RTCPeerConnection)` from `@punch/sdk/werift`.
   */
  readonly RTCPeerConnection?: PeerConnectionConstructor;
  /** Refresh the token this many seconds before it expires (default 60). */
  readonly refreshBeforeS?: number;
  /** Where the SDK logs (default: nowhere). `console` works. */
  readonly logger?: Logger;
  /** How long `connect()` waits for an answer by default, in ms (default 15 000). */
  readonly connectTimeoutMs?: number;
  /** Ping period of the signalling socket, in ms (default 25 000). */
  readonly pingIntervalMs?: number;
  /** Recovery timings, for tests and unusual networks. */
  readonly recovery?: Partial<RecoveryOptions>;
}

/** Who this peer is, from Punch's `welcome`. */
export interface PeerInfo {
  readonly project: string;
  readonly group: string;
  readonly peer: string;
  /** What new RTCPeerConnections use (Punch's servers with `iceServers` applied). */
  readonly iceServers: RTCIceServer[];
}

export interface PeerEvents {
  /** Every (re)connection to Punch. */
  ready: PeerInfo;
  /** An incoming call, already being answered (add tracks synchronously here). */
  session: Session;
  /** A refused message, a token source failure, a WebRTC negotiation failure. */
  error: PunchSignalError;
  /** The peer ended: `close()`, or a terminal close from Punch (its code and reason). */
  close: { readonly code: number; readonly reason: string };
  /** The token was refreshed. */
  token: { readonly expiresAt: number };
  /** The signalling socket dropped and reconnects after `delayMs`. */
  reconnecting: { readonly attempt: number; readonly delayMs: number; readonly code: number };
}

export interface ConnectOptions {
  /** Data channels to open, by label (one labelled `punch` when neither these nor streams). */
  readonly dataChannels?: readonly string[];
  /** Streams whose tracks to send. */
  readonly streams?: readonly MediaStream[];
  /** How long to wait for the answer, in ms (default: the peer's `connectTimeoutMs`). */
  readonly timeoutMs?: number;
}
