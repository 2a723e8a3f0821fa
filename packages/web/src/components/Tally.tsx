export type TallyState = 'program' | 'preview' | 'none';

const WORDS: Record<TallyState, string> = {
  program: 'ON AIR',
  preview: 'PREVIEW',
  none: 'STANDBY',
};

/** Tally in words and colour (never colour alone). */
export function TallyBadge({ state }: { state: TallyState }) {
  return <span class={`tally-badge tally-${state}`}>{WORDS[state]}</span>;
}

export const tallyWords = (s: TallyState): string => WORDS[s];
