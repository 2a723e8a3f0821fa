import { z } from 'zod';
import type { SqlDriver, SqlValue } from '../sql/driver.js';

/**
 * The bounds on stored health (DESIGN.md "Limits, storage faults and deletion"), kept over the
 * `health` table of `SqlSessionStore`: older samples thinned, and a byte cap per session. The
 * rate of samples (one per second per side) is the room's (`SlotHealth.report`).
 */

/** Health samples older than this are thinned to one per HEALTH_THIN_INTERVAL_MS per side. */
export const HEALTH_THIN_AFTER_MS = 300_000;
/** What a side keeps of its older health: one sample per this many milliseconds. */
export const HEALTH_THIN_INTERVAL_MS = 10_000;
/**
 * The most health one session stores, in bytes (see `HEALTH_ROW_BYTES`): past it, its oldest
 * samples are deleted down to seven eighths of it, so a full session deletes in batches rather
 * than on every sample.
 */
export const HEALTH_MAX_BYTES = 1_048_576;
/**
 * What one health row counts against HEALTH_MAX_BYTES, in SQL so that what is added on insert
 * and taken away on deletion are measured the same way: its text in UTF-8 bytes, plus 32 bytes
 * for its numbers and the row itself.
 */
export const HEALTH_ROW_BYTES =
  'length(CAST(stats AS BLOB)) + length(CAST(stream AS BLOB)) + length(CAST(session AS BLOB)) + 32';
/** How many of the oldest rows one deletion pass over a full session takes. */
const CAP_BATCH = 64;
/**
 * Passes at most per sample: enough for an eighth of the cap in the smallest rows (about 40
 * bytes, some 3,300 rows); what is left goes at the next sample.
 */
const CAP_PASSES = 64;

/** A row that `RETURNING … AS bytes` answers. */
export const HealthBytesRow = z.object({ bytes: z.number() });

/**
 * Keeps each session's health within its bounds as samples are stored. The bytes a session
 * stores are summed from its rows the first time it stores a sample after this opened, then
 * kept with every insertion and deletion, so the cap costs no scan per sample; thinning runs at
 * most once per HEALTH_THIN_INTERVAL_MS per session, over what turned old since.
 *
 * @example
 * const bounds = new HealthBounds(db);
 * bounds.stored('show-1', 412, Date.now()); // after inserting a 412-byte row
 */
export class HealthBounds {
  readonly #db: SqlDriver;
  readonly #bytes = new Map<string, number>();
  /** Per session, the instant before which its health is thinned already (a bucket boundary). */
  readonly #thinnedTo = new Map<string, number>();

  constructor(db: SqlDriver) {
    this.#db = db;
  }

  /** A row of `bytes` was inserted for `session` at `now`: thin and cap as due. */
  stored(session: string, bytes: number, now: number): void {
    // Read before adding: a first read sums the rows, the new one included.
    const known = this.#bytes.has(session);
    const total = this.bytes(session);
    this.#bytes.set(session, known ? total + bytes : total);
    this.#thin(session, now);
    this.#cap(session);
  }

  /** Rows holding `bytes` of `session` were deleted elsewhere (pruning). */
  freed(session: string, bytes: number): void {
    const total = this.#bytes.get(session);
    if (total !== undefined) this.#bytes.set(session, total - bytes);
  }

  /** The session was deleted: nothing is kept for it. */
  forget(session: string): void {
    this.#bytes.delete(session);
    this.#thinnedTo.delete(session);
  }

  /** The health bytes `session` stores. */
  bytes(session: string): number {
    let bytes = this.#bytes.get(session);
    if (bytes === undefined) {
      const row = this.#db.all(
        `SELECT COALESCE(SUM(${HEALTH_ROW_BYTES}), 0) AS bytes FROM health WHERE session = ?`,
        session,
      )[0];
      bytes = HealthBytesRow.parse(row).bytes;
      this.#bytes.set(session, bytes);
    }
    return bytes;
  }

  /** Deletes the session's rows that `where` selects, and counts the bytes they held. */
  #deleteCounted(session: string, where: string, ...params: SqlValue[]): number {
    const rows = this.#db.all(
      `DELETE FROM health WHERE session = ? AND ${where} RETURNING ${HEALTH_ROW_BYTES} AS bytes`,
      session,
      ...params,
    );
    let freed = 0;
    for (const row of rows) freed += HealthBytesRow.parse(row).bytes;
    this.freed(session, freed);
    return rows.length;
  }

  /**
   * Thins what has turned older than HEALTH_THIN_AFTER_MS since the last pass: of each side's
   * samples in each HEALTH_THIN_INTERVAL_MS bucket, the first stored stays. Buckets are whole
   * intervals since the epoch, so a bucket thinned once is never thinned differently again.
   */
  #thin(session: string, now: number): void {
    const to =
      Math.floor((now - HEALTH_THIN_AFTER_MS) / HEALTH_THIN_INTERVAL_MS) * HEALTH_THIN_INTERVAL_MS;
    // After a start, the session's whole older history is thinned once.
    const from = this.#thinnedTo.get(session) ?? Number.MIN_SAFE_INTEGER;
    if (to <= from) return;
    this.#deleteCounted(
      session,
      `at >= ? AND at < ? AND rowid NOT IN (
         SELECT MIN(rowid) FROM health WHERE session = ? AND at >= ? AND at < ?
         GROUP BY stream, role, CAST(at / ? AS INTEGER))`,
      from,
      to,
      session,
      from,
      to,
      HEALTH_THIN_INTERVAL_MS,
    );
    this.#thinnedTo.set(session, to);
  }

  /** Over HEALTH_MAX_BYTES: the oldest samples go, down to seven eighths of it. */
  #cap(session: string): void {
    if (this.bytes(session) <= HEALTH_MAX_BYTES) return;
    const target = (HEALTH_MAX_BYTES * 7) / 8;
    // Each pass deletes CAP_BATCH rows, or none and the loop ends; CAP_PASSES bounds it too.
    for (let pass = 0; pass < CAP_PASSES && this.bytes(session) > target; pass++) {
      const deleted = this.#deleteCounted(
        session,
        'rowid IN (SELECT rowid FROM health WHERE session = ? ORDER BY at, rowid LIMIT ?)',
        session,
        CAP_BATCH,
      );
      if (deleted === 0) {
        this.#bytes.set(session, 0);
        return;
      }
    }
  }
}
