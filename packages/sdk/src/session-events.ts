import type { PunchSignalError } from './errors.js';
import type { FreshReason } from './recovery.js';

/** What a `Session` reports. */

export type SessionRole = 'caller' | 'callee';

/** Why a session ended. */
export type SessionCloseReason =
  /** `session.close()` or `peer.close()`. */
  | 'local'
  /** The remote side closed it (`bye`). */
  | 'remote'
  /** A new call from the same remote peer (it reloaded, or called again) took its place. */
  | 'replaced'
  /** The remote no longer knows this call, and we did not create it. */
  | 'reset'
  /** The connection failed and could not be revived. */
  | 'failed'
  /** Punch refused the first offer (see the `error`: ERR_POLICY_DENIED, ERR_PEER_UNAVAILABLE). */
  | 'refused'
  /** `connect()` got no answer in time. */
  | 'timeout'
  /** The signalling connection ended for good (see the peer's `close`). */
  | 'peer-closed';

export interface SessionEvents {
  /** A remote track (the RTCPeerConnection's `track` event). */
  track: RTCTrackEvent;
  /** A data channel opened by the remote side, or one of ours re-created on a fresh call. */
  datachannel: RTCDataChannel;
  /** The RTCPeerConnection's `connectionState`. */
  state: RTCPeerConnectionState;
  /** The session moved to a new RTCPeerConnection (`session.pc` changed). */
  call: { readonly callId: string; readonly reason: FreshReason | 'adopted' };
  /** The session ended; emitted once. */
  close: { readonly reason: SessionCloseReason; readonly error?: PunchSignalError };
}
