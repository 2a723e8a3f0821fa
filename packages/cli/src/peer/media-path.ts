/**
 * The contract between the agent and a way of reaching the other agent. Today one path fills
 * it: the punched direct path (`path.ts`). The relay (DESIGN.md "The relay") is a second: TURN
 * from the same media socket, the same authenticated probes through the relayed address. The
 * agent holds a `MediaPath` and nothing more specific, so it forwards, counts and reports
 * health the same way whichever path carries the media.
 */

/** A UDP transport address. */
export interface Addr {
  readonly ip: string;
  readonly port: number;
}

/** How the media travels: what health reports as `path` while the path is up. */
export type PathKind = 'direct' | 'relay';

/**
 * Which of the other side's candidates a path reached: its public endpoint, its LAN address
 * (behind the same NAT), or its relayed address on a TURN server.
 */
export type Via = 'public' | 'local' | 'relay';

/** What a path tells the agent. */
export interface PathEvents {
  /**
   * The path carries data, to `remote`; `via` says which of the other side's candidates
   * answered (its public endpoint, or its LAN address behind the same NAT). Called again when
   * the path switches to a better candidate.
   */
  up(remote: Addr, via: Via): void;
  /** The path went silent and is being re-established (data is dropped meanwhile). */
  down(reason: string): void;
  /** No path after `seconds` of trying: this path gives up for good. */
  failed(seconds: number): void;
  /** An SRT packet from the other agent, as its SRT tool sent it (the tunnel's framing removed). */
  data(packet: Buffer): void;
}

/**
 * One way to the other agent. A path owns its keepalives and its liveness checks; the agent
 * offers it every datagram of the media socket that is not the STUN probe's, and hands it every
 * SRT packet from the local tool.
 */
export interface MediaPath {
  readonly kind: PathKind;
  /** True while the path is proven both ways and carries data. */
  readonly up: boolean;
  /** The other agent's address this path sends to, while up. */
  readonly remote: Addr | undefined;
  /** Round-trip time of the path's last keepalive, in ms, once measured. */
  readonly rttMs: number | undefined;
  /** Keepalive loss over the path's life, in percent. */
  readonly lossPct: number;
  /**
   * Sends one SRT packet to the other agent. False when the path is not up: the packet is
   * dropped (SRT retransmits).
   */
  send(packet: Uint8Array): boolean;
  /**
   * Offers a datagram the media socket received from `from`. True when it was this path's
   * (its control traffic, or data handed on through `PathEvents.data`); false when it is not
   * (so another path, or nobody, may take it).
   */
  onDatagram(packet: Buffer, from: Addr): boolean;
  /** Stops the path's timers; it sends and reports nothing more. */
  close(): void;
}
