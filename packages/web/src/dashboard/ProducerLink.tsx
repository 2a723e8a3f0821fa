import { useState } from 'preact/hooks';
import { CopyField } from '../components/Copy.js';

/** sessionStorage key: this tab just created the session and has not shown its link yet. */
const fresh = (session: string): string => `punch:fresh:${session}`;

/** Marks `session` as just created here: its page shows the producer link once. */
export function markCreated(session: string): void {
  sessionStorage.setItem(fresh(session), '1');
}

/**
 * Shown once, right after the session was created in this tab: the admin token and a producer
 * link that reopens the session anywhere (the token rides in the `#t=` fragment, which browsers
 * never send to a server), both as selectable text with Copy, and a plain word that it is the
 * key to the session. The tab forgets its token when it closes: without this, the maker of a
 * session would be locked out of it until it ends. Copy is the shared CopyField, whose fallback
 * still copies on plain HTTP from a LAN address, where there is no Clipboard API.
 */
export function ProducerLink({ session, token }: { session: string; token: string }) {
  const [shown, setShown] = useState(() => sessionStorage.getItem(fresh(session)) !== null);
  if (!shown) return null;
  const link = `${location.origin}/session/${session}#t=${token}`;
  return (
    <section class="panel keep" aria-labelledby="keep-h" data-testid="producer-link">
      <h2 id="keep-h">Keep your producer link</h2>
      <p>
        <strong>This link is the key to the session.</strong> Anyone who has it controls the
        session: its streams, its tally, its end. Keep it private, and keep it: this page will not
        show it again, and this tab forgets it when it closes.
      </p>
      <CopyField label="Producer link" value={link} secret />
      <CopyField label="Admin token" value={token} secret />
      <p class="keep-actions">
        <button
          class="btn"
          type="button"
          onClick={() => {
            sessionStorage.removeItem(fresh(session));
            setShown(false);
          }}
        >
          I have kept it
        </button>
      </p>
    </section>
  );
}
