import type { StreamViewData } from '../lib/api.js';

const LABEL: Record<StreamViewData['state'], { icon: string; text: string }> = {
  idle: { icon: '○', text: 'Idle: nobody connected' },
  waiting: { icon: '◔', text: 'Waiting for the other side' },
  paired: { icon: '◑', text: 'Paired: punching through' },
  // The path is up but carries no media: the encoder stopped, or the decoder is gone.
  'no-signal': { icon: '■', text: 'No signal: path up, no media' },
  connected: { icon: '●', text: 'Connected' },
};

/** A stream's state with a shape and words, so it reads without colour. */
export function StateLabel({
  state,
  path,
}: {
  state: StreamViewData['state'];
  path?: string | null;
}) {
  const l = LABEL[state];
  return (
    <span class={`state state-${state}`} data-state={state}>
      <span aria-hidden="true">{l.icon}</span> {l.text}
      {(state === 'connected' || state === 'no-signal') && path !== null && path !== undefined
        ? ` (${path})`
        : ''}
    </span>
  );
}

export function presenceText(p: StreamViewData['sender']): string {
  if (!p.present) return 'not connected';
  if (p.path === 'direct' || p.path === 'relay') return `live, ${p.path} path`;
  return p.endpoint ? 'connected, address known' : 'connected';
}
