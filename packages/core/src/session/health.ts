import type { Stats } from '../wire/common.js';
import type { SlotRef } from './slot-ref.js';
import type { Conn } from './conn.js';
import type { HealthSample } from './record.js';
import type { RoomState } from './state.js';

/** How long after its last health report a path still counts as live. */
export const HEALTH_LIVE_MS = 5_000;
/**
 * At most one stored health sample per slot (stream side) per this many milliseconds, on
 * average (DESIGN.md "Limits, storage faults and deletion"). A report may come up to
 * HEALTH_STORE_JITTER_MS early (network jitter on an agent's once-a-second report) and still be
 * stored, but the schedule does not move earlier: over any N whole intervals, at most N + 1
 * reports are stored.
 */
export const HEALTH_STORE_INTERVAL_MS = 1_000;
/** How much earlier than its due time a report is still stored (see HEALTH_STORE_INTERVAL_MS). */
export const HEALTH_STORE_JITTER_MS = 500;
/**
 * Below this rate of SRT media (data packets, never SRT's or the agents' own control traffic),
 * a path carries no signal (DESIGN.md "Streams on show day").
 */
export const MEDIA_MIN_BPS = 10_000;
/** How long a live path must carry less than MEDIA_MIN_BPS before its stream has no signal. */
export const NO_SIGNAL_MS = 3_000;
/** How often agents report: each report's rates cover about the interval before it. */
export const REPORT_INTERVAL_MS = 1_000;

type PathName = NonNullable<Stats['path']>;

/** What one report says that the room reads: the path, and the media rate when counted. */
export type HealthReport = Pick<Stats, 'path' | 'mediaBps'>;

/**
 * What a live path carries, as one side's reports say: `flowing` (media seen within the last
 * NO_SIGNAL_MS), `quiet` (up for NO_SIGNAL_MS with no media), `pending` (up for less, no media
 * yet); null when its path is not live.
 */
export type MediaState = 'flowing' | 'quiet' | 'pending' | null;

/**
 * What one slot's health reports say about its path: the last reported path while reports
 * keep coming, whether media crosses it, and when a report was last stored (storage is
 * throttled per slot).
 *
 * A report without `mediaBps` comes from an agent that predates media counting: while it is
 * the last report, media counts as flowing, so such an agent's stream is `connected` as it
 * always was, never `no-signal`.
 *
 * @example
 * const health = new SlotHealth();
 * health.report({ path: 'direct' }, 1_000); // true: store and fan out this one
 * health.report({ path: 'direct' }, 1_200); // false: not yet due (1_500 at the earliest)
 * health.liveness(1_200);                   // 'direct'
 * health.liveness(6_001);                   // null: silent for longer than HEALTH_LIVE_MS
 * health.report({ path: 'direct', mediaBps: 0 }, 2_000);
 * health.media(5_000);                      // 'quiet': no media since 1_200, 3.8 s ago
 */
export class SlotHealth {
  #last: { readonly path: PathName | undefined; readonly at: number } | undefined;
  /** The earliest instant the next report is stored; each stored report moves it a full interval. */
  #dueAt = Number.NEGATIVE_INFINITY;
  /** When the current run of reports with a live path began; undefined while it is not up. */
  #upSince: number | undefined;
  /** When a report last showed media. */
  #mediaAt: number | undefined;
  /** The last report did not count media (an agent from before media counting). */
  #uncounted = false;
  /** Reports before this instant count no media (their interval began before `forgetMedia`). */
  #mediaFrom = Number.NEGATIVE_INFINITY;

  /**
   * Notes a report at `at` (milliseconds). True when it is due to be stored and fanned out:
   * agents report once a second, and faster reports refresh the live path but are neither
   * stored nor fanned out, so no client can fill the disk or flood the dashboards.
   */
  report(stats: HealthReport, at: number): boolean {
    const wasUp = isUp(this.liveness(at));
    this.#last = { path: stats.path, at };
    if (!isUp(stats.path)) this.#upSince = undefined;
    else if (!wasUp || this.#upSince === undefined) this.#upSince = at;
    this.#uncounted = stats.mediaBps === undefined;
    if (this.#uncounted || ((stats.mediaBps ?? 0) >= MEDIA_MIN_BPS && at >= this.#mediaFrom))
      this.#mediaAt = at;
    if (at < this.#dueAt) return false;
    // A schedule, not a gap since the last: a report that comes a little early (jitter) keeps
    // the once-a-second rhythm, while a flood gets one stored report per interval.
    this.#dueAt = Math.max(
      this.#dueAt + HEALTH_STORE_INTERVAL_MS,
      at + HEALTH_STORE_INTERVAL_MS - HEALTH_STORE_JITTER_MS,
    );
    return true;
  }

  /**
   * The other side left at `now` (it stopped, or was taken over): the media this side saw
   * crossed that pairing, and so does what its next report counts (the second before it). Media
   * counts again from reports a full interval later, and a live path starts its 3 s anew, so a
   * new pairing is `connected` only once media crosses it: never a false "recovered".
   */
  forgetMedia(now: number): void {
    this.#mediaAt = undefined;
    this.#upSince = undefined;
    this.#mediaFrom = now + REPORT_INTERVAL_MS;
  }

  /** The reported path while reports keep coming; null before the first and once silent. */
  liveness(now: number): PathName | null {
    const h = this.#last;
    if (h === undefined || now - h.at > HEALTH_LIVE_MS) return null;
    return h.path ?? null;
  }

  /** Whether media crosses the live path (see `MediaState`). */
  media(now: number): MediaState {
    if (!isUp(this.liveness(now)) || this.#upSince === undefined) return null;
    if (this.#uncounted) return 'flowing';
    const mediaAt = this.#mediaAt ?? Number.NEGATIVE_INFINITY;
    if (now - mediaAt < NO_SIGNAL_MS) return 'flowing';
    return now - Math.max(this.#upSince, mediaAt) >= NO_SIGNAL_MS ? 'quiet' : 'pending';
  }

  /** When the reports go silent (the first instant `liveness` is null), if still to come. */
  silentAt(now: number): number | undefined {
    if (this.#last === undefined) return undefined;
    const at = this.#last.at + HEALTH_LIVE_MS + 1;
    return at > now ? at : undefined;
  }

  /**
   * The next instant `media` changes with no further report (media stops counting as
   * flowing, or a path up without media turns quiet), if still to come while the path is live:
   * a host that wakes on a timer pushes `no-signal` then.
   */
  mediaChangeAt(now: number): number | undefined {
    if (this.media(now) === null || this.#uncounted || this.#upSince === undefined)
      return undefined;
    const mediaAt = this.#mediaAt ?? Number.NEGATIVE_INFINITY;
    const candidates = [mediaAt + NO_SIGNAL_MS, Math.max(this.#upSince, mediaAt) + NO_SIGNAL_MS];
    const future = candidates.filter((t) => t > now);
    return future.length === 0 ? undefined : Math.min(...future);
  }
}

function isUp(path: PathName | null | undefined): path is 'direct' | 'relay' {
  return path === 'direct' || path === 'relay';
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
  if (!slot.health.report(stats, at)) return;
  room.views.publish(ref.stream);
  const sample: HealthSample = { stream: ref.stream, role: ref.role, at, stats };
  room.deps.store.appendHealth(room.record.id, sample);
  for (const c of room.conns.keys()) {
    if (c.claims.role === 'admin')
      c.send({ type: 'health', stream: ref.stream, role: ref.role, stats, at });
  }
}

/**
 * After the host forgot the room (a Durable Object evicted while its sockets hibernated): the
 * stored reports of the last few seconds are read again into each held slot, so a live path and
 * its media (`connected`, `no-signal`) are known at once rather than after 3 s of new reports.
 * Stored reports are throttled (one per HEALTH_STORE_INTERVAL_MS), which is enough for both.
 *
 * @example
 * replayHealth(room); // in `settle`, after every surviving connection was resumed
 */
export function replayHealth(room: RoomState): void {
  const since = room.deps.now() - HEALTH_LIVE_MS - NO_SIGNAL_MS;
  // Two sides per stream, one stored report per interval each (plus one early), over the window.
  const perSide = Math.ceil((HEALTH_LIVE_MS + NO_SIGNAL_MS) / HEALTH_STORE_INTERVAL_MS) + 2;
  const limit = room.record.streams.length * 2 * perSide;
  for (const sample of room.deps.store.healthHistory(room.record.id, null, limit)) {
    if (sample.at < since || !room.slots.has(sample.stream)) continue;
    room.slots.at(sample)?.health.report(sample.stats, sample.at);
  }
}
