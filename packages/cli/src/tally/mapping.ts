/**
 * From a switcher's view (which of its inputs are on program, which on preview) to the
 * session's tally, through the producer's `--map KEY=STREAM` pairs; and the memory that makes
 * the bridge set tally only when the result changes.
 */
import { isValidName } from '@punch/core';
import { UsageError } from '../usage.js';

/** What a switcher says about one of its inputs (a vMix input, a TSL display, an OBS scene). */
export type KeyState = 'program' | 'preview' | 'off';

export interface Tally {
  readonly program: readonly string[];
  readonly preview: readonly string[];
}

/** KEY → the streams it lights (one key may light several streams). */
export type TallyMap = ReadonlyMap<string, readonly string[]>;

/**
 * Reads `--map` values: `KEY=STREAM`, several allowed, a key repeated lights every stream
 * named for it. Keys are compared as written (vMix input `3`, OBS scene `Cam 1`).
 *
 * @example
 * parseMap(['1=cam-wide', '2=cam-close']); // Map { '1' => ['cam-wide'], '2' => ['cam-close'] }
 */
export function parseMap(pairs: readonly string[]): TallyMap {
  if (pairs.length === 0)
    throw new UsageError(
      'punch tally bridge needs at least one --map KEY=STREAM (e.g. --map 1=cam-wide: vMix input 1 lights cam-wide)',
    );
  const map = new Map<string, string[]>();
  for (const pair of pairs) {
    const eq = pair.lastIndexOf('=');
    const key = eq > 0 ? pair.slice(0, eq).trim() : '';
    const stream = eq > 0 ? pair.slice(eq + 1).trim() : '';
    if (key === '' || !isValidName(stream))
      throw new UsageError(
        `--map takes KEY=STREAM, the stream a session stream name (got "${pair}")`,
      );
    const streams = map.get(key) ?? [];
    if (!streams.includes(stream)) streams.push(stream);
    map.set(key, streams);
  }
  return map;
}

/** What a numbered source's keys are, for the sentence that refuses one that is not. */
const NUMBERED: Record<string, { min: number; max: number; what: string }> = {
  vmix: { min: 1, max: 9999, what: 'vMix keys are input numbers (1 = the first input)' },
  atem: { min: 0, max: 65535, what: 'ATEM keys are source numbers (1 = input 1)' },
  'tsl5+udp': { min: 0, max: 0xfffe, what: 'TSL keys are display indexes, 0 to 65534' },
  'tsl5+tcp': { min: 0, max: 0xfffe, what: 'TSL keys are display indexes, 0 to 65534' },
};

/**
 * The `--map` keys that no frame of a `kind` source can ever name (a vMix key that is not an
 * input number, `01` for `1`), with why; empty when every key can match. OBS keys are names:
 * any key can.
 *
 * @example
 * unmatchable(parseMap(['Cam 1=cam-wide', '2=cam-close']), 'vmix');
 * // ['"Cam 1": vMix keys are input numbers (1 = the first input)']
 */
export function unmatchable(map: TallyMap, kind: string): string[] {
  const rule = NUMBERED[kind];
  if (rule === undefined) return [];
  return [...map.keys()]
    .filter((key) => !/^(0|[1-9]\d{0,4})$/.test(key) || +key < rule.min || +key > rule.max)
    .map((key) => `"${key}": ${rule.what}`);
}

/**
 * The session's tally for a switcher's state: a stream is on program when any key mapped to
 * it is, on preview when any is and none is on program (a stream is never both). A key the
 * state does not name is `others` (off unless a broadcast said otherwise). Streams come out in
 * the order of the map, so equal states give equal tallies.
 *
 * @example
 * tallyFor(parseMap(['1=cam-wide', '2=cam-close']), new Map([['1', 'program'], ['2', 'preview']]));
 * // { program: ['cam-wide'], preview: ['cam-close'] }
 */
export function tallyFor(
  map: TallyMap,
  state: ReadonlyMap<string, KeyState>,
  others: KeyState = 'off',
): Tally {
  const program = new Set<string>();
  const preview = new Set<string>();
  for (const [key, streams] of map) {
    const s = state.get(key) ?? others;
    for (const stream of streams) {
      if (s === 'program') program.add(stream);
      else if (s === 'preview') preview.add(stream);
    }
  }
  for (const stream of program) preview.delete(stream);
  return { program: [...program], preview: [...preview] };
}

/** True when both tallies light the same streams the same way (order aside). */
export function sameTally(a: Tally, b: Tally): boolean {
  const same = (x: readonly string[], y: readonly string[]): boolean =>
    x.length === y.length && x.every((s) => y.includes(s));
  return same(a.program, b.program) && same(a.preview, b.preview);
}

/**
 * The display index `--tsl-out` uses for each stream: a numeric key it is mapped from, else its
 * place (1-based), moved on past any index a numeric key took: two streams on one display
 * would make its light show whichever packet came last.
 */
export function displayIndexes(map: TallyMap, streams: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const [key, mapped] of map) {
    if (!/^\d{1,5}$/.test(key) || Number(key) > 0xfffe) continue;
    for (const s of mapped) if (!out.has(s)) out.set(s, Number(key));
  }
  const taken = new Set(out.values());
  let next = 1;
  for (const s of streams) {
    if (out.has(s)) continue;
    next = Math.max(next, streams.indexOf(s) + 1);
    while (taken.has(next)) next++;
    out.set(s, next);
    taken.add(next);
  }
  return out;
}
