import type { TallyOrigin } from '@punch/core';
import { formatAgo, formatClock } from '../lib/format.js';

/**
 * Where the session's tally comes from (DESIGN.md "Tally from the switcher"): the switcher a
 * `punch tally bridge` named, and how long ago it last set tally, or the time of a press by
 * hand. The last writer wins: a PGM/PVW press here shows as "by hand" until the bridge's next
 * change. Nothing before tally is first set.
 */
export function TallyOriginLine({
  origin,
  serverNow,
}: {
  origin: TallyOrigin | null;
  /** The server's clock, ms: `at` is the server's, and this machine's may run off. */
  serverNow: number;
}) {
  if (origin === null) return null;
  const clock = formatClock(origin.at);
  return (
    <p class="tally-origin hint" data-testid="tally-origin" title={`Tally last set at ${clock}`}>
      {origin.source === null ? (
        <>Tally set by hand, {clock}</>
      ) : (
        <>
          {/* bdi: a source in a right-to-left script must not reorder the rest of the line. */}
          Tally from{' '}
          <bdi>
            <strong class="tally-source">{origin.source}</strong>
          </bdi>
          , {formatAgo(serverNow - origin.at)}
        </>
      )}
    </p>
  );
}
