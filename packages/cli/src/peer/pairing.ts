import type { Socket } from 'node:dgram';
import { deriveTunnelKey } from '@punch/core';
import type { PeerMessage } from './link.js';
import type { Addr, MediaPath, PathEvents, PathKind } from './media-path.js';
import { PunchedPath } from './path.js';

/** A path's events, with `up` naming the kind of path that came up. */
export interface PairingEvents extends Omit<PathEvents, 'up'> {
  up(kind: PathKind, remote: Addr, via: 'public' | 'local'): void;
}

export interface PairingOptions {
  /** The media socket, which the path punches from and sends on. */
  readonly socket: Socket;
  readonly session: string;
  readonly stream: string;
  readonly role: 'sender' | 'receiver';
  /** How long the path may look for a way through before it fails. */
  readonly punchTimeoutMs: number;
  readonly events: PairingEvents;
}

/**
 * The media path for the agent's current pairing (Punch's `peer` message): it derives the
 * probe key from the stream's passphrase and opens the path to the other side's candidates. A
 * `peer` naming the address the live path already uses keeps that path (Punch restarted, or
 * the agent re-registered); any other replaces it. This is where a second kind of path (the
 * relay) will be chosen; today every path is the punched one.
 */
export class Pairing {
  readonly #o: PairingOptions;
  #path: MediaPath | undefined;
  /** Bumped by every open and drop: an open overtaken while it derived its key gives up. */
  #generation = 0;
  /** When the current search for a way through must have found one (ms since the epoch). */
  #searchEndsAt: number | undefined;
  /** Fails a search the other side walked away from (see `leave`). */
  #orphaned: NodeJS.Timeout | undefined;

  constructor(options: PairingOptions) {
    this.#o = options;
  }

  /** The path of the current pairing, up or still looking for a way through. */
  get path(): MediaPath | undefined {
    return this.#path;
  }

  /** True when `m` names the address the live path sends to: nothing to redo. */
  holds(m: PeerMessage): boolean {
    const current = this.#path?.remote;
    if (current === undefined) return false;
    return [m.remote, ...(m.remote.local ?? [])].some(
      (c) => c.ip === current.ip && c.port === current.port,
    );
  }

  /**
   * Replaces the current path with one to `m`'s other side. False when overtaken meanwhile (by
   * another `open`, or `drop`): no path was opened.
   */
  async open(m: PeerMessage): Promise<boolean> {
    this.drop();
    const generation = this.#generation;
    const key = await deriveTunnelKey(m.passphrase, this.#o.session, this.#o.stream);
    if (generation !== this.#generation) return false;
    const events = this.#o.events;
    this.#searchEndsAt = Date.now() + this.#o.punchTimeoutMs;
    const path: MediaPath = new PunchedPath({
      socket: this.#o.socket,
      key,
      role: this.#o.role,
      remote: m.remote,
      punchTimeoutMs: this.#o.punchTimeoutMs,
      events: {
        up: (remote, via) => {
          this.#searchEndsAt = undefined;
          events.up(path.kind, remote, via);
        },
        down: (reason) => {
          events.down(reason);
        },
        failed: (seconds) => {
          events.failed(seconds);
        },
        data: (packet) => {
          events.data(packet);
        },
      },
    });
    this.#path = path;
    return true;
  }

  /**
   * The other side left. Its path closes; but when no way through had been found yet, the
   * search still fails at its deadline unless the other side comes back: two agents that both
   * give up at about the same time must both say so, not leave one waiting for ever because
   * the other's exit reached it first.
   */
  leave(): void {
    const endsAt = this.#searchEndsAt;
    this.drop();
    if (endsAt === undefined) return;
    this.#searchEndsAt = endsAt;
    this.#orphaned = setTimeout(
      () => {
        this.#orphaned = undefined;
        if (this.#path === undefined) this.#o.events.failed(this.#o.punchTimeoutMs / 1000);
      },
      Math.max(0, endsAt - Date.now()),
    );
  }

  /**
   * Punch is unreachable: whether the other side comes back cannot be known, so a search it
   * walked away from no longer fails on its own; the agent waits for the next `peer`, as it
   * does for any pairing (a live search keeps its own deadline).
   */
  linkLost(): void {
    if (this.#path !== undefined) return;
    clearTimeout(this.#orphaned);
    this.#orphaned = undefined;
  }

  /** Closes the current path and forgets its search (a new pairing, or the agent stops). */
  drop(): void {
    this.#generation++;
    clearTimeout(this.#orphaned);
    this.#orphaned = undefined;
    this.#searchEndsAt = undefined;
    this.#path?.close();
    this.#path = undefined;
  }
}
