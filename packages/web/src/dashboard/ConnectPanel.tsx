import { CopyField } from '../components/Copy.js';
import { api } from '../lib/api.js';
import { useLoad } from '../lib/useLoad.js';

const TOOLS: [string, string][] = [
  ['punch-peer-send', 'punch peer, camera side (sends)'],
  ['punch-peer-receive', 'punch peer, gallery side (receives)'],
  ['ffmpeg-send', 'ffmpeg → agent (send)'],
  ['ffmpeg-receive', 'agent → ffmpeg (receive)'],
  ['srt-live-transmit-send', 'srt-live-transmit → agent (send)'],
  ['srt-live-transmit-receive', 'agent → srt-live-transmit (receive)'],
  ['obs', 'OBS'],
  ['vmix', 'vMix'],
  ['srt-live-transmit-rendezvous-send', 'without an agent: srt-live-transmit rendezvous (send)'],
  [
    'srt-live-transmit-rendezvous-receive',
    'without an agent: srt-live-transmit rendezvous (receive)',
  ],
];

/** Ready-to-paste strings from `/connect`, refetched when the stream's endpoints change. */
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
  if (error !== null)
    return (
      <p class="error" role="alert">
        {error}
      </p>
    );
  if (info === null) return <p aria-busy="true">Loading connection strings…</p>;
  const own = info.streams.find((s) => s.name === stream);
  const commands = own?.commands ?? {};
  return (
    <div class="connect" data-testid="connect">
      <p class="hint">
        <code>$PUNCH_TOKEN</code> is a peer token from “Invite”. This stream’s passphrase encrypts
        its media end to end (each stream has its own); the agents learn it from Punch.
      </p>
      <CopyField label="SRT passphrase" value={own?.passphrase ?? info.passphrase} secret />
      {TOOLS.filter(([k]) => commands[k] !== undefined).map(([k, label]) => (
        <CopyField label={label} value={commands[k] ?? ''} key={k} />
      ))}
    </div>
  );
}
