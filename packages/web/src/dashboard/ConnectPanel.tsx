import { TOOL_LABELS } from '@punch/core';
import { CopyField } from '../components/Copy.js';
import { api } from '../lib/api.js';
import { useLoad } from '../lib/useLoad.js';

// The punch peer lines are shown with a real link below, not as /connect gives them.
const TOOLS = Object.entries(TOOL_LABELS).filter(([k]) => !k.startsWith('punch-peer'));

/**
 * Ready-to-paste strings from `/connect`, refetched when the stream's endpoints change, and the
 * `punch peer` lines with a real operator link for this stream's slot (minted once per opening
 * of the panel, as the Invite panel does), so nothing needs a token filled in by hand.
 */
export function ConnectPanel({
  session,
  token,
  stream,
  refresh,
}: {
  session: string;
  token: string;
  stream: string;
  refresh: string;
}) {
  const { data: info, error } = useLoad(() => api.connect(session, token), [session, refresh]);
  const { data: invite, error: inviteError } = useLoad(
    () => api.invite(session, token, stream),
    [session, stream],
  );
  const failed = error ?? inviteError;
  if (failed !== null)
    return (
      <p class="error" role="alert">
        {failed}
      </p>
    );
  if (info === null || invite === null) return <p aria-busy="true">Loading connection strings…</p>;
  const own = info.streams.find((s) => s.name === stream);
  const commands = own?.commands ?? {};
  // Single quotes: the link holds `?` and `&`, which a shell would otherwise act on.
  const link = `'${invite.url}'`;
  return (
    <div class="connect" data-testid="connect">
      <p class="hint">
        This stream’s passphrase encrypts its media end to end (each stream has its own); the agents
        learn it from Punch. The <code>punch peer</code> lines carry a fresh operator link for{' '}
        <strong>{stream}</strong>: anyone with it can join this slot.
      </p>
      <CopyField label="SRT passphrase" value={own?.passphrase ?? info.passphrase} secret />
      <CopyField
        label={TOOL_LABELS['punch-peer-send']}
        value={`punch peer ${link} --send`}
        secret
      />
      <CopyField
        label={TOOL_LABELS['punch-peer-receive']}
        value={`punch peer ${link} --receive`}
        secret
      />
      {TOOLS.filter(([k]) => commands[k] !== undefined).map(([k, label]) => (
        <CopyField label={label} value={commands[k] ?? ''} key={k} />
      ))}
    </div>
  );
}
