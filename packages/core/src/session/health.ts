import type { Stats } from '../wire/common.js';
import type { SlotRef } from './slot-ref.js';
import type { Conn } from './conn.js';
import type { HealthSample } from './record.js';
import type { RoomState } from './state.js';

/** How long after its last health report a path still counts as live. */
export const HEALTH_LIVE_MS = 5_000;
/** At most one stored health sample per slot per this many milliseconds. */
export const HEALTH_STORE_INTERVAL_MS = 500;

type PathName = NonNullable<Stats['path']>;

/**
 * What one slot's health reports say about its path: the last reported path while reports
 * keep coming, and when a report was last stored (storage is throttled per slot).
 *
 * @example
 * const health = new SlotHealth();
 * health.report('direct', 1_000); // true: store and fan out this one
 * health.report('direct', 1_200); // false: within HEALTH_STORE_INTERVAL_MS
 * health.liveness(1_200);         // 'direct'
 * health.liveness(6_001);         // null: silent for longer than HEALTH_LIVE_MS
 */
export class SlotHealth {
  #last: { readonly path: PathName | undefined; readonly at: number } | undefined;
  #storedAt = Number.NEGATIVE_INFINITY;

  /**
   * Notes a report at `at` (milliseconds). True when it is due to be stored and fanned out:
   * agents report once a second, and faster reports refresh the live path but are neither
   * stored nor fanned out, so no client can fill the disk or flood the dashboards.
   */
  report(path: PathName | undefined, at: number): boolean {
    this.#last = { path, at };
    if (at - this.#storedAt < HEALTH_STORE_INTERVAL_MS) return false;
    this.#storedAt = at;
    return true;
  }

  /** The reported path while reports keep coming; null before the first and once silent. */
  liveness(now: number): PathName | null {
    const h = this.#last;
    if (h === undefined || now - h.at > HEALTH_LIVE_MS) return null;
    return h.path ?? null;
  }

  /** When the reports go silent (the first instant `liveness` is null), if still to come. */
  silentAt(now: number): number | undefined {
    if (this.#last === undefined) return undefined;
    const at = this.#last.at + HEALTH_LIVE_MS + 1;
    return at > now ? at : undefined;
  }
}

/**
 * A health report from the holder of a slot (ERR_NOT_REGISTERED otherwise): stored, and fanned
 * out to admins. A path that changed during a throttled report shows at the next stored report
 * or tick.
 *
 * @example
 * reportHealth(room, conn, { stream: 'cam-wide', role: 'sender' }, { path: 'direct', rttMs: 12 });
 */
export function reportHealth(room: RoomState, conn: Conn, ref: SlotRef, stats: Stats): void {
  const slot = room.slots.held(conn, ref);
  const at = room.deps.now();
  if (!slot.health.report(stats.path, at)) return;
  room.views.publish(ref.stream);
  const sample: HealthSample = { stream: ref.stream, role: ref.role, at, stats };
  room.deps.store.appendHealth(room.record.id, sample);
  for (const c of room.conns.keys()) {
    if (c.claims.role === 'admin')
      c.send({ type: 'health', stream: ref.stream, role: ref.role, stats, at });
  }
}
