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

/**
 * How long ago, for people: `just now` under a second, then seconds, minutes, hours.
 *
 * @example
 * formatAgo(3_400) // '3 s ago'
 * formatAgo(125_000) // '2 min ago'
 */
export function formatAgo(ms: number): string {
  // A clock a little ahead of the server's still reads "just now", never "-1 s ago".
  if (ms < 1000) return 'just now';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.floor(m / 60);
  return m % 60 === 0 ? `${h} h ago` : `${h} h ${m % 60} min ago`;
}
