import { AUDIT_WINDOW_MS, SignalRoom, type SignalRoomDeps } from '@punch/core';
import type { RoomTimers } from './room-timers.js';

/** What every project's room shares; `project`, `onEmpty` and `onIdentityChanged` are set here. */
export type SharedSignalDeps = Omit<SignalRoomDeps, 'project' | 'onEmpty' | 'onIdentityChanged'>;

/**
 * The projects realm's signalling rooms on the Node host, one per project with peers connected:
 * created on first use, forgotten when the last peer leaves, woken by deadline (`RoomTimers`).
 *
 * @example
 * const rooms = new SignalRooms({ log, now, verify, revocations, iceServers, audit }, timers);
 * rooms.room('prj_x').join(conn, ice);
 */
export class SignalRooms {
  readonly #deps: SharedSignalDeps;
  readonly #timers: RoomTimers;
  readonly #rooms = new Map<string, SignalRoom>();

  constructor(deps: SharedSignalDeps, timers: RoomTimers) {
    this.#deps = deps;
    this.#timers = timers;
  }

  /** The project's room, if a peer is connected to it. */
  get(project: string): SignalRoom | undefined {
    return this.#rooms.get(project);
  }

  /** The project's room, created on first use. */
  room(project: string): SignalRoom {
    const found = this.#rooms.get(project);
    if (found !== undefined) return found;
    const timers = this.#timers;
    const room: SignalRoom = new SignalRoom({
      ...this.#deps,
      project,
      audit: (event) => {
        this.#deps.audit(event);
        timers.auditBuffered();
        // A new audit window: the room forgets it when it ends. Known here at no cost, where
        // asking the room's nextTickAt after every frame would walk every peer per signal.
        if (event.kind === 'signal') timers.signalAt(room, event.at + AUDIT_WINDOW_MS);
      },
      // A refreshed token may end sooner than the one it replaced.
      onIdentityChanged: () => {
        timers.signal(room);
      },
      onEmpty: (r) => {
        if (this.#rooms.get(project) === r) this.#rooms.delete(project);
        timers.signalForgotten(r);
      },
    });
    this.#rooms.set(project, room);
    return room;
  }

  /** The project was deleted: every peer is told and disconnected, and its room forgotten. */
  closeProject(project: string): void {
    this.#rooms.get(project)?.closeAll('project-deleted');
    this.#rooms.delete(project);
  }
}
