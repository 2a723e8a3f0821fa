import { ListenError } from '@punch/node';
import { describe, expect, it } from 'vitest';
import { listenFailure } from './serve.js';

const code = (c: string): Error => Object.assign(new Error(c), { code: c });

describe('listenFailure', () => {
  it('names the socket, its port and the flag that moves it', () => {
    expect(listenFailure(new ListenError('http', '0.0.0.0', 8787, code('EADDRINUSE')))).toBe(
      'HTTP port 8787 is already in use on 0.0.0.0 (is another Punch running?): choose another with --port',
    );
    expect(listenFailure(new ListenError('stun', '0.0.0.0', 3478, code('EADDRINUSE')))).toContain(
      'STUN port 3478 (UDP) is already in use on 0.0.0.0',
    );
    expect(
      listenFailure(new ListenError('turn-tcp', '0.0.0.0', 3478, code('EADDRINUSE'))),
    ).toContain('--no-relay');
  });

  it('says why for a privileged port, a foreign address and anything else', () => {
    expect(listenFailure(new ListenError('http', '0.0.0.0', 80, code('EACCES')))).toContain(
      'ports below 1024 need privileges',
    );
    expect(
      listenFailure(new ListenError('stun', '192.0.2.1', 3478, code('EADDRNOTAVAIL'))),
    ).toContain('192.0.2.1:3478: no interface of this machine has that address (--host)');
    expect(listenFailure(new ListenError('http', '::1', 1, code('EWHATEVER')))).toContain(
      '(EWHATEVER)',
    );
  });
});
