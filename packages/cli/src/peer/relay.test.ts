import { describe, expect, it } from 'vitest';
import { relayServers } from './relay.js';

describe('relayServers', () => {
  it('takes turn: URLs over UDP and TCP, UDP first, and skips what the agent cannot speak', () => {
    expect(
      relayServers([
        'turn:punch.example:3478?transport=tcp',
        'turns:punch.example:5349?transport=tcp',
        'turn:punch.example:3478?transport=udp',
        'turn:[2001:db8::1]:3479',
        'stun:punch.example:3478',
        'turn:bad.example:70000',
      ]),
    ).toEqual([
      { host: 'punch.example', port: 3478, transport: 'udp' },
      { host: '2001:db8::1', port: 3479, transport: 'udp' },
      { host: 'punch.example', port: 3478, transport: 'tcp' },
    ]);
  });

  it('defaults to port 3478 over UDP, as RFC 7065 says', () => {
    expect(relayServers(['turn:relay.example'])).toEqual([
      { host: 'relay.example', port: 3478, transport: 'udp' },
    ]);
  });
});
