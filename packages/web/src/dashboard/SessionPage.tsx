import { ErrorText } from '../components/ErrorText.js';
import { useEffect, useRef, useState } from 'preact/hooks';
import { TTL_MAX } from '@punch/core';
import { api, explain } from '../lib/api.js';
import { formatRemaining } from '../lib/format.js';
import { navigate } from '../lib/route.js';
import { pastedToken, readToken, takeTokenFromUrl, tokens } from '../lib/token.js';
import { TokenForm } from '../components/TokenForm.js';
import { Alerts } from './Alerts.js';
import { openWithToken } from './Home.js';
import { InvitePanel } from './InvitePanel.js';
import { ProducerLink } from './ProducerLink.js';
import { StreamCard } from './StreamCard.js';
import { TallyOriginLine } from './TallyOrigin.js';
import { useSession } from './useSession.js';

const EXTEND_BY_S = 1800;

/** `/session/:id`: the token comes from the link once, then from this tab's storage. */
export function SessionPage({ id }: { id: string }) {
  const [token] = useState<string | null>(() => {
    const fromUrl = takeTokenFromUrl();
    if (fromUrl !== null && readToken(fromUrl)?.session === id) tokens.set('admin', id, fromUrl);
    return tokens.get('admin', id);
  });
  if (token === null) return <NeedToken id={id} />;
  return <Live id={id} initialToken={token} />;
}

function NeedToken({ id }: { id: string }) {
  return (
    <main class="home">
      <section class="panel">
        <h1>{id}</h1>
        <p>
          This tab has no admin token for this session. Paste the one you got when you created it,
          or the producer link.
        </p>
        <TokenForm
          open={(value) => {
            const token = readToken(pastedToken(value));
            if (token === null) return openWithToken(value); // refused in the usual words
            if (token.session !== id) return 'That token is not for this session.';
            const problem = openWithToken(value);
            // An admin token for this page: start it again with the token (a peer token has
            // already been sent to its own page).
            if (problem === null && token.role === 'admin') location.reload();
            return problem;
          }}
        />
      </section>
    </main>
  );
}

function useNow(): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => {
      setNow(Date.now());
    }, 1000);
    return () => {
      clearInterval(t);
    };
  }, []);
  return now;
}

function Live({ id, initialToken }: { id: string; initialToken: string }) {
  const {
    state: s,
    serverNow,
    pressTally,
    dismiss,
    extended,
    closed,
  } = useSession(id, initialToken);
  useNow(); // re-render every second for the countdown
  const [actionError, setActionError] = useState<string | null>(null);
  const [extending, setExtending] = useState(false);
  const [mcrInvite, setMcrInvite] = useState(false);
  const dialog = useRef<HTMLDialogElement>(null);
  const ended = s.ended !== null;
  // The server's clock, not this machine's: a laptop running fast must not shorten the show.
  const remaining = s.expiresAt === null ? null : s.expiresAt - serverNow() / 1000;

  const act = async (f: () => Promise<void>): Promise<void> => {
    setActionError(null);
    try {
      await f();
    } catch (err) {
      setActionError(explain(err));
    }
  };
  const onTally = (stream: string, which: 'program' | 'preview'): void => {
    void act(() => pressTally(stream, which));
  };
  const extend = (): void => {
    if (remaining === null || extending) return;
    const ttl = Math.min(TTL_MAX, Math.max(0, Math.floor(remaining)) + EXTEND_BY_S);
    setExtending(true);
    void act(async () => {
      const r = await api.extend(id, s.token, ttl);
      extended(r.token, r.expiresAt);
    }).finally(() => {
      setExtending(false);
    });
  };
  const close = (): void => {
    void act(async () => {
      await api.close(id, s.token);
      dialog.current?.close();
      closed();
    });
  };

  if (s.loadError !== null) {
    return (
      <main class="home">
        <section class="panel">
          <h1>{id}</h1>
          <p class="error" role="alert">
            {s.loadError.message}
          </p>
          {!s.loadError.final && (
            <button
              class="btn primary"
              type="button"
              onClick={() => {
                location.reload();
              }}
            >
              Retry
            </button>
          )}{' '}
          <button
            class="btn"
            type="button"
            onClick={() => {
              // A refused token is useless; any other failure keeps it for the next try.
              if (s.loadError?.final === true) tokens.forget('admin', id);
              navigate('/');
            }}
          >
            Back to start
          </button>
        </section>
      </main>
    );
  }

  return (
    <div class="session">
      <header class="topbar">
        <h1>
          <a href="/" aria-label="Punch home">
            Punch
          </a>{' '}
          / <span data-testid="session-name">{id}</span>
        </h1>
        <span class={`feed feed-${s.status}`} role="status" data-testid="feed">
          {s.status === 'live' ? '● Live' : s.status === 'ended' ? '■ Ended' : '◌ Connecting…'}
        </span>
        {s.relay === 'always' ? (
          <span
            class="relay-mode"
            data-testid="relay-mode"
            title="Media always goes through the relay; operators never learn each other's address"
          >
            Always relayed (IP privacy)
          </span>
        ) : null}
        <span class="ttl" data-testid="ttl">
          {remaining === null ? '' : ended ? '' : `Expires in ${formatRemaining(remaining)}`}
        </span>
        <button
          class="btn"
          type="button"
          onClick={extend}
          disabled={ended || remaining === null || extending}
        >
          Extend 30 min
        </button>
        <button
          class="btn"
          type="button"
          aria-expanded={mcrInvite}
          onClick={() => {
            setMcrInvite(!mcrInvite);
          }}
          disabled={ended}
        >
          Invite receiver (all streams)
        </button>
        <button
          class="btn danger"
          type="button"
          onClick={() => dialog.current?.showModal()}
          disabled={ended}
        >
          Close session
        </button>
      </header>
      {ended && (
        <p class="banner banner-ended" role="alert" data-testid="ended">
          Session ended: {s.ended}.
        </p>
      )}
      <ErrorText text={actionError} />
      {!ended && <ProducerLink session={id} token={s.token} />}
      {mcrInvite && !ended && (
        <section class="panel">
          <InvitePanel session={id} token={s.token} stream={null} />
        </section>
      )}
      <Alerts alerts={s.alerts} onDismiss={dismiss} />
      <TallyOriginLine origin={s.tallyOrigin} serverNow={serverNow()} />
      <main class="grid">
        {s.streams.map((v) => (
          <StreamCard
            key={v.name}
            session={id}
            token={s.token}
            view={v}
            tally={
              s.tally.program.includes(v.name)
                ? 'program'
                : s.tally.preview.includes(v.name)
                  ? 'preview'
                  : 'none'
            }
            series={s.health.get(v.name)}
            condition={s.conditions.get(v.name)}
            disabled={ended}
            onTally={onTally}
          />
        ))}
      </main>
      <dialog ref={dialog} aria-labelledby="close-h" class="dialog">
        <h2 id="close-h">Close “{id}”?</h2>
        <p>
          Every agent is disconnected at once and the session’s data is deleted. Links already sent
          stop working.
        </p>
        <ErrorText text={actionError} />
        <div class="dialog-actions">
          <button class="btn" type="button" onClick={() => dialog.current?.close()} autofocus>
            Cancel
          </button>
          <button class="btn danger" type="button" onClick={close}>
            Close session
          </button>
        </div>
      </dialog>
    </div>
  );
}
