import { coversStream } from '../permissions.js';
import type { TokenClaims } from '../token/claims.js';
import type { Tally, TallyOrigin } from '../wire/common.js';
import type { StreamViewMessage } from '../wire/to-client.js';
import type { RoomState } from './state.js';

/**
 * The part of `tally` a token may see: only the streams it covers.
 *
 * @example
 * const claims = { session: 'show', role: 'peer', stream: 'cam-wide', exp } as const;
 * tallyFor({ program: ['cam-wide'], preview: ['cam-close'] }, claims);
 * // { program: ['cam-wide'], preview: [] }
 */
export function tallyFor(tally: Tally, claims: TokenClaims): Tally {
  return {
    program: tally.program.filter((s) => coversStream(claims, s)),
    preview: tally.preview.filter((s) => coversStream(claims, s)),
  };
}

/**
 * Where `stream` stands in `tally`: on air wins over preview.
 *
 * @example
 * tallyMark({ program: ['cam-wide'], preview: ['cam-wide'] }, 'cam-wide'); // 'program'
 * tallyMark({ program: [], preview: [] }, 'cam-wide');                     // 'none'
 */
export function tallyMark(tally: Tally, stream: string): StreamViewMessage['tally'] {
  if (tally.program.includes(stream)) return 'program';
  return tally.preview.includes(stream) ? 'preview' : 'none';
}

/**
 * Where tally came from, for `claims`: admins see it (once tally has been set), peers never do
 * (a bridge names the production's switcher, address included).
 *
 * @example
 * return { tally, ...originFor(room.record, claims) }; // { tally, tallyOrigin: {…} } for an admin
 */
export function originFor(
  record: { readonly tallyOrigin?: TallyOrigin },
  claims: TokenClaims,
): { tallyOrigin?: TallyOrigin } {
  return claims.role === 'admin' && record.tallyOrigin !== undefined
    ? { tallyOrigin: record.tallyOrigin }
    : {};
}

/**
 * Sets tally (every named stream must exist: ERR_STREAM_UNKNOWN otherwise, and nothing
 * changes; nothing changes either when it cannot be stored: ERR_STORAGE), stores it with who
 * set it (`source`, null: by hand) and when, and pushes it to everyone, each filtered to the
 * streams its token covers; admins also get its origin. The last writer wins: a press on the
 * dashboard replaces a bridge's tally until the bridge's next change.
 *
 * @example
 * setTally(room, { program: ['cam-wide'], preview: ['cam-close'] }, 'vMix at 10.0.0.5:8099');
 */
export function setTally(room: RoomState, tally: Tally, source: string | null = null): void {
  for (const name of [...tally.program, ...tally.preview]) room.slots.of(name);
  const next = { program: [...new Set(tally.program)], preview: [...new Set(tally.preview)] };
  const origin: TallyOrigin = { source, at: room.deps.now() };
  // Stored before it is the room's: a write that fails (ERR_STORAGE) changes nothing.
  room.deps.store.saveSession({ ...room.record, tally: next, tallyOrigin: origin });
  room.record.tally = next;
  room.record.tallyOrigin = origin;
  for (const c of room.conns.keys()) {
    const filtered = tallyFor(room.record.tally, c.claims);
    c.send(
      c.claims.role === 'admin'
        ? { type: 'tally', ...filtered, origin }
        : { type: 'tally', ...filtered },
    );
  }
  room.views.publishAll();
}
