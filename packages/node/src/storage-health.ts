import { closeSync, fsyncSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { PunchError, backoffDelay, errorFields, type HealthStatus, type Logger } from '@punch/core';
import type { StorageStats } from './metrics.js';

/**
 * What the Node host does when its disk fails (DESIGN.md "Limits, storage faults and
 * deletion"): a write that fails fails only its own request (`503 ERR_STORAGE`), background
 * writes wait and retry, `/healthz` says why while it lasts, and it all recovers by itself.
 * This module holds the shared state: whether storage is failing, since when and why, what
 * failed and what was dropped (for `/metrics`), and the probe that notices recovery.
 */

/**
 * SQLite primary result codes that mean the storage underneath failed rather than the statement
 * (a constraint, a bug): the same statement can succeed later, or the operator must act. Each
 * with what `/healthz` says of it. SQLITE_BUSY is another process (`punch account create`)
 * holding the write lock past the busy timeout: transient, so a 503. SQLITE_CORRUPT and
 * SQLITE_NOTADB do not heal by themselves, but they are the disk's doing too, and an operator
 * looking at `/healthz` should learn of them there rather than from a stream of 500s.
 * SQLITE_NOMEM is not here: memory is not storage, and `/healthz` blaming the disk would
 * mislead; it stays ERR_INTERNAL.
 */
const FAULTS: Readonly<Record<string, string>> = {
  SQLITE_FULL: 'the disk is full',
  SQLITE_IOERR: 'an I/O error',
  SQLITE_READONLY: 'the database is read-only',
  SQLITE_CANTOPEN: 'a database file cannot be opened',
  SQLITE_BUSY: 'the database is locked by another process',
  SQLITE_CORRUPT: 'the database file is corrupt',
  SQLITE_NOTADB: 'the database file is corrupt',
};

/** Seconds a client is told to wait (`Retry-After`) after ERR_STORAGE. */
export const STORAGE_RETRY_AFTER_S = 5;
/** Bytes the probe writes to the data directory: free space for more than a few rows. */
export const PROBE_BYTES = 256 * 1024;

export interface StorageFault {
  /** The SQLite code as reported (extended codes included: SQLITE_IOERR_WRITE). */
  readonly code: string;
  /** In words, for `/healthz` and the log: never the foreign error's own text. */
  readonly reason: string;
}

/**
 * The storage fault `err` is, or undefined when it is something else (a constraint, a bug).
 *
 * @example
 * storageFault(sqliteError('SQLITE_IOERR_WRITE')); // { code: 'SQLITE_IOERR_WRITE', reason: 'an I/O error' }
 * storageFault(new Error('x')); // undefined
 */
export function storageFault(err: unknown): StorageFault | undefined {
  if (!(err instanceof Database.SqliteError)) return undefined;
  const primary = /^SQLITE_[A-Z]+/.exec(err.code)?.[0] ?? '';
  const reason = Object.hasOwn(FAULTS, primary) ? FAULTS[primary] : undefined;
  return reason === undefined ? undefined : { code: err.code, reason };
}

/** True when `err` is the ERR_STORAGE a failed write became. */
export function isStorageError(err: unknown): err is PunchError {
  return err instanceof PunchError && err.code === 'ERR_STORAGE';
}

export interface StorageHealthOptions {
  readonly log: Logger;
  /**
   * Throws while the disk still refuses writes. Default: PROBE_BYTES written (and synced) to a
   * file in `dir`, then removed.
   */
  readonly probe?: () => void;
  /** The data directory, for the default probe. */
  readonly dir?: string;
  /** Milliseconds since the epoch. Default Date.now. */
  readonly now?: () => number;
  /** First probe delay window and its cap, ms (defaults 500 and 10 000). */
  readonly baseMs?: number;
  readonly capMs?: number;
  /** A number in [0, 1) for the jitter (default Math.random). */
  readonly random?: () => number;
}

/**
 * Storage health, shared by every store of one server. `fault` turns a SQLite storage error
 * into ERR_STORAGE and starts a failure episode (logged once, not once per request); while it
 * lasts, an unref'd timer probes with backoff: the probe, then every background retry
 * registered with `retry` (buffered audit events, deletions that failed). When all pass, the
 * episode ends ("storage recovered").
 *
 * @example
 * const health = new StorageHealth({ log, dir: dataDir });
 * const store = new SqliteStore(file, health);
 * app.get('/healthz', (c) => c.json(health.status()));
 */
export class StorageHealth {
  readonly #log: Logger;
  readonly #probe: () => void;
  readonly #now: () => number;
  readonly #delay: (attempt: number) => number;
  readonly #retries: (() => void)[] = [];
  readonly #pending = new Map<string, () => number>();
  readonly #failures = new Map<string, number>();
  readonly #dropped = new Map<string, number>();
  #failing: { since: number; fault: StorageFault } | undefined;
  #attempt = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: StorageHealthOptions) {
    this.#log = options.log;
    const dir = options.dir;
    this.#probe =
      options.probe ??
      (() => {
        if (dir !== undefined) probeDirectory(dir);
      });
    this.#now = options.now ?? Date.now;
    const backoff = {
      baseMs: options.baseMs ?? 500,
      capMs: options.capMs ?? 10_000,
      jitter: 'equal' as const,
      ...(options.random === undefined ? {} : { random: options.random }),
    };
    this.#delay = (attempt) => backoffDelay(attempt, backoff);
  }

  /**
   * What a store throws for `err`: ERR_STORAGE (with `err` as its cause) for a storage fault,
   * which is counted and starts an episode if none is running; `err` itself otherwise.
   */
  fault(err: unknown): unknown {
    if (err instanceof PunchError) return err;
    const fault = storageFault(err);
    if (fault === undefined) return err;
    this.#failures.set(fault.code, (this.#failures.get(fault.code) ?? 0) + 1);
    if (this.#failing === undefined) {
      this.#failing = { since: this.#now(), fault };
      this.#log.error(
        { code: fault.code, reason: fault.reason, err: errorFields(err) },
        'storage failing: writes answer 503 ERR_STORAGE until it recovers',
      );
      this.#schedule();
    }
    return new PunchError('ERR_STORAGE', undefined, {
      cause: err,
      retryAfter: STORAGE_RETRY_AFTER_S,
    });
  }

  /**
   * Counts `n` items of `what` (`audit`, `health-sample`) given up on for good; `note` logs it
   * too (once, where no scrape of `/metrics` will follow: the process is ending).
   */
  dropped(what: string, n = 1, note?: string): void {
    if (n <= 0) return;
    this.#dropped.set(what, (this.#dropped.get(what) ?? 0) + n);
    if (note !== undefined) this.#log.warn({ what, dropped: n }, note);
  }

  /**
   * Registers background work to run again on each probe while storage fails; it throws
   * ERR_STORAGE while it still cannot write. Registered once per store, not per failure.
   * `pending` counts what it waits to write, by what it is (for `/metrics`).
   */
  retry(task: () => void, pending?: Readonly<Record<string, () => number>>): void {
    this.#retries.push(task);
    for (const [what, count] of Object.entries(pending ?? {})) this.#pending.set(what, count);
  }

  get failing(): boolean {
    return this.#failing !== undefined;
  }

  /** For `/healthz`: ok, or the reason and since when (Unix seconds). */
  status(): HealthStatus {
    const f = this.#failing;
    if (f === undefined) return { ok: true };
    return {
      ok: false,
      reason: `storage: ${f.fault.reason} (${f.fault.code})`,
      since: Math.floor(f.since / 1000),
    };
  }

  /** For `/metrics`: totals since start. */
  stats(): StorageStats {
    const pending = new Map([...this.#pending].map(([what, count]) => [what, count()]));
    return { failing: this.failing, failures: this.#failures, dropped: this.#dropped, pending };
  }

  /**
   * One probe now (the timer's): the probe, then every registered retry. True when all passed
   * and the episode (if any) ended.
   */
  check(): boolean {
    try {
      this.#probe();
      for (const task of this.#retries) task();
    } catch (err) {
      // Still failing: the next probe is scheduled. A retry that failed for another reason is
      // a bug, logged; storage is not declared healthy past it.
      if (!isStorageError(err) && !isFsFault(err))
        this.#log.error({ err: errorFields(err) }, 'storage retry failed');
      return false;
    }
    const f = this.#failing;
    if (f !== undefined) {
      this.#failing = undefined;
      this.#log.info(
        { code: f.fault.code, downMs: this.#now() - f.since },
        'storage recovered: writes work again',
      );
    }
    this.#attempt = 0;
    return true;
  }

  /** Stops probing (the server is closing). */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  #schedule(): void {
    if (this.#closed || this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#attempt++;
      if (!this.check()) this.#schedule();
    }, this.#delay(this.#attempt));
    // Probing never keeps a server that is shutting down alive.
    this.#timer.unref();
  }
}

/** An error of the file system (ENOSPC, EIO, EROFS…), as the default probe throws. */
function isFsFault(err: unknown): boolean {
  const code = err instanceof Error ? (err as NodeJS.ErrnoException).code : undefined;
  return code !== undefined && /^E[A-Z]+$/.test(code);
}

/**
 * Writes PROBE_BYTES to a file in `dir`, syncs it (a file system with delayed allocation
 * reports ENOSPC only then) and removes it; throws while the disk cannot take them.
 */
function probeDirectory(dir: string): void {
  const file = join(dir, '.storage-probe');
  const fd = openSync(file, 'w', 0o600);
  try {
    const zeros = Buffer.alloc(PROBE_BYTES);
    // A short write (the disk filled up under it) is followed by one that throws ENOSPC; the
    // count bounds the loop even if a file system kept answering 0.
    for (let at = 0, tries = 0; at < PROBE_BYTES && tries < 64; tries++)
      at += writeSync(fd, zeros, at, PROBE_BYTES - at);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
    unlinkSync(file);
  }
}
