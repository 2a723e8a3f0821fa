import type { ParsedServerMessage } from '@punch/core';
import { useEffect, useRef, useState } from 'preact/hooks';
import { CopyField } from '../components/Copy.js';
import { AgentFile } from './AgentFile.js';
import { StateLabel, presenceText } from '../components/StateLabel.js';
import { tallyWords, type TallyState } from '../components/Tally.js';
import type { StreamViewData } from '../lib/api.js';
import { SessionFeed, viewOf, type FeedStatus } from '../lib/feed.js';
import { readToken, takeTokenFromUrl, tokens } from '../lib/token.js';
import { AllStreams } from './AllStreams.js';

/** The agent's default local SRT ports (`punch peer --send` listens, `--receive` calls). */
const SEND_URL = 'srt://127.0.0.1:9000';
const RECEIVE_URL = 'srt://127.0.0.1:9100';

/** Shell-quotes a value only when it needs it (tokens and URLs rarely do). */
const q = (v: string): string =>
  /^[A-Za-z0-9_./:@%+=,-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`;

/**
 * `/s/:id?t=…`, the QR target on an operator's phone: her stream, its state, the command to
 * run beside the encoder, and a tally light that fills the screen.
 */
export function OperatorPage({ session }: { session: string }) {
  // A link whose token is damaged, or for another session, is said to be so (not "No link").
  const [badLink] = useState(() => {
    const fromUrl = takeTokenFromUrl();
    const ours = fromUrl !== null && readToken(fromUrl)?.session === session;
    if (ours) tokens.set('peer', session, fromUrl);
    return fromUrl !== null && !ours;
  });
  const [token, setToken] = useState<string | null>(() => tokens.get('peer', session));
  const tokenRef = useRef(token);
  const [status, setStatus] = useState<FeedStatus>('connecting');
  const [ended, setEnded] = useState<string | null>(null);
  const [scope, setScope] = useState<string | null>(() =>
    token === null ? null : (readToken(token)?.stream ?? null),
  );
  const [streams, setStreams] = useState<Record<string, StreamViewData>>({});
  // The session's order (views arrive in it): an all-streams agent numbers its ports by it.
  const [order, setOrder] = useState<string[]>([]);
  const [tally, setTally] = useState<{ program: string[]; preview: string[] }>({
    program: [],
    preview: [],
  });
  const [role, setRole] = useState<'send' | 'receive'>('send');

  useEffect(() => {
    if (token === null || session === '' || badLink) return;
    const onMessage = (m: ParsedServerMessage): void => {
      if (m.type === 'welcome') {
        setScope(m.stream);
        setTally(m.tally);
      } else if (m.type === 'stream') {
        const view = viewOf(m);
        setStreams((old) => ({ ...old, [view.name]: view }));
        setOrder((old) => (old.includes(view.name) ? old : [...old, view.name]));
      } else if (m.type === 'tally') {
        setTally({ program: m.program, preview: m.preview });
      } else if (m.type === 'token') {
        tokenRef.current = m.token;
        tokens.set('peer', session, m.token);
        setToken(m.token);
      }
    };
    const feed = new SessionFeed({
      session,
      token: () => tokenRef.current ?? '',
      onMessage,
      onStatus: (st, reason) => {
        setStatus(st);
        if (st === 'ended') setEnded(reason ?? 'ended');
      },
    });
    feed.start();
    return () => {
      feed.stop();
    };
  }, [session]);

  if (badLink) {
    return (
      <main class="operator">
        <section class="panel" data-testid="op-invalid" role="alert">
          <h1>This link is not valid for this session</h1>
          <p>
            Its token is damaged or belongs to another session. Open the QR code or link the
            producer sent you for “{session}” again, or ask for a new one.
          </p>
        </section>
      </main>
    );
  }
  if (token === null || session === '') {
    return (
      <main class="operator">
        <section class="panel">
          <h1>No link</h1>
          <p>Open this page from the QR code or link the producer sent you.</p>
        </section>
      </main>
    );
  }

  const names = scope === null ? order : [scope];
  const mine = names.length === 1 && names[0] !== undefined ? streams[names[0]] : undefined;
  const light: TallyState =
    ended !== null
      ? 'none'
      : names.some((n) => tally.program.includes(n))
        ? 'program'
        : names.some((n) => tally.preview.includes(n))
          ? 'preview'
          : 'none';
  // An all-streams token names the stream on the command line: the first one, to edit.
  const stream = scope ?? names[0] ?? 'STREAM';
  const canSend = scope !== null; // an all-streams token is receive-only
  const mode = canSend ? role : 'receive';
  const command = `punch peer --server ${q(location.origin)} --token ${q(token)} --stream ${stream} --${mode}`;

  return (
    <main class={`operator light-${light}`} data-tally={light}>
      <section class="tally-light" aria-live="assertive" data-testid="tally-light">
        <span class="tally-word">{ended !== null ? 'ENDED' : tallyWords(light)}</span>
        <span class="tally-stream">{scope ?? 'all streams'}</span>
      </section>
      <section class="op-info">
        <p class="op-state" role="status" data-testid="op-state">
          {ended !== null ? (
            <>Session ended: {ended}.</>
          ) : status !== 'live' ? (
            '◌ Connecting to Punch…'
          ) : mine !== undefined ? (
            <StateLabel state={mine.state} path={mine.sender.path ?? mine.receiver.path} />
          ) : (
            `${names.length} streams`
          )}
        </p>
        {mine !== undefined && ended === null && (
          <p class="hint">
            Sender: {presenceText(mine.sender)} · Receiver: {presenceText(mine.receiver)}
          </p>
        )}
        {ended === null && scope === null && (
          <AllStreams
            session={session}
            names={names}
            streams={streams}
            tally={tally}
            token={token}
          />
        )}
        {ended === null && scope !== null && (
          <details class="op-setup" open>
            <summary>Set up</summary>
            {canSend && (
              <fieldset class="role">
                <legend>This machine</legend>
                <label>
                  <input
                    type="radio"
                    name="role"
                    checked={role === 'send'}
                    onChange={() => {
                      setRole('send');
                    }}
                  />{' '}
                  sends (camera, encoder)
                </label>
                <label>
                  <input
                    type="radio"
                    name="role"
                    checked={role === 'receive'}
                    onChange={() => {
                      setRole('receive');
                    }}
                  />{' '}
                  receives (decoder)
                </label>
              </fieldset>
            )}
            <p>1. Run this beside your {mode === 'send' ? 'encoder' : 'decoder'}:</p>
            <CopyField label="Command" value={command} secret />
            <AgentFile session={session} token={token} mode={mode} />
            {mode === 'send' ? (
              <p>
                2. Point the encoder at <code data-testid="local-url">{SEND_URL}</code> (SRT
                caller). <code>punch peer</code> prints the full URL with the stream’s passphrase
                once it connects.
              </p>
            ) : (
              <p>
                2. Point the decoder at <code data-testid="local-url">{RECEIVE_URL}</code> (SRT
                listener; the agent calls it). <code>punch peer</code> prints the full URL with the
                passphrase once it connects.
              </p>
            )}
          </details>
        )}
      </section>
    </main>
  );
}
