import { describe, expect, it } from 'vitest';
import { PunchError } from '../errors.js';
import { SlotTable } from './slots.js';
import { FakeConn } from './test/room-fixture.js';

const claims = { session: 'show', role: 'admin' as const, stream: null, exp: 2_000_000_000 };
const a = new FakeConn('a', claims);
const b = new FakeConn('b', claims);
const wideSender = { stream: 'cam-wide', role: 'sender' } as const;
const wideReceiver = { stream: 'cam-wide', role: 'receiver' } as const;

const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
    return undefined;
  } catch (err) {
    return err instanceof PunchError ? err.code : 'not a PunchError';
  }
};

describe('SlotTable', () => {
  it('knows the session streams, each with two empty slots', () => {
    const t = new SlotTable(['cam-wide', 'cam-close']);
    expect(t.has('cam-wide')).toBe(true);
    expect(t.has('cam-nope')).toBe(false);
    expect(t.of('cam-close')).toEqual({
      sender: undefined,
      receiver: undefined,
      pairedKey: undefined,
      takeover: undefined,
    });
    expect([...t].map(([name]) => name)).toEqual(['cam-wide', 'cam-close']);
  });

  it('answers any question about an unknown stream with ERR_STREAM_UNKNOWN, naming it', () => {
    const t = new SlotTable(['cam-wide']);
    const nope = { stream: 'cam-nope', role: 'sender' } as const;
    for (const ask of [
      () => t.of('cam-nope'),
      () => t.at(nope),
      () => t.held(a, nope),
      () => t.endpoints('cam-nope'),
    ]) {
      expect(codeOf(ask)).toBe('ERR_STREAM_UNKNOWN');
    }
    expect(() => t.of('cam-nope')).toThrow('no stream "cam-nope" in this session');
  });

  it('held: the slot when this connection holds it, ERR_NOT_REGISTERED otherwise', () => {
    const t = new SlotTable(['cam-wide']);
    expect(codeOf(() => t.held(a, wideSender))).toBe('ERR_NOT_REGISTERED');
    const slot = t.fill(wideSender, a, 'user-a');
    expect(t.held(a, wideSender)).toBe(slot);
    expect(codeOf(() => t.held(b, wideSender))).toBe('ERR_NOT_REGISTERED');
    expect(codeOf(() => t.held(a, wideReceiver))).toBe('ERR_NOT_REGISTERED');
    expect(() => t.held(b, wideSender)).toThrow('register as sender of "cam-wide" first');
  });

  it('fill: a new holder, without endpoints unless given (a resumed slot)', () => {
    const t = new SlotTable(['cam-wide']);
    const fresh = t.fill(wideSender, a, 'user-a');
    expect(fresh).toMatchObject({ conn: a, username: 'user-a', public: undefined, local: [] });
    expect(fresh.health.liveness(0)).toBeNull();
    const pub = { ip: '198.51.100.1', port: 4000 };
    const resumed = t.fill(wideReceiver, b, 'user-b', { public: pub, local: [] });
    expect(t.at(wideReceiver)).toBe(resumed);
    expect(t.endpoints('cam-wide')).toEqual({ sender: null, receiver: pub });
  });

  it('release: only by the holder; frees the slot, forgets the pairing, names the other side', () => {
    const t = new SlotTable(['cam-wide']);
    const s = t.fill(wideSender, a, 'user-a');
    const r = t.fill(wideReceiver, b, 'user-b');
    t.of('cam-wide').pairedKey = 'paired';
    expect(t.release(b, wideSender)).toBeUndefined();
    expect(t.at(wideSender)).toBe(s);
    expect(t.of('cam-wide').pairedKey).toBe('paired');

    expect(t.release(a, wideSender)).toEqual({ slot: s, other: r });
    expect(t.at(wideSender)).toBeUndefined();
    expect(t.of('cam-wide').pairedKey).toBeUndefined();
    expect(t.release(b, wideReceiver)).toEqual({ slot: r, other: undefined });
  });
});
