import { coversStream } from '../permissions.js';
import type { TokenClaims } from '../token/claims.js';
import type { Tally } from '../wire/common.js';
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
 * Sets tally (every named stream must exist: ERR_STREAM_UNKNOWN otherwise, and nothing
 * changes; nothing changes either when it cannot be stored: ERR_STORAGE), stores it, and
 * pushes it to everyone, each filtered to the streams its token covers.
 *
 * @example
 * setTally(room, { program: ['cam-wide'], preview: ['cam-close'] });
 */
export function setTally(room: RoomState, tally: Tally): void {
  for (const name of [...tally.program, ...tally.preview]) room.slots.of(name);
  const next = { program: [...new Set(tally.program)], preview: [...new Set(tally.preview)] };
  // Stored before it is the room's: a write that fails (ERR_STORAGE) changes nothing.
  room.deps.store.saveSession({ ...room.record, tally: next });
  room.record.tally = next;
  for (const c of room.conns.keys())
    c.send({ type: 'tally', ...tallyFor(room.record.tally, c.claims) });
  room.views.publishAll();
}
