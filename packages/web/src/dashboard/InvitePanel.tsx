import { CopyField } from '../components/Copy.js';
import { api } from '../lib/api.js';
import { useLoad } from '../lib/useLoad.js';
import { formatClock } from '../lib/format.js';

/**
 * A fresh peer token for one stream (or all streams, receive-only), as a QR code for a phone,
 * a link and a copy button. The link opens the operator page.
 */
export function InvitePanel({
  session,
  token,
  stream,
}: {
  session: string;
  token: string;
  stream: string | null;
}) {
  // One invite per opening of the panel.
  const { data: invite, error } = useLoad(
    () => api.invite(session, token, stream),
    [session, stream],
  );

  const who = stream === null ? 'all streams (receive only)' : stream;
  if (error !== null)
    return (
      <p class="error" role="alert">
        Could not create the invite: {error}
      </p>
    );
  if (invite === null) return <p aria-busy="true">Creating an invite for {who}…</p>;
  return (
    <div class="invite" data-testid="invite">
      <img
        class="qr"
        src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(invite.qr)}`}
        alt={`QR code: operator link for ${who}`}
        width={200}
        height={200}
      />
      <div class="invite-text">
        <p>
          Scan with the operator's phone, or send the link. It opens the page for{' '}
          <strong>{who}</strong> with the command to run.
        </p>
        <CopyField label={`Operator link for ${who}`} value={invite.url} secret />
        <p class="hint">
          Valid until {formatClock(invite.expiresAt * 1000)}. Anyone with this link can join this
          slot.
        </p>
      </div>
    </div>
  );
}
