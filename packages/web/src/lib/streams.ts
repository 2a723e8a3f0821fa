import { CreateSessionBody } from '@punch/core';

/**
 * The stream slots typed in the form ("cam-wide, cam-close"), checked with the API's own rule
 * before anything is sent: names are split at commas only and never rewritten, so "Cam Wide" is
 * refused with the API's words rather than turned into two slots.
 */
export function parseStreams(text: string): { streams: string[] } | { error: string } {
  const list = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (list.length === 0) return { streams: [] };
  const parsed = CreateSessionBody.shape.streams.safeParse(list);
  if (parsed.success) return { streams: list };
  const issue = parsed.error.issues[0];
  const at = issue?.path[0];
  const name = typeof at === 'number' ? `"${list[at] ?? ''}": ` : '';
  return { error: `Stream slots: ${name}${issue?.message ?? 'not valid'}` };
}
