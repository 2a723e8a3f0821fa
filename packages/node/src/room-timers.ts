import { HEALTH_KEEP_MS, type Room, type SignalRoom } from '@punch/core';
import { DeadlineScheduler } from './scheduler.js';

/** Buffered audit events reach the database at most this long after they happen. */
export const AUDIT_FLUSH_MS = 1000;
/** Health history, revocations and old audit events are pruned this often. */
export const PRUNE_EVERY_MS = 60_000;

export interface RoomTimersDeps {
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  /** Health samples are kept HEALTH_KEEP_MS. */
  readonly health: { pruneHealth(beforeMs: number): unknown };
  /** The project audit log: buffered events written (`flush`), old ones deleted. */
  readonly audit: { flush(): void; pruneAudit(beforeMs: number): unknown };
  /** How long audit events are kept, in ms. */
  readonly auditKeepMs: number;
  readonly revocations: { prune(nowMs: number): void };
}

/**
 * The Node host's clock work, by deadline (DESIGN.md: "Timers are scheduled by deadline, never
 * by walking every session each second"): each room is woken when its `nextTickAt()` comes,
 * as a Durable Object's alarm wakes it on Workers. The host calls `session(room)` or
 * `signal(room)` after every event that may bring that deadline forward (a room created or
 * loaded, a socket joining, a frame, a STUN observation); an early wake finds nothing to do
 * and schedules the next one. Idle rooms cost nothing until they expire.
 *
 * @example
 * const timers = new RoomTimers({ now: Date.now, health, audit, auditKeepMs, revocations });
 * timers.session(room); // after every event in `room`
 */
export class RoomTimers {
  readonly #deps: RoomTimersDeps;
  readonly #sessions: DeadlineScheduler<Room>;
  readonly #signals: DeadlineScheduler<SignalRoom>;
  readonly #prune: NodeJS.Timeout;
  #flush: NodeJS.Timeout | undefined;

  constructor(deps: RoomTimersDeps) {
    this.#deps = deps;
    this.#sessions = new DeadlineScheduler<Room>({
      now: deps.now,
      onDue: (room, t) => {
        if (room.closed) return;
        // Closing calls the host's onClosed, which forgets the room here too.
        if (room.tick(t)) room.close('expired');
        else this.session(room);
      },
    });
    this.#signals = new DeadlineScheduler<SignalRoom>({
      now: deps.now,
      onDue: (room, t) => {
        room.tick(t);
        this.signal(room);
      },
    });
    // Cheap at any scale (indexed deletes, a small map): a coarse interval is fine here.
    this.#prune = setInterval(() => {
      const t = deps.now();
      deps.health.pruneHealth(t - HEALTH_KEEP_MS);
      deps.revocations.prune(t);
      deps.audit.pruneAudit(t - deps.auditKeepMs);
    }, PRUNE_EVERY_MS);
    this.#prune.unref();
  }

  /** Session rooms with a deadline. */
  get sessions(): number {
    return this.#sessions.size;
  }

  /** Wakes `room` at its next deadline (or earlier, if it already had an earlier one). */
  session(room: Room): void {
    if (room.closed) this.#sessions.cancel(room);
    else this.#sessions.schedule(room, room.nextTickAt());
  }

  /** The session room closed: it is never woken again. */
  sessionClosed(room: Room): void {
    this.#sessions.cancel(room);
  }

  /** Wakes the signalling room when a token expires or an audit window ends. */
  signal(room: SignalRoom): void {
    const at = room.nextTickAt();
    if (at === undefined) this.#signals.cancel(room);
    else this.#signals.schedule(room, at);
  }

  /** Wakes the signalling room at `at` (ms), or earlier if it already has an earlier deadline. */
  signalAt(room: SignalRoom, at: number): void {
    this.#signals.schedule(room, at);
  }

  /** The signalling room is forgotten (its last peer left, or its project was deleted). */
  signalForgotten(room: SignalRoom): void {
    this.#signals.cancel(room);
  }

  /** An audit event was buffered: it is written within AUDIT_FLUSH_MS. */
  auditBuffered(): void {
    if (this.#flush !== undefined) return;
    this.#flush = setTimeout(() => {
      this.#flush = undefined;
      this.#deps.audit.flush();
    }, AUDIT_FLUSH_MS);
    // The store flushes on close: a pending flush need not keep the process alive.
    this.#flush.unref();
  }

  /** Stops every timer (server shutdown). */
  close(): void {
    this.#sessions.close();
    this.#signals.close();
    clearInterval(this.#prune);
    clearTimeout(this.#flush);
    this.#flush = undefined;
  }
}
