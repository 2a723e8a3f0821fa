import { CopyField } from '../components/Copy.js';

/** Single-quotes a value for a POSIX shell (the link's `?` would otherwise be a glob). */
const quote = (v: string): string => `'${v.replace(/'/g, `'\\''`)}'`;

/**
 * For a machine without `punch`: the two lines that fetch the agent as one file from this
 * server (`GET /agent/punch.mjs`, Node 20, nothing to install or compile) and run it with the
 * operator's own link. `stream` is named only when the token covers every stream (stream names
 * are `[a-z0-9-]`: nothing to quote).
 */
export function AgentFile({
  session,
  token,
  mode,
  stream = null,
}: {
  session: string;
  token: string;
  mode: 'send' | 'receive';
  stream?: string | null;
}) {
  const origin = location.origin;
  const link = `${origin}/s/${session}?t=${token}`;
  const fetchLine = `curl -fsSO ${quote(`${origin}/agent/punch.mjs`)}`;
  const runLine =
    `node punch.mjs peer ${quote(link)}` +
    (stream === null ? '' : ` --stream ${stream}`) +
    ` --${mode}`;
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
