import { formatClock } from '../lib/format.js';
import type { Alert } from './useSession.js';

const ICON = { critical: '✖', warning: '▲', info: '✔' } as const;

/** Link alerts, newest first; each is announced as it arrives (role alert or status). */
export function Alerts({
  alerts,
  onDismiss,
}: {
  alerts: Alert[];
  onDismiss: (id: number) => void;
}) {
  return (
    <section class="alerts" aria-label="Alerts" data-testid="alerts">
      {alerts.map((a) => (
        <div
          class={`alert alert-${a.level}`}
          key={a.id}
          role={a.level === 'info' ? 'status' : 'alert'}
        >
          <span aria-hidden="true">{ICON[a.level]}</span>
          <span class="alert-text">
            <strong>{a.stream}</strong>: {a.text}
          </span>
          <time>{formatClock(a.at)}</time>
          <button
            type="button"
            class="btn small ghost"
            aria-label={`Dismiss alert for ${a.stream}`}
            onClick={() => {
              onDismiss(a.id);
            }}
          >
            ×
          </button>
        </div>
      ))}
    </section>
  );
}
