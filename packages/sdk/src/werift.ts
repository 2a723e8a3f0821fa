import { silentLogger, type Logger } from './logger.js';
import type { PeerConnectionConstructor } from './peer-options.js';

/**
 * Node support through werift (https://github.com/shinyoshiaki/werift-webrtc), a WebRTC stack in
 * TypeScript. This file does not import werift: the application passes werift's class, so the
 * SDK neither depends on it nor pulls Node modules into the browser bundle.
 *
 * What the SDK uses, and how werift 0.24 does it:
 * - `addEventListener` for `negotiationneeded`, `icecandidate`, `track`, `datachannel`,
 *   `connectionstatechange`: werift's RTCPeerConnection is an EventEmitter with a DOM-style
 *   `addEventListener` and emits all five (the `icecandidate` candidate is a plain
 *   `{candidate, sdpMid, sdpMLineIndex, usernameFragment}`, and `undefined` at the end);
 * - `setLocalDescription()` without arguments (implicit offer/answer), implicit rollback in
 *   `setRemoteDescription(offer)` and explicit `{type: 'rollback'}`, `restartIce()`,
 *   `addIceCandidate()`, `signalingState`, `connectionState`, `localDescription`,
 *   `createDataChannel()`, `addTrack()`, `getStats()` (with `selectedCandidatePairId`): all there;
 * - `close()`: werift's returns a promise, which this adapter settles (the standard one
 *   returns nothing and does not fail).
 * werift emits a description's first ICE candidates before `setLocalDescription()` resolves and
 * applies a candidate with a new ufrag as soon as it arrives; the SDK's Call orders both ways
 * (see call.ts), which browsers do not need and do not mind.
 *
 * Limits: werift uses the first STUN and the first TURN URL it is given; media tracks are
 * werift's own classes (`MediaStreamTrack` from werift), so `session.addTrack()` needs a cast
 * from them; data channels work as in a browser.
 */

/** An ICE server as werift takes it (the same shape as the DOM's). */
export interface WeriftIceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

/** The part of werift's configuration this adapter sets. */
export interface WeriftConfiguration {
  iceServers: WeriftIceServer[];
  iceTransportPolicy: 'all' | 'relay';
  iceAdditionalHostAddresses?: string[];
  icePortRange?: [number, number];
  iceUseIpv4?: boolean;
  iceUseIpv6?: boolean;
}

/** What this adapter needs of werift's RTCPeerConnection class. */
export type WeriftConstructor = new (config: WeriftConfiguration) => { close(): Promise<void> };

export interface FromWeriftOptions {
  /** Extra host addresses to gather (werift skips loopback and tunnels by default). */
  readonly iceAdditionalHostAddresses?: string[];
  /** Local UDP port range for ICE. */
  readonly icePortRange?: [number, number];
  readonly iceUseIpv4?: boolean;
  readonly iceUseIpv6?: boolean;
  /** Where to report a failed `close()`. */
  readonly logger?: Logger;
}

function weriftConfig(c: RTCConfiguration, o: FromWeriftOptions): WeriftConfiguration {
  return {
    iceServers: (c.iceServers ?? []).map((s) => ({
      urls: typeof s.urls === 'string' ? s.urls : [...s.urls],
      ...(s.username === undefined ? {} : { username: s.username }),
      ...(s.credential === undefined ? {} : { credential: s.credential }),
    })),
    iceTransportPolicy: c.iceTransportPolicy ?? 'all',
    ...(o.iceAdditionalHostAddresses === undefined
      ? {}
      : { iceAdditionalHostAddresses: o.iceAdditionalHostAddresses }),
    ...(o.icePortRange === undefined ? {} : { icePortRange: o.icePortRange }),
    ...(o.iceUseIpv4 === undefined ? {} : { iceUseIpv4: o.iceUseIpv4 }),
    ...(o.iceUseIpv6 === undefined ? {} : { iceUseIpv6: o.iceUseIpv6 }),
  };
}

/**
 * Adapts werift's RTCPeerConnection class for `createPeer({RTCPeerConnection})`.
 *
 * @example
 * import WebSocket from 'ws';
 * import { RTCPeerConnection } from 'werift';
 * import { createPeer } from '@punch/sdk';
 * import { fromWerift } from '@punch/sdk/werift';
 *
 * const peer = createPeer({
 *   url: 'http://127.0.0.1:8787',
 *   token,
 *   WebSocket,
 *   RTCPeerConnection: fromWerift(RTCPeerConnection),
 * });
 */
export function fromWerift(
  Werift: WeriftConstructor,
  options: FromWeriftOptions = {},
): PeerConnectionConstructor {
  const log = options.logger ?? silentLogger;
  function make(configuration: RTCConfiguration): object {
    const pc = new Werift(weriftConfig(configuration, options));
    const close = pc.close.bind(pc);
    pc.close = () => {
      close().catch((err: unknown) => {
        // Nothing is waiting on a close: its transports are released either way.
        log.debug('werift close() failed', { err: String(err) });
      });
      return Promise.resolve();
    };
    return pc;
  }
  // `new make(config)` returns the werift object (a constructor returning an object yields
  // it). werift implements, with its own classes, every RTCPeerConnection member the SDK uses
  // (listed above, exercised by werift.test.ts); this is where its type is bridged to the DOM's.
  return make as unknown as PeerConnectionConstructor;
}
