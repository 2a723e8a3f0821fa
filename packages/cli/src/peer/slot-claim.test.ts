/**
 * A stream's claim on its slot: takeover only when asked or after a reconnect, a slot held
 * elsewhere asked for again (quietly, never taken over), and when a refusal ends the stream.
 */
import type { ClientMessage } from '@punch/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AgentEvent } from './events.js';
import { SlotClaim } from './slot-claim.js';
import type { StreamOptions } from './stream-options.js';

const options = (o: Partial<StreamOptions>): StreamOptions =>
  ({ stream: 'cam-1', role: 'receiver', takeover: false, oneOfMany: false, ...o }) as StreamOptions;

let sent: ClientMessage[];
let events: AgentEvent[];
let statuses: string[];
const claim = (o: Partial<StreamOptions> = {}): SlotClaim =>
  new SlotClaim(options(o), {
    send: (m) => sent.push(m),
    emit: (e) => events.push(e),
    status: (s, detail) => statuses.push(detail === undefined ? s : `${s}: ${detail}`),
  });

beforeEach(() => {
  sent = [];
  events = [];
  statuses = [];
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('SlotClaim', () => {
  it('takes over only when the operator asked, or after its own reconnect', () => {
    const c = claim();
    c.register();
    c.registered();
    c.register(); // a reconnect: its old socket may still look live
    expect(sent).toEqual([
      { type: 'register', stream: 'cam-1', role: 'receiver' },
      { type: 'register', stream: 'cam-1', role: 'receiver', takeover: true },
    ]);
    sent = [];
    claim({ takeover: true }).register();
    expect(sent).toEqual([{ type: 'register', stream: 'cam-1', role: 'receiver', takeover: true }]);
  });

  it('a slot taken away is asked for again every 5 s, without taking over, said once', () => {
    const c = claim({ oneOfMany: true });
    c.register();
    c.registered();
    sent = [];
    c.wait('ERR_REPLACED', 'the receiver of "cam-1" was taken over by an admin');
    expect(c.waiting).toBe(true);
    vi.advanceTimersByTime(5000);
    expect(c.refused('ERR_SLOT_TAKEN', 'held')).toBeUndefined();
    vi.advanceTimersByTime(5000);
    expect(sent).toEqual(Array(2).fill({ type: 'register', stream: 'cam-1', role: 'receiver' }));
    expect(events.map((e) => e.event === 'error' && e.code)).toEqual(['ERR_REPLACED']);
    c.registered();
    expect(c.waiting).toBe(false);
    vi.advanceTimersByTime(60_000);
    expect(sent).toHaveLength(2);
  });

  it('one stream of many waits for a slot held elsewhere; a single stream gives up after 7 s', () => {
    const many = claim({ oneOfMany: true });
    many.register();
    expect(many.refused('ERR_SLOT_TAKEN', 'held')).toBeUndefined(); // asked again in 1 s
    vi.advanceTimersByTime(8000);
    expect(many.refused('ERR_SLOT_TAKEN', 'held')).toBeUndefined();
    expect(many.waiting).toBe(true);

    const one = claim();
    one.register();
    vi.advanceTimersByTime(8000);
    expect(one.refused('ERR_SLOT_TAKEN', 'held')).toMatchObject({ code: 'ERR_SLOT_TAKEN' });
  });

  it('stopped, it asks for nothing more', () => {
    const c = claim({ oneOfMany: true });
    c.wait('ERR_SLOT_TAKEN', 'held');
    c.stop();
    vi.advanceTimersByTime(60_000);
    expect(sent).toEqual([]);
  });
});
