import { describe, expect, it } from 'vitest';
import { PunchError, type ErrorCode } from '../errors.js';
import { MAX_FRAME_BYTES } from './messages.js';
import {
  MAX_SIGNAL_PAYLOAD_BYTES,
  SignalMessage,
  decodeSignalClientMessage,
  wellFormedSignal,
  SignalDecodeError,
} from './signal.js';

function refusal(text: string): PunchError {
  try {
    decodeSignalClientMessage(text);
  } catch (err) {
    if (err instanceof PunchError) return err;
    throw err;
  }
  throw new Error(`decoded: ${text.slice(0, 80)}`);
}
const codeOf = (text: string): ErrorCode => refusal(text).code;

// ---- golden client frames ---------------------------------------------------------------------

const GOLDEN_SIGNAL =
  '{"type":"signal","to":{"group":"room-1","peer":"bob"},"payload":{"type":"offer","sdp":"v=0\\r\\no=- 46117 2 IN IP4 127.0.0.1\\r\\n"},"ref":"m-1"}';
const GOLDEN_CANDIDATE =
  '{"type":"signal","to":{"group":"ops","peer":"cam@site.b+1"},"payload":{"candidate":"candidate:1 1 udp 2122260223 192.0.2.7 54400 typ host","sdpMid":"0","sdpMLineIndex":0}}';
const GOLDEN_TOKEN = '{"type":"token","token":"eyJhbGciOiJFZERTQSJ9.e30.c2ln","ref":"refresh-7"}';
const GOLDEN_PING = '{"type":"ping"}';

describe('decodeSignalClientMessage: valid frames', () => {
  it('decodes a signal with an SDP offer and a ref', () => {
    expect(decodeSignalClientMessage(GOLDEN_SIGNAL)).toEqual({
      type: 'signal',
      to: { group: 'room-1', peer: 'bob' },
      payload: { type: 'offer', sdp: 'v=0\r\no=- 46117 2 IN IP4 127.0.0.1\r\n' },
      ref: 'm-1',
    });
  });

  it('decodes a signal carrying an ICE candidate, without ref', () => {
    const m = decodeSignalClientMessage(GOLDEN_CANDIDATE);
    expect(m).toEqual({
      type: 'signal',
      to: { group: 'ops', peer: 'cam@site.b+1' },
      payload: {
        candidate: 'candidate:1 1 udp 2122260223 192.0.2.7 54400 typ host',
        sdpMid: '0',
        sdpMLineIndex: 0,
      },
    });
    expect('ref' in m).toBe(false);
  });

  it('passes any JSON payload through opaque, null included', () => {
    for (const payload of [null, 0, false, 'text', [1, 'two', { three: 3 }], { deep: { a: [] } }]) {
      const m = decodeSignalClientMessage(
        JSON.stringify({ type: 'signal', to: { group: 'g', peer: 'p' }, payload }),
      );
      expect(m.type === 'signal' ? m.payload : 'not a signal').toEqual(payload);
    }
  });

  it('decodes a token refresh', () => {
    expect(decodeSignalClientMessage(GOLDEN_TOKEN)).toEqual({
      type: 'token',
      token: 'eyJhbGciOiJFZERTQSJ9.e30.c2ln',
      ref: 'refresh-7',
    });
  });

  it('decodes a ping', () => {
    expect(decodeSignalClientMessage(GOLDEN_PING)).toEqual({ type: 'ping' });
  });

  it('accepts a payload of exactly the limit', () => {
    // a JSON string of N characters is N + 2 bytes with its quotes
    const payload = 'x'.repeat(MAX_SIGNAL_PAYLOAD_BYTES - 2);
    const m = decodeSignalClientMessage(
      JSON.stringify({ type: 'signal', to: { group: 'g', peer: 'p' }, payload }),
    );
    expect(m.type === 'signal' && m.payload).toBe(payload);
  });
});

describe('decodeSignalClientMessage: sizes', () => {
  const signalWith = (payload: unknown): string =>
    JSON.stringify({ type: 'signal', to: { group: 'g', peer: 'p' }, payload });

  it('refuses a payload over 10 KiB of JSON', () => {
    expect(MAX_SIGNAL_PAYLOAD_BYTES).toBe(10 * 1024);
    const text = signalWith('x'.repeat(MAX_SIGNAL_PAYLOAD_BYTES - 1));
    expect(text.length).toBeLessThan(MAX_FRAME_BYTES);
    const err = refusal(text);
    expect(err.code).toBe('ERR_PAYLOAD_TOO_LARGE');
    expect(err.message).toContain(String(MAX_SIGNAL_PAYLOAD_BYTES));
  });

  it('counts payload bytes, not characters', () => {
    // 5200 two-byte characters: 5202 characters of JSON, 10402 bytes
    expect(codeOf(signalWith('é'.repeat(5200)))).toBe('ERR_PAYLOAD_TOO_LARGE');
    expect(decodeSignalClientMessage(signalWith('é'.repeat(5000))).type).toBe('signal');
  });

  it('refuses a frame over 16 KiB before parsing it', () => {
    expect(MAX_FRAME_BYTES).toBe(16 * 1024);
    expect(codeOf(' '.repeat(MAX_FRAME_BYTES + 1))).toBe('ERR_PAYLOAD_TOO_LARGE');
    // not JSON at all, yet the size is what is reported
    expect(codeOf('{'.repeat(MAX_FRAME_BYTES + 1))).toBe('ERR_PAYLOAD_TOO_LARGE');
    // a valid ping padded with whitespace past the limit
    const padded = `${GOLDEN_PING.slice(0, -1)}${' '.repeat(MAX_FRAME_BYTES)}}`;
    expect(codeOf(padded)).toBe('ERR_PAYLOAD_TOO_LARGE');
  });

  it('measures the frame in UTF-8 bytes', () => {
    // A token of 8192 two-byte characters passes the schema (8192 characters at most) but the
    // frame is over 16 KiB in UTF-8 while under 16 Ki characters.
    const text = JSON.stringify({ type: 'token', token: 'é'.repeat(8192) });
    expect(text.length).toBeLessThan(MAX_FRAME_BYTES);
    const err = refusal(text);
    expect(err.code).toBe('ERR_PAYLOAD_TOO_LARGE');
    expect(err.message).toContain(String(MAX_FRAME_BYTES));
    // the same token in one-byte characters fits
    expect(
      decodeSignalClientMessage(JSON.stringify({ type: 'token', token: 'e'.repeat(8192) })).type,
    ).toBe('token');
  });
});

const MALFORMED: [string, string][] = [
  ['not JSON', 'hello'],
  ['truncated JSON', '{"type":"ping"'],
  ['a JSON array', '[{"type":"ping"}]'],
  ['JSON null', 'null'],
  ['a JSON string', '"ping"'],
  ['an empty frame', ''],
  ['no type', '{"to":{"group":"g","peer":"p"},"payload":1}'],
  ['an unknown type', '{"type":"join","group":"g"}'],
  ['a session-protocol type', '{"type":"register","stream":"cam","role":"sender"}'],
  ['a non-string type', '{"type":1}'],
  ['an extra field on ping', '{"type":"ping","ref":"x"}'],
  ['an extra field on signal', '{"type":"signal","to":{"group":"g","peer":"p"},"payload":1,"x":1}'],
  ['an extra field on token', '{"type":"token","token":"t","from":"me"}'],
  ['a missing payload', '{"type":"signal","to":{"group":"g","peer":"p"}}'],
  ['a missing to', '{"type":"signal","payload":{}}'],
  ['to without peer', '{"type":"signal","to":{"group":"g"},"payload":{}}'],
  ['to as a string', '{"type":"signal","to":"g/p","payload":{}}'],
  [
    'to with an extra member',
    '{"type":"signal","to":{"group":"g","peer":"p","ip":"x"},"payload":{}}',
  ],
  ['a pattern as target peer', '{"type":"signal","to":{"group":"g","peer":"*"},"payload":{}}'],
  [
    'a pattern as target group',
    '{"type":"signal","to":{"group":"room-*","peer":"p"},"payload":{}}',
  ],
  ['":" in a target id', '{"type":"signal","to":{"group":"g","peer":"a:b"},"payload":{}}'],
  ['an empty target id', '{"type":"signal","to":{"group":"","peer":"p"},"payload":{}}'],
  [
    'a 65-character target id',
    `{"type":"signal","to":{"group":"g","peer":"${'p'.repeat(65)}"},"payload":{}}`,
  ],
  ['an empty ref', '{"type":"signal","to":{"group":"g","peer":"p"},"payload":{},"ref":""}'],
  [
    'a 65-character ref',
    `{"type":"signal","to":{"group":"g","peer":"p"},"payload":{},"ref":"${'r'.repeat(65)}"}`,
  ],
  ['a numeric ref', '{"type":"token","token":"t","ref":7}'],
  ['an empty token', '{"type":"token","token":""}'],
  ['a non-string token', '{"type":"token","token":{"jwt":"x"}}'],
  ['a token over 8192 characters', `{"type":"token","token":"${'t'.repeat(8193)}"}`],
];

describe('decodeSignalClientMessage: malformed frames → ERR_BAD_REQUEST', () => {
  for (const [name, text] of MALFORMED) {
    it(`refuses ${name}`, () => {
      const err = refusal(text);
      expect(err.code).toBe('ERR_BAD_REQUEST');
      expect(err.message.length).toBeGreaterThan(0);
    });
  }

  it('names the offending field', () => {
    expect(refusal('{"type":"signal","to":{"group":"g"},"payload":{}}').message).toContain(
      'to.peer',
    );
    expect(refusal('{"type":"signal","to":{"group":"g","peer":"p"}}').message).toContain('payload');
  });
});

describe('wellFormedSignal: the hand check agrees with the schema', () => {
  const valid = [
    GOLDEN_SIGNAL,
    GOLDEN_CANDIDATE,
    '{"type":"signal","to":{"group":"g","peer":"p"},"payload":null}',
    '{"type":"signal","to":{"peer":"p","group":"g"},"payload":[1],"ref":"r"}',
    `{"type":"signal","to":{"group":"${'g'.repeat(64)}","peer":"a.b_c@d+e-f"},"payload":"x","ref":"${'r'.repeat(64)}"}`,
  ];
  const tricky = [
    GOLDEN_TOKEN,
    GOLDEN_PING,
    '{"type":"signal","to":{"group":"g","peer":"p"},"payload":1,"__proto__":{"x":1}}',
    '{"type":"signal","to":{"group":"g","peer":"p","__proto__":{}},"payload":1}',
    '{"type":"signal","to":["g","p"],"payload":1}',
    '{"type":"signal","to":null,"payload":1}',
    '{"type":"signal","to":{"group":1,"peer":"p"},"payload":1}',
    '{"type":"signal","to":{"group":"g","peer":"p"},"payload":1,"ref":7}',
    '{"type":"signal","to":{"group":"g","peer":"p"},"payload":1,"ref":null}',
    '{"type":"signal","to":{"group":"g","peer":"p\\n"},"payload":1}',
    '{"type":"signal","to":{"group":"g","peer":"p"},"payload":{},"type":"ping"}',
    '{"type":"Signal","to":{"group":"g","peer":"p"},"payload":1}',
  ];
  const json = [...valid, ...tricky, ...MALFORMED.map(([, text]) => text)].flatMap((text) => {
    try {
      return [JSON.parse(text) as unknown];
    } catch {
      return [];
    }
  });

  it('accepts exactly what SignalMessage accepts, as the same message', () => {
    expect(json.length).toBeGreaterThan(40);
    let accepted = 0;
    for (const v of json) {
      const parsed = SignalMessage.safeParse(v);
      const fast = wellFormedSignal(v);
      expect(fast !== undefined, JSON.stringify(v)).toBe(parsed.success);
      if (fast !== undefined) {
        accepted++;
        expect(fast).toEqual(parsed.data);
      }
    }
    expect(accepted).toBe(valid.length);
  });

  it('leaves every other frame to the schema, which still decodes or refuses it', () => {
    expect(decodeSignalClientMessage(GOLDEN_TOKEN).type).toBe('token');
    expect(codeOf('{"type":"signal","to":{"group":"g","peer":"p"},"payload":1,"ref":7}')).toBe(
      'ERR_BAD_REQUEST',
    );
  });
});

describe('the ref of a refused frame', () => {
  const refused = (text: string): { code: string; ref: string | undefined } => {
    const err = refusal(text);
    return { code: err.code, ref: err instanceof SignalDecodeError ? err.ref : undefined };
  };

  it('is echoed when the frame is JSON with a usable ref', () => {
    // refused by the schema (unknown type), but the ref can still be echoed
    expect(refused('{"type":"nope","ref":"abc"}')).toEqual({ code: 'ERR_BAD_REQUEST', ref: 'abc' });
    expect(refused(`{"ref":"${'r'.repeat(64)}"}`).ref).toBe('r'.repeat(64));
    const big = JSON.stringify({
      type: 'signal',
      to: { group: 'g', peer: 'p' },
      payload: 'x'.repeat(11 * 1024),
      ref: 'm-1',
    });
    expect(refused(big)).toEqual({ code: 'ERR_PAYLOAD_TOO_LARGE', ref: 'm-1' });
  });

  it('is undefined when there is no usable ref', () => {
    expect(refused('not json').ref).toBeUndefined();
    expect(refused('null').ref).toBeUndefined();
    expect(refused('"ref"').ref).toBeUndefined();
    expect(refused('{"ref":42}').ref).toBeUndefined();
    expect(refused('{"ref":{"x":1}}').ref).toBeUndefined();
    expect(refused(`{"ref":"${'r'.repeat(65)}"}`).ref).toBeUndefined();
  });

  it('is not read from a frame over 16 KiB', () => {
    const big = `{"ref":"big","pad":"${'x'.repeat(MAX_FRAME_BYTES)}"}`;
    expect(refused(big)).toEqual({ code: 'ERR_PAYLOAD_TOO_LARGE', ref: undefined });
  });
});
