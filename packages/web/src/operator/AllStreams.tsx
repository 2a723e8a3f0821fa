import { CopyField } from '../components/Copy.js';
import { StateLabel } from '../components/StateLabel.js';
import { TallyBadge, type TallyState } from '../components/Tally.js';
import { AgentFile } from './AgentFile.js';
import type { StreamViewData } from '../lib/api.js';
import './all-streams.css';

/** `punch peer --receive`'s default --srt-target port: stream i goes to this + i. */
export const FIRST_PORT = 9100;

/** Shell-quotes a value only when it needs it (tokens and URLs rarely do). */
const q = (v: string): string =>
  /^[A-Za-z0-9_./:@%+=,-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`;

/**
 * The setup of an all-streams link (the MCR's): one `punch peer --receive` receives every
 * stream, stream i (in the session's order) at SRT listener port 9100 + i (DESIGN.md "Streams
 * on show day"). Lists every stream with its tally light (words and colour), its state, its
 * port, and the command that receives that stream alone at the same port (to spread the
 * streams over decoder machines with one agent per stream, instead of the one for all).
 */
export function AllStreams({
  session,
  names,
  streams,
  tally,
  token,
}: {
  session: string;
  /** The session's streams in its order (the order their views arrived in). */
  names: readonly string[];
  streams: Readonly<Record<string, StreamViewData>>;
  tally: { program: readonly string[]; preview: readonly string[] };
  token: string;
}) {
  const base = `punch peer --server ${q(location.origin)} --token ${q(token)}`;
  return (
    <details class="op-setup" open>
      <summary>Set up: receive every stream</summary>
      <p>1. Run this once beside your decoders:</p>
      <CopyField label="Command" value={`${base} --receive`} secret />
      <AgentFile session={session} token={token} mode="receive" />
      <p>
        2. Each stream arrives at its own port on this machine: open an SRT <em>listener</em> on
        each (the agent calls it). <code>punch peer</code> prints each stream’s passphrase once it
        connects.
      </p>
      <ol class="op-streams" data-testid="all-streams">
        {names.map((name, i) => {
          const state: TallyState = tally.program.includes(name)
            ? 'program'
            : tally.preview.includes(name)
              ? 'preview'
              : 'none';
          const port = FIRST_PORT + i;
          const view = streams[name];
          return (
            <li
              key={name}
              class={`op-stream light-${state}`}
              data-testid="stream-row"
              data-stream={name}
              data-tally={state}
            >
              <div class="op-stream-head">
                <TallyBadge state={state} />
                <strong class="op-stream-name">{name}</strong>
                {view !== undefined && (
                  <StateLabel state={view.state} path={view.sender.path ?? view.receiver.path} />
                )}
              </div>
              <p>
                Port <code data-testid="stream-port">srt://127.0.0.1:{port}</code>
              </p>
              {/* Folded: on a phone the list stays one glance of lights and ports. */}
              <details class="op-stream-alone">
                <summary>
                  Or receive only {name} (one agent per stream, instead of the one above)
                </summary>
                <CopyField
                  label={`${name} alone`}
                  value={`${base} --stream ${name} --receive --srt-target 127.0.0.1:${port}`}
                  secret
                />
              </details>
            </li>
          );
        })}
      </ol>
    </details>
  );
}
