import { describe, expect, it } from 'vitest';
import { parseServerMessage } from './messages.js';

/** Golden frames, as packages/core's SignalRoom sends them. */
const GOLDEN = [
  '{"type":"welcome","project":"p1","group":"g","peer":"alice","expiresAt":1767225600,"iceServers":[{"urls":["stun:punch.test:3478"]},{"urls":["turn:punch.test:3478?transport=udp"],"username":"1767225600:alice","credential":"c2VjcmV0"}]}',
  '{"type":"signal","from":{"group":"g","peer":"bob"},"payload":{"v":1,"call":"c7","kind":"bye"}}',
  '{"type":"refreshed","expiresAt":1767229200,"iceServers":[]}',
  '{"type":"error","code":"ERR_PEER_UNAVAILABLE","message":"g/bob is not available to you","ref":"c7-1"}',
  '{"type":"error","code":"ERR_RATE_LIMITED","message":"too many messages; slow down"}',
  '{"type":"closed","reason":"replaced"}',
  '{"type":"pong","at":1767225600000}',
];

describe('parseServerMessage', () => {
  it('decodes every server message type', () => {
    for (const text of GOLDEN) {
      const r = parseServerMessage(text);
      const expected: unknown = JSON.parse(text);
      expect(r).toEqual({ ok: true, value: expected });
    }
  });

  it('ignores members it does not know (servers may add some)', () => {
    const r = parseServerMessage('{"type":"pong","at":1,"server":"v2"}');
    expect(r).toEqual({ ok: true, value: { type: 'pong', at: 1 } });
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
