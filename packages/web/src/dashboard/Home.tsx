import { ErrorText } from '../components/ErrorText.js';
import { useState } from 'preact/hooks';
import { api, explain } from '../lib/api.js';
import { navigate } from '../lib/route.js';
import { pastedToken, readToken, tokens } from '../lib/token.js';
import { TokenForm } from '../components/TokenForm.js';
import { parseStreams } from '../lib/streams.js';
import { markCreated } from './ProducerLink.js';

const DURATIONS = [
  { label: '30 minutes', s: 1800 },
  { label: '1 hour', s: 3600 },
  { label: '2 hours', s: 7200 },
  { label: '4 hours', s: 14_400 },
  { label: '8 hours', s: 28_800 },
  { label: '24 hours', s: 86_400 },
];

/**
 * Opens a session from an admin token or a link carrying one (or sends a peer token to its
 * page).
 */
export function openWithToken(pasted: string): string | null {
  // The producer link is what its maker was told to keep: it opens the session as well.
  const token = pastedToken(pasted);
  const info = readToken(token);
  if (info === null) return 'That is not a Punch token (they start with p_).';
  if (info.exp * 1000 <= Date.now()) return 'That token has expired.';
  if (info.role === 'peer') {
    location.assign(`/s/${info.session}#t=${encodeURIComponent(token)}`);
    return null;
  }
  tokens.set('admin', info.session, token);
  navigate(`/session/${info.session}`);
  return null;
}

export function Home() {
  const [name, setName] = useState('');
  const [streams, setStreams] = useState('cam-1, cam-2');
  const [ttl, setTtl] = useState(3600);
  const [privacy, setPrivacy] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const create = async (e: Event): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const checked = parseStreams(streams);
      if ('error' in checked) {
        setError(checked.error);
        return;
      }
      const list = checked.streams;
      const r = await api.create({
        ...(name.trim() === '' ? {} : { name: name.trim().toLowerCase() }),
        ttl,
        ...(list.length === 0 ? {} : { streams: list }),
        ...(privacy ? { relay: 'always' as const } : {}),
      });
      tokens.set('admin', r.session, r.token);
      markCreated(r.session);
      navigate(`/session/${r.session}`);
    } catch (err) {
      setError(explain(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="home">
      <header class="masthead">
        <h1>Punch</h1>
        <p>Direct SRT links between cameras and the gallery, through any NAT.</p>
      </header>
      <section class="panel" aria-labelledby="new-h">
        <h2 id="new-h">New session</h2>
        <form onSubmit={(e) => void create(e)}>
          <label>
            Name <span class="hint">(optional: lowercase letters, digits, “-”)</span>
            <input
              name="name"
              value={name}
              pattern="[a-z0-9][a-z0-9\-]{1,62}"
              placeholder="nab-floor"
              autocomplete="off"
              onInput={(e) => {
                setName(e.currentTarget.value);
              }}
            />
          </label>
          <label>
            Stream slots <span class="hint">(one per camera or feed)</span>
            <input
              name="streams"
              value={streams}
              required
              onInput={(e) => {
                setStreams(e.currentTarget.value);
              }}
            />
          </label>
          <label>
            Lasts
            <select
              name="ttl"
              value={String(ttl)}
              onChange={(e) => {
                setTtl(Number(e.currentTarget.value));
              }}
            >
              {DURATIONS.map((d) => (
                <option value={String(d.s)} key={d.s}>
                  {d.label}
                </option>
              ))}
            </select>
          </label>
          <label class="check">
            <input
              type="checkbox"
              name="relay"
              checked={privacy}
              onChange={(e) => {
                setPrivacy(e.currentTarget.checked);
              }}
            />
            Always relay{' '}
            <span class="hint">
              (IP privacy: media goes through Punch&apos;s relay, and operators never learn each
              other&apos;s address)
            </span>
          </label>
          <button class="btn primary" type="submit" disabled={busy}>
            {busy ? 'Creating…' : 'Create session'}
          </button>
          <ErrorText text={error} />
        </form>
      </section>
      <section class="panel" aria-labelledby="open-h">
        <h2 id="open-h">Open a session</h2>
        <TokenForm open={openWithToken} />
        <p class="hint">The token stays in this tab only and never goes into the address bar.</p>
      </section>
    </main>
  );
}
