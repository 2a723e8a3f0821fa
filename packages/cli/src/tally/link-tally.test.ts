/**
 * The bridge's tally over its session socket: what answers a set (the push naming our source),
 * what refuses it (Punch's error, with its HTTP status), and what sends it back to the PUT (the
 * link dropping, or no answer in time).
 */
import type { ClientMessage } from '@punch/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../usage.js';
import { LinkTally } from './link-tally.js';

const SOURCE = 'vMix at 10.0.0.5:8099';
const body = { program: ['cam-wide'], preview: ['cam-close'], source: SOURCE };

function open(): { sets: LinkTally; sent: ClientMessage[] } {
  const sent: ClientMessage[] = [];
  const sets = new LinkTally((m) => {
    sent.push(m);
    return true;
  });
  sets.opened();
  return { sets, sent };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('LinkTally', () => {
  it('sends nothing before Punch welcomed the link, nor while a set waits', () => {
    const sets = new LinkTally(() => true);
    expect(sets.set(body)).toBeUndefined();
    sets.opened();
    void sets.set(body)?.catch(() => undefined);
    expect(sets.set(body)).toBeUndefined();
  });

  it('is answered by the push that names our source, not by someone else’s', async () => {
    const { sets, sent } = open();
    let done = false;
    const set = sets.set(body)?.then(() => (done = true));
    expect(sent).toEqual([{ type: 'tally', ...body }]);
    // A producer's press with the same tally, and our tally in another order, from us.
    sets.onMessage({
      type: 'tally',
      program: ['cam-wide'],
      preview: ['cam-close'],
      origin: { source: null, at: 1 },
    });
    await Promise.resolve();
    expect(done).toBe(false);
    sets.onMessage({
      type: 'tally',
      program: ['cam-wide'],
      preview: ['cam-close'],
      origin: { source: SOURCE, at: 2 },
    });
    await set;
    expect(done).toBe(true);
  });

  it("Punch's error refuses it with the code's HTTP status", async () => {
    const { sets } = open();
    const set = sets.set(body);
    sets.onMessage({ type: 'error', code: 'ERR_STORAGE', message: 'disk full' });
    await expect(set).rejects.toEqual(new ApiError(503, 'ERR_STORAGE', 'disk full'));
  });

  it('the link dropping, or 3 s without an answer, fails it as no answer (the PUT follows)', async () => {
    const { sets } = open();
    const dropped = sets.set(body);
    sets.lost('the session link dropped');
    await expect(dropped).rejects.not.toBeInstanceOf(ApiError);
    expect(sets.set(body)).toBeUndefined(); // closed until welcomed again

    vi.useFakeTimers();
    sets.opened();
    const silent = sets.set(body);
    vi.advanceTimersByTime(3000);
    await expect(silent).rejects.toThrow('no answer over the session socket');
  });

  it('after a set went unanswered, sets go by PUT until the socket says anything again', async () => {
    vi.useFakeTimers();
    const { sets } = open();
    const silent = sets.set(body);
    vi.advanceTimersByTime(3000);
    await expect(silent).rejects.toThrow('no answer');
    expect(sets.set(body)).toBeUndefined(); // a dead socket must not cost every cut 3 s
    sets.onMessage({ type: 'pong', at: 1 });
    const next = sets.set(body);
    expect(next).toBeDefined();
    void next?.catch(() => undefined);
  });

  it('an error that answers no tally (a token running out) is not the set’s refusal', async () => {
    const { sets } = open();
    let settled = false;
    const set = sets.set(body)?.then(
      () => (settled = true),
      () => (settled = true),
    );
    sets.onMessage({ type: 'error', code: 'ERR_TOKEN_EXPIRED', message: 'the token has expired' });
    await Promise.resolve();
    expect(settled).toBe(false);
    sets.lost('the session link dropped');
    await set;
    expect(settled).toBe(true);
  });
});
