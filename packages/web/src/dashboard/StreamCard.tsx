import { useState } from 'preact/hooks';
import { StateLabel, presenceText } from '../components/StateLabel.js';
import { TallyBadge, type TallyState } from '../components/Tally.js';
import type { StreamViewData } from '../lib/api.js';
import { takeoverText, type Assessment } from '../lib/alerts.js';
import { formatBps, formatClock, formatMs, formatPct } from '../lib/format.js';
import type { HealthSeries } from '../lib/health.js';
import { ConnectPanel } from './ConnectPanel.js';
import { HealthChart } from './HealthChart.js';
import { InvitePanel } from './InvitePanel.js';

export interface StreamCardProps {
  session: string;
  token: string;
  view: StreamViewData;
  tally: TallyState;
  series: HealthSeries | undefined;
  condition: Assessment | undefined;
  disabled: boolean;
  onTally: (stream: string, which: 'program' | 'preview') => void;
}

/** One stream slot: who is there, the link's state and health, tally, invite and commands. */
export function StreamCard(p: StreamCardProps) {
  const { view } = p;
  const [panel, setPanel] = useState<'none' | 'invite' | 'connect'>('none');
  const latest = p.series?.latest();
  const path = view.sender.path ?? view.receiver.path;
  const toggle = (which: 'invite' | 'connect'): void => {
    setPanel((cur) => (cur === which ? 'none' : which));
  };
  const id = `stream-${view.name}`;
  return (
    <article
      class={`card tally-edge-${p.tally} cond-${p.condition?.condition ?? 'idle'} level-${p.condition?.level ?? 'none'}`}
      aria-labelledby={`${id}-h`}
      data-stream={view.name}
    >
      <header class="card-head">
        <h2 id={`${id}-h`}>{view.name}</h2>
        <TallyBadge state={p.tally} />
      </header>
      <p class="card-state">
        <StateLabel state={view.state} path={path} />
      </p>
      {p.condition?.level !== null && p.condition?.level !== undefined && (
        <p
          class={`cond cond-text-${p.condition.condition} cond-level-${p.condition.level}`}
          data-testid="condition"
          data-level={p.condition.level}
        >
          <span aria-hidden="true">{p.condition.level === 'critical' ? '✖' : '▲'}</span>{' '}
          {p.condition.reason}
        </p>
      )}
      {view.takeover !== null && (
        <p class="takeover" data-testid="takeover">
          <span aria-hidden="true">⇄</span> {takeoverText(view.takeover)} at{' '}
          <time dateTime={new Date(view.takeover.at).toISOString()}>
            {formatClock(view.takeover.at)}
          </time>
        </p>
      )}
      <dl class="presence">
        <div>
          <dt>Sender</dt>
          <dd data-testid="sender">{presenceText(view.sender)}</dd>
        </div>
        <div>
          <dt>Receiver</dt>
          <dd data-testid="receiver">{presenceText(view.receiver)}</dd>
        </div>
      </dl>
      <dl class="stats" aria-label={`${view.name} latest health`}>
        <div>
          <dt>Bitrate</dt>
          <dd data-testid="bitrate">{formatBps(latest?.bps)}</dd>
        </div>
        <div>
          <dt>RTT</dt>
          <dd data-testid="rtt">{formatMs(latest?.rttMs)}</dd>
        </div>
        <div>
          <dt>Loss</dt>
          <dd data-testid="loss">{formatPct(latest?.lossPct)}</dd>
        </div>
      </dl>
      <HealthChart
        series={p.series}
        version={p.series?.version ?? 0}
        label={`${view.name}: bitrate, RTT and loss over the last 5 minutes`}
      />
      <div class="actions" role="group" aria-label={`${view.name} controls`}>
        <button
          type="button"
          class="btn tally-btn pgm"
          aria-pressed={p.tally === 'program'}
          disabled={p.disabled}
          onClick={() => {
            p.onTally(view.name, 'program');
          }}
        >
          PGM<span class="sr-only"> (program, on air) for {view.name}</span>
        </button>
        <button
          type="button"
          class="btn tally-btn pvw"
          aria-pressed={p.tally === 'preview'}
          disabled={p.disabled}
          onClick={() => {
            p.onTally(view.name, 'preview');
          }}
        >
          PVW<span class="sr-only"> (preview) for {view.name}</span>
        </button>
        <button
          type="button"
          class="btn"
          aria-expanded={panel === 'invite'}
          disabled={p.disabled}
          onClick={() => {
            toggle('invite');
          }}
        >
          Invite<span class="sr-only"> an operator for {view.name}</span>
        </button>
        <button
          type="button"
          class="btn"
          aria-expanded={panel === 'connect'}
          disabled={p.disabled}
          onClick={() => {
            toggle('connect');
          }}
        >
          Commands<span class="sr-only"> for {view.name}</span>
        </button>
      </div>
      {panel === 'invite' && <InvitePanel session={p.session} token={p.token} stream={view.name} />}
      {panel === 'connect' && (
        <ConnectPanel
          session={p.session}
          token={p.token}
          stream={view.name}
          refresh={`${view.sender.endpoint}/${view.receiver.endpoint}/${view.state}`}
        />
      )}
    </article>
  );
}
