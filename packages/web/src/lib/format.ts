/**
 * Formats a bit rate for people.
 *
 * @example
 * formatBps(8_150_000) // '8.2 Mbit/s'
 */
export function formatBps(bps: number | null | undefined): string {
  if (bps === null || bps === undefined) return '—';
  if (bps >= 1e6) return `${(bps / 1e6).toFixed(1)} Mbit/s`;
  if (bps >= 1e3) return `${Math.round(bps / 1e3)} kbit/s`;
  return `${Math.round(bps)} bit/s`;
}

/**
 * A countdown: `mm:ss` under an hour, `h:mm:ss` above, `expired` at zero.
 *
 * @example
 * formatRemaining(3725) // '1:02:05'
 */
export function formatRemaining(seconds: number): string {
  if (seconds <= 0) return 'expired';
  const s = Math.floor(seconds % 60);
  const m = Math.floor((seconds / 60) % 60);
  const h = Math.floor(seconds / 3600);
  const two = (n: number): string => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${two(m)}:${two(s)}` : `${m}:${two(s)}`;
}

/** A clock time (local), for alert lists. */
export function formatClock(ms: number): string {
  return new Date(ms).toLocaleTimeString([], {
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

export const formatMs = (v: number | null | undefined): string =>
  v === null || v === undefined ? '—' : `${Math.round(v)} ms`;

export const formatPct = (v: number | null | undefined): string =>
  v === null || v === undefined ? '—' : `${v.toFixed(1)} %`;
