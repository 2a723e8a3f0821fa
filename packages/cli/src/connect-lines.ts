import { PEER_LINK_PLACEHOLDER, TOOL_LABELS } from '@punch/core';

/** The `commands` keys this CLI renders itself, or leaves out of the human output. */
const PEER_LINES: Readonly<Record<string, string>> = {
  'punch-peer-send': '--send',
  'punch-peer-receive': '--receive',
};

/**
 * One stream's lines for `punch session connect`, labelled, in TOOL_LABELS' order. The
 * `punch peer` lines are written here with a `LINK` placeholder, whatever the server sent (an
 * older one sends `--token "$PUNCH_TOKEN"`, which in the producer's shell is the admin token
 * and would knock the live operator off air). The rendezvous lines without an agent are left
 * out: they need the other side's public address and an agreed port on both machines, which
 * Punch only knows for an agent's own socket (`--json` still has them).
 *
 * @example
 * connectLines({ 'punch-peer-send': 'punch peer --token "$PUNCH_TOKEN" --send' });
 * // [['punch peer, camera side (sends)', "punch peer 'LINK' --send"], …]
 */
export function connectLines(commands: Readonly<Record<string, string>>): [string, string][] {
  const labels: Readonly<Record<string, string>> = TOOL_LABELS;
  const shown = (k: string): boolean => !k.includes('rendezvous');
  const known = Object.keys(TOOL_LABELS).filter(
    (k) => shown(k) && (commands[k] !== undefined || PEER_LINES[k] !== undefined),
  );
  // Keys this CLI has no label for yet (a newer server) still print, under their key, unless
  // they would run an agent with whatever token the shell holds.
  const rest = Object.keys(commands).filter(
    (k) => labels[k] === undefined && shown(k) && !(commands[k] ?? '').includes('PUNCH_TOKEN'),
  );
  return [...known, ...rest].map((k) => {
    const side = PEER_LINES[k];
    return [
      labels[k] ?? k,
      side !== undefined ? `punch peer '${PEER_LINK_PLACEHOLDER}' ${side}` : (commands[k] ?? ''),
    ];
  });
}
