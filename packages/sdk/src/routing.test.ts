import { describe, expect, it } from 'vitest';
import type { Envelope } from './envelope.js';
import { route } from './routing.js';

const offer = (call: string, initial: boolean): Envelope =>
  initial
    ? { v: 1, call, kind: 'description', initial: true, description: { type: 'offer', sdp: 'v=0' } }
    : { v: 1, call, kind: 'description', description: { type: 'offer', sdp: 'v=0' } };
const answer = (call: string): Envelope => ({
  v: 1,
  call,
  kind: 'description',
  description: { type: 'answer', sdp: 'v=0' },
});
const candidate = (call: string): Envelope => ({
  v: 1,
  call,
  kind: 'candidate',
  candidate: { candidate: 'c', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: null },
});
const bye = (call: string): Envelope => ({ v: 1, call, kind: 'bye' });
const reset = (call: string): Envelope => ({ v: 1, call, kind: 'reset' });

const established = { callId: 'c1', awaitingAnswer: false };
const calling = { callId: 'c1', awaitingAnswer: true };

describe('route', () => {
  it('delivers everything of the current call, initial or not', () => {
    for (const e of [
      offer('c1', true),
      offer('c1', false),
      answer('c1'),
      candidate('c1'),
      bye('c1'),
      reset('c1'),
    ]) {
      expect(route(e, established, true)).toBe('deliver');
      expect(route(e, calling, false)).toBe('deliver');
    }
  });

  it('opens a session for an initial offer from a peer we have none with', () => {
    expect(route(offer('c2', true), undefined, true)).toBe('incoming');
    expect(route(offer('c2', true), undefined, false)).toBe('incoming');
  });

  it('replaces an established session when its peer opens a new call (it reloaded)', () => {
    expect(route(offer('c2', true), established, true)).toBe('replace');
    expect(route(offer('c2', true), established, false)).toBe('replace');
  });

  it('settles crossing initial offers: the polite side adopts, the impolite side ignores', () => {
    expect(route(offer('c2', true), calling, true)).toBe('adopt');
    expect(route(offer('c2', true), calling, false)).toBe('ignore');
  });

  it('answers reset to a description or candidate of an unknown call (not initial)', () => {
    for (const e of [offer('c9', false), answer('c9'), candidate('c9')]) {
      expect(route(e, undefined, true)).toBe('reset');
      expect(route(e, established, false)).toBe('reset');
    }
  });

  it('drops a bye or reset for an unknown call (never a reset for a reset)', () => {
    for (const e of [bye('c9'), reset('c9')]) {
      expect(route(e, undefined, true)).toBe('drop');
      expect(route(e, established, true)).toBe('drop');
    }
  });
});
