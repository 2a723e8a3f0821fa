import { describe, expect, it } from 'vitest';
import { CALL_ID, isInitialOffer, newCallId, parseEnvelope, toWireCandidate } from './envelope.js';

/** Golden payloads, as docs/protocol.md shows them and as the SDK sends them. */
const GOLDEN = {
  offer: {
    v: 1,
    call: 'c7',
    kind: 'description',
    initial: true,
    description: { type: 'offer', sdp: 'v=0…' },
  },
  answer: { v: 1, call: 'c7', kind: 'description', description: { type: 'answer', sdp: 'v=0…' } },
  deflated: {
    v: 1,
    call: 'c7',
    kind: 'description',
    description: { type: 'offer', sdpz: 'eJzLSM3JyQcABiwCFQ==' },
  },
  candidate: {
    v: 1,
    call: 'c7',
    kind: 'candidate',
    candidate: {
      candidate: 'candidate:1 1 udp 2122260223 10.0.0.2 50000 typ host',
      sdpMid: '0',
      sdpMLineIndex: 0,
      usernameFragment: 'abcd',
    },
  },
  bye: { v: 1, call: 'c7', kind: 'bye' },
  reset: { v: 1, call: 'c7', kind: 'reset' },
};

describe('parseEnvelope', () => {
  it('accepts every kind, unchanged', () => {
    for (const payload of Object.values(GOLDEN)) {
      expect(parseEnvelope(payload)).toEqual({ ok: true, value: payload });
    }
  });

  it('fills absent candidate fields with null and drops unknown members', () => {
    const r = parseEnvelope({
      v: 1,
      call: 'c7',
      kind: 'candidate',
      candidate: { candidate: '' },
      extra: 1,
    });
    expect(r).toEqual({
      ok: true,
      value: {
        v: 1,
        call: 'c7',
        kind: 'candidate',
        candidate: { candidate: '', sdpMid: null, sdpMLineIndex: null, usernameFragment: null },
      },
    });
  });

  it('refuses what another SDK version or a stranger might send', () => {
    const bad: unknown[] = [
      null,
      'x',
      [],
      { ...GOLDEN.bye, v: 2 },
      { ...GOLDEN.bye, v: '1' },
      { ...GOLDEN.bye, call: '' },
      { ...GOLDEN.bye, call: 'a b' },
      { ...GOLDEN.bye, call: 'x'.repeat(33) },
      { ...GOLDEN.bye, kind: 'hello' },
      { ...GOLDEN.bye, initial: true },
      { ...GOLDEN.answer, initial: false },
      { ...GOLDEN.answer, description: { type: 'rollback', sdp: '' } },
      { ...GOLDEN.answer, description: { type: 'answer' } },
      { ...GOLDEN.answer, description: { type: 'answer', sdp: 'a', sdpz: 'b' } },
      { ...GOLDEN.answer, description: { type: 'answer', sdp: 1 } },
      { ...GOLDEN.candidate, candidate: { candidate: 1 } },
      { ...GOLDEN.candidate, candidate: { candidate: 'c', sdpMLineIndex: -1 } },
      { ...GOLDEN.candidate, candidate: { candidate: 'c', sdpMLineIndex: 0.5 } },
      { ...GOLDEN.candidate, candidate: { candidate: 'c', sdpMid: 5 } },
      { ...GOLDEN.candidate, candidate: null },
    ];
    for (const payload of bad)
      expect([payload, parseEnvelope(payload).ok]).toEqual([payload, false]);
  });

  it('tells an initial offer from the rest', () => {
    const parse = (p: unknown) => {
      const r = parseEnvelope(p);
      if (!r.ok) throw new Error(r.error);
      return r.value;
    };
    expect(isInitialOffer(parse(GOLDEN.offer))).toBe(true);
    expect(isInitialOffer(parse({ ...GOLDEN.offer, initial: undefined }))).toBe(false);
    expect(isInitialOffer(parse({ ...GOLDEN.answer, initial: true }))).toBe(false);
    expect(isInitialOffer(parse(GOLDEN.candidate))).toBe(false);
  });
});

describe('newCallId', () => {
  it('makes distinct ids that parse', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newCallId()));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(CALL_ID);
    for (const id of ids) expect(id).toMatch(/^[a-z0-9]{12}$/);
  });
});

describe('toWireCandidate', () => {
  it('reads a browser candidate or a plain object', () => {
    expect(toWireCandidate({ candidate: 'c', sdpMid: '0' })).toEqual({
      candidate: 'c',
      sdpMid: '0',
      sdpMLineIndex: null,
      usernameFragment: null,
    });
  });
});
