export interface Tally {
  program: string[];
  preview: string[];
}

/**
 * The next tally after pressing PGM or PVW on `stream`: the button toggles, and a stream is on
 * one bus at a time (taking it to program takes it off preview, and the other way round).
 *
 * @example
 * nextTally({ program: [], preview: ['cam-1'] }, 'cam-1', 'program')
 * // { program: ['cam-1'], preview: [] }
 */
export function nextTally(t: Tally, stream: string, which: 'program' | 'preview'): Tally {
  const without = (list: string[]): string[] => list.filter((x) => x !== stream);
  const toggled = (list: string[]): string[] =>
    list.includes(stream) ? without(list) : [...list, stream];
  return which === 'program'
    ? { program: toggled(t.program), preview: without(t.preview) }
    : { program: without(t.program), preview: toggled(t.preview) };
}
