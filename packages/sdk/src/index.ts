/**
 * @punch/sdk: the client library of Punch's projects realm.
 *
 * - On your server: `mintPeerToken()` signs peer tokens with your project key;
 *   `createKeyProof()` proves you hold a key you upload.
 * - In the browser (or Node with `ws` and werift): `createPeer()` joins the project's
 *   signalling and makes WebRTC sessions with other peers.
 */
export { mintPeerToken, DEFAULT_PEER_TOKEN_TTL, MAX_PEER_TOKEN_TTL } from './mint.js';
export type { MintPeerTokenOptions, PeerTokenAlg } from './mint.js';
export { createKeyProof, KEY_PROOF_TYP } from './key-proof.js';
export type { KeyProofOptions } from './key-proof.js';
export { createPeer, Peer } from './peer.js';
export type {
  ConnectOptions,
  PeerConnectionConstructor,
  PeerEvents,
  PeerInfo,
  PeerOptions,
} from './peer-options.js';
export type { Session } from './session.js';
export type { SessionCloseReason, SessionEvents, SessionRole } from './session-events.js';
export { DEFAULT_RECOVERY } from './recovery.js';
export type { FreshReason, RecoveryOptions } from './recovery.js';
export { PunchSignalError, SERVER_ERROR_CODES } from './errors.js';
export type { PunchErrorCode, SdkErrorCode, ServerErrorCode } from './errors.js';
export { selectedCandidatePair } from './stats.js';
export type { CandidateInfo, SelectedCandidatePair } from './stats.js';
export { signalUrl } from './url.js';
export { isPolite } from './polite.js';
export { backoffDelay, type BackoffOptions } from '@punch/core';
export { ID_PATTERN, MAX_ALLOW_RULES } from './ids.js';
export type { AllowRule, PeerRef } from './ids.js';
export type { Logger } from './logger.js';
export type { WebSocketConstructor, WebSocketLike } from './socket.js';
export type { Listener } from './emitter.js';
