import { describe, expect, it } from 'vitest';
import { withFutureFields } from '../test/future-fields.js';
import { MAX_SERVER_FRAME_CHARS, decodeServerMessage, type ServerMessage } from './to-client.js';

// One of every server message, as the room sends them (typed by the server's own union).
const fixtures: ServerMessage[] = [
  {
    type: 'welcome',
    session: 'nab-floor',
    role: 'peer',
    stream: 'cam-wide',
    expiresAt: 1795424605,
    tally: { program: ['cam-wide'], preview: [] },
    stun: { host: 'punch.example', port: 3478 },
  },
  {
    type: 'registered',
    stream: 'cam-wide',
    role: 'sender',
    bind: { host: 'punch.example', port: 3478, username: 'k3v9x' },
  },
  { type: 'registered', stream: 'cam-wide', role: 'sender', bind: null },
  {
    type: 'peer',
    stream: 'cam-wide',
    role: 'sender',
    remote: { ip: '198.51.100.20', port: 53122, local: [{ ip: '10.0.0.5', port: 53122 }] },
    passphrase: 'AbCdEfGhIjKlMnOpQrStUvWxYz012345',
    pbkeylen: 32,
    latencyMs: 120,
  },
  { type: 'peer-left', stream: 'cam-wide', role: 'receiver' },
  { type: 'tally', program: [], preview: ['cam-wide'] },
  {
    type: 'health',
    stream: 'cam-wide',
    role: 'sender',
    stats: { path: 'direct', rttMs: 3 },
    at: 1795417605054,
  },
  { type: 'token', token: 'p_abc.def', expiresAt: 1795424605 },
  { type: 'closed', reason: 'expired' },
  {
    type: 'error',
    code: 'ERR_STREAM_FORBIDDEN',
    message: 'this token is not valid for stream "cam-close"',
  },
  { type: 'pong', at: 1795417605054 },
];

describe('decodeServerMessage', () => {
  it('decodes every server message type as sent', () => {
    for (const m of fixtures) expect(decodeServerMessage(JSON.stringify(m))).toEqual(m);
    expect(new Set(fixtures.map((m) => m.type)).size).toBe(10);
  });

  it('tolerates fields a newer server adds', () => {
    expect(decodeServerMessage('{"type":"pong","at":1,"extra":true}')).toMatchObject({
      type: 'pong',
      at: 1,
    });
  });

  it('tolerates fields a newer server adds at any depth (tally, endpoints, stats, views)', () => {
    const rich: ServerMessage[] = [
      ...fixtures,
      {
        type: 'welcome',
        session: 'nab-floor',
        role: 'admin',
        stream: null,
        expiresAt: 1795424605,
        tally: { program: ['cam-wide'], preview: ['cam-close'] },
        tallyOrigin: { source: 'vMix at 10.0.0.5:8099', at: 1795417605054 },
        stun: null,
        publicStun: { host: 'stun.example', port: 3478 },
      },
      {
        type: 'registered',
        stream: 'cam-wide',
        role: 'receiver',
        bind: { host: 'punch.example', port: 3478, username: 'k3v9x' },
        relay: {
          urls: ['turn:punch.example:3478?transport=udp'],
          username: '1795424605:k3v9x',
          credential: 'c2VjcmV0',
          expiresAt: 1795424605,
        },
        mode: 'auto',
      },
      {
        type: 'peer',
        stream: 'cam-wide',
        role: 'receiver',
        remote: {
          ip: '198.51.100.20',
          port: 53122,
          local: [{ ip: '10.0.0.5', port: 53122 }],
          relay: { ip: '203.0.113.9', port: 49160 },
        },
        passphrase: 'AbCdEfGhIjKlMnOpQrStUvWxYz012345',
        pbkeylen: 32,
        latencyMs: 120,
      },
      {
        type: 'stream',
        name: 'cam-wide',
        state: 'connected',
        sender: { present: true, endpoint: true, path: 'direct' },
        receiver: { present: false, endpoint: false, path: null },
        tally: 'program',
        takeover: { role: 'sender', at: 1795417605054, by: 'peer' },
      },
      {
        type: 'tally',
        program: ['cam-wide'],
        preview: [],
        origin: { source: null, at: 1795417605054 },
      },
      {
        type: 'health',
        stream: 'cam-wide',
        role: 'sender',
        stats: { path: 'relay', mediaBps: 4e6, srt: { msRTT: 12.5 } },
        at: 1795417605054,
      },
    ];
    for (const m of rich) {
      expect(decodeServerMessage(JSON.stringify(m))).toEqual(m);
      expect(decodeServerMessage(JSON.stringify(withFutureFields(m)))).toEqual(m);
    }
  });

  it('returns undefined for junk, unknown types and malformed fields, without throwing', () => {
    for (const text of [
      'not json',
      '[]',
      '{"type":"launch"}',
      '{"type":"peer","stream":"x","role":"sender","remote":{"ip":"999.0.0.1","port":1},"passphrase":"AbCdEfGhIjKl","pbkeylen":32,"latencyMs":120}',
      '{"type":"closed","reason":"bored"}',
      '{"type":"registered","stream":"x","role":"director","bind":null}',
    ]) {
      expect(decodeServerMessage(text)).toBeUndefined();
    }
  });

  it('does not parse a frame over the size limit', () => {
    const pad = 'x'.repeat(MAX_SERVER_FRAME_CHARS);
    expect(decodeServerMessage(`{"type":"pong","at":1,"pad":"${pad}"}`)).toBeUndefined();
    expect(decodeServerMessage(`{"type":"pong","at":1,"pad":"${pad.slice(100)}"}`)).toMatchObject({
      type: 'pong',
    });
  });
});
