import { CopyField } from '../components/Copy.js';

/** Single-quotes a value for a POSIX shell (the link's `?` would otherwise be a glob). */
const quote = (v: string): string => `'${v.replace(/'/g, `'\\''`)}'`;

/**
 * For a machine without `punch`: the two lines that fetch the agent as one file from this
 * server (`GET /agent/punch.mjs`, Node 20, nothing to install or compile) and run it with the
 * operator's own link. Its token says which stream (or, for the MCR's all-streams link, that
 * this one agent receives every stream), so the line names none.
 */
export function AgentFile({
  session,
  token,
  mode,
}: {
  session: string;
  token: string;
  mode: 'send' | 'receive';
}) {
  const origin = location.origin;
  const link = `${origin}/s/${session}?t=${token}`;
  const fetchLine = `curl -fsSO ${quote(`${origin}/agent/punch.mjs`)}`;
  const runLine = `node punch.mjs peer ${quote(link)} --${mode}`;
  return (
    <div class="agent-file" data-testid="agent-file">
      <p class="hint">
        No <code>punch</code> on this machine? With Node 20 or newer, fetch the agent as one file
        and run it:
      </p>
      <CopyField label="Fetch the agent" value={fetchLine} />
      <CopyField label="Run the agent" value={runLine} secret />
    </div>
  );
}
