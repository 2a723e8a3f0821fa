import {
  toWireCandidate,
  type Envelope,
  type WireCandidate,
  type WireDescription,
} from './envelope.js';
import type { Logger } from './logger.js';
import { decodeDescription, encodeDescription } from './sdp-codec.js';

/**
 * One RTCPeerConnection and its negotiation: the W3C "perfect negotiation" pattern
 * (https://w3c.github.io/webrtc-pc/#perfect-negotiation-example), unchanged in substance:
 * `negotiationneeded` → `setLocalDescription()` → send; an incoming offer that collides with our
 * own is ignored by the impolite side and wins on the polite side (setRemoteDescription rolls
 * our offer back implicitly); candidates are sent as they come.
 *
 * Two additions, both for runtimes that are less strict than browsers about ordering (werift):
 * - incoming messages of a call are applied one at a time, in order, so a candidate is never
 *   added before the description it belongs to has been set;
 * - candidates found while a local description is being set are held until that description
 *   has been sent, so the remote side never gets a candidate of an ICE generation it has not
 *   seen yet.
 */

/** What an envelope carries, without its version and call id (the Call adds them). */
export type EnvelopeBody =
  | { readonly kind: 'description'; readonly initial?: true; readonly description: WireDescription }
  | { readonly kind: 'candidate'; readonly candidate: WireCandidate };

export interface CallHost {
  /** Polite side of perfect negotiation. */
  readonly polite: boolean;
  /** The side that created the call: only its first offer carries `initial: true`. */
  readonly caller: boolean;
  readonly logger: Logger;
  /** Sends an envelope body for this call; returns the `ref` it went with. */
  send(body: EnvelopeBody): string;
  /** The first offer went out with this ref (errors for it fail `connect()`). */
  initialSent(ref: string): void;
  /** A remote description was applied. */
  remoteApplied(type: RTCSdpType): void;
  /** A WebRTC operation failed where perfect negotiation does not expect it. */
  failed(err: unknown, during: string): void;
}

/**
 * @example
 * const call = new Call(newCallId(), new RTCPeerConnection(config), host);
 * call.receive(envelope); // for each envelope of this call
 */
export class Call {
  readonly id: string;
  readonly pc: RTCPeerConnection;
  readonly #host: CallHost;
  #makingOffer = false;
  #ignoreOffer = false;
  #settingRemoteAnswerPending = false;
  #initialSent = false;
  #holding = 0;
  #held: WireCandidate[] = [];
  #chain: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(id: string, pc: RTCPeerConnection, host: CallHost) {
    this.id = id;
    this.pc = pc;
    this.#host = host;
    pc.addEventListener('negotiationneeded', () => {
      void this.#negotiate();
    });
    pc.addEventListener('icecandidate', (ev) => {
      this.#candidate(ev.candidate);
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Applies an envelope of this call, after those received before it. */
  receive(e: Envelope): void {
    this.#chain = this.#chain.then(() => this.#apply(e));
  }

  /** Closes the connection; later events and messages are ignored. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#held = [];
    try {
      this.pc.close();
    } catch (err) {
      // A connection that cannot close is closed as far as this call is concerned.
      this.#host.logger.debug('RTCPeerConnection.close() threw', {
        call: this.id,
        err: String(err),
      });
    }
  }

  async #negotiate(): Promise<void> {
    if (this.#closed) return;
    this.#hold();
    try {
      this.#makingOffer = true;
      await this.pc.setLocalDescription();
      await this.#sendLocal();
    } catch (err) {
      if (!this.#closed) this.#host.failed(err, 'making an offer');
    } finally {
      this.#makingOffer = false;
      this.#release();
    }
  }

  async #apply(e: Envelope): Promise<void> {
    if (this.#closed) return;
    try {
      if (e.kind === 'description') await this.#description(e.description);
      else if (e.kind === 'candidate') await this.#addCandidate(e.candidate);
    } catch (err) {
      if (!this.#closed) this.#host.failed(err, `applying a remote ${e.kind}`);
    }
  }

  async #description(wire: WireDescription): Promise<void> {
    const description = await decodeDescription(wire);
    if (this.#closed) return;
    const pc = this.pc;
    const readyForOffer =
      !this.#makingOffer && (pc.signalingState === 'stable' || this.#settingRemoteAnswerPending);
    const offerCollision = description.type === 'offer' && !readyForOffer;
    this.#ignoreOffer = !this.#host.polite && offerCollision;
    if (this.#ignoreOffer) {
      this.#host.logger.debug('ignored a colliding offer (impolite side)', { call: this.id });
      return;
    }
    this.#settingRemoteAnswerPending = description.type === 'answer';
    try {
      await pc.setRemoteDescription(description);
    } finally {
      this.#settingRemoteAnswerPending = false;
    }
    if (this.#closed) return;
    this.#host.remoteApplied(description.type);
    if (description.type === 'offer') {
      this.#hold();
      try {
        await pc.setLocalDescription();
        await this.#sendLocal();
      } finally {
        this.#release();
      }
    }
  }

  async #addCandidate(candidate: WireCandidate): Promise<void> {
    try {
      await this.pc.addIceCandidate(candidate);
    } catch (err) {
      // Candidates of an offer we ignored fail to apply: expected, per the pattern.
      if (!this.#ignoreOffer) throw err;
    }
  }

  async #sendLocal(): Promise<void> {
    const d = this.pc.localDescription;
    if (this.#closed || d === null || d.type === 'rollback') return;
    const description = await encodeDescription({ type: d.type, sdp: d.sdp });
    if (this.#closed) return;
    const initial = this.#host.caller && d.type === 'offer' && !this.#initialSent;
    if (initial) {
      this.#initialSent = true;
      this.#host.initialSent(this.#host.send({ kind: 'description', initial: true, description }));
    } else {
      this.#host.send({ kind: 'description', description });
    }
  }

  #candidate(c: RTCIceCandidate | null | undefined): void {
    // null (or undefined, in werift) marks the end of gathering: nothing to send.
    if (this.#closed || c === null || c === undefined) return;
    const wire = toWireCandidate(c);
    if (this.#holding > 0) this.#held.push(wire);
    else this.#host.send({ kind: 'candidate', candidate: wire });
  }

  #hold(): void {
    this.#holding++;
  }

  #release(): void {
    this.#holding--;
    if (this.#holding > 0 || this.#closed) return;
    const held = this.#held;
    this.#held = [];
    for (const candidate of held) this.#host.send({ kind: 'candidate', candidate });
  }
}
