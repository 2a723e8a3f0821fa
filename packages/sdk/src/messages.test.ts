import { describe, expect, it } from 'vitest';
import goldenFrames from '../../core/src/wire/golden/signal-to-client.json' with { type: 'json' };
import { parseServerMessage } from './messages.js';

/** The golden frames core's SignalServerMessageSchema is held to as well. */
const golden = goldenFrames as {
  valid: unknown[];
  extraFields: { frame: unknown; decoded: unknown }[];
  invalid: unknown[];
};

describe('parseServerMessage', () => {
  it('decodes every golden frame to itself', () => {
    for (const m of golden.valid) {
      expect(parseServerMessage(JSON.stringify(m))).toEqual({ ok: true, value: m });
    }
  });

  it('drops members it does not know (servers may add some), as the schema does', () => {
    for (const { frame, decoded } of golden.extraFields) {
      expect(parseServerMessage(JSON.stringify(frame))).toEqual({ ok: true, value: decoded });
    }
  });

  it('refuses every golden invalid frame, as the schema does', () => {
    for (const v of golden.invalid) {
      const r = parseServerMessage(JSON.stringify(v));
      expect([v, r.ok]).toEqual([v, false]);
    }
  });

  it('takes a single urls string as browsers do', () => {
    const r = parseServerMessage(
      '{"type":"refreshed","expiresAt":1,"iceServers":[{"urls":"stun:x"}]}',
    );
    expect(r.ok && r.value.type === 'refreshed' && r.value.iceServers).toEqual([
      { urls: 'stun:x' },
    ]);
  });

  it('refuses malformed frames with a reason', () => {
    const bad = [
      undefined,
      'not json',
      '[]',
      'null',
      '{"type":"hello"}',
      '{"type":"welcome","project":"p","group":"g","peer":"a/b","expiresAt":1,"iceServers":[]}',
      '{"type":"welcome","project":"p","group":"g","peer":"a","expiresAt":"1","iceServers":[]}',
      '{"type":"welcome","project":"p","group":"g","peer":"a","expiresAt":1,"iceServers":[{"urls":[1]}]}',
      '{"type":"signal","from":{"group":"g"},"payload":{}}',
      '{"type":"signal","from":{"group":"g","peer":"b"}}',
      '{"type":"error","code":1,"message":"m"}',
      '{"type":"error","code":"E","message":"m","ref":7}',
      '{"type":"closed","reason":"bored"}',
      '{"type":"pong"}',
      `{"type":"pong","at":1,"pad":"${'x'.repeat(70_000)}"}`,
    ];
    for (const text of bad) {
      const r = parseServerMessage(text);
      expect([text?.slice(0, 80), r.ok]).toEqual([text?.slice(0, 80), false]);
      if (!r.ok) expect(r.error).not.toBe('');
    }
  });
});
