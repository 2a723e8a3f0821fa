/**
 * One side of a stream in `punch session show`, in plain words: its path when one is up,
 * "connected, no path yet" while the agent is in but no path carries media, "not connected"
 * when no agent is there (never a bare "none" or a dash, which read the same).
 *
 * @example
 * presence({ present: true, endpoint: true, path: 'none' }); // 'connected, no path yet'
 */
export function presence(p: {
  readonly present: boolean;
  readonly path: 'direct' | 'relay' | 'none' | null;
}): string {
  if (!p.present) return 'not connected';
  if (p.path === 'direct' || p.path === 'relay') return p.path;
  return 'connected, no path yet';
}
