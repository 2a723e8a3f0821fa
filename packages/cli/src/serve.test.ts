import { ListenError } from '@punch/node';
import { describe, expect, it } from 'vitest';
import { listenFailure, serve } from './serve.js';
import { UsageError } from './usage.js';

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

describe('capacity flags', () => {
  it('refuses a count that is not a whole number of at least 1, and a --max-ttl out of range, before starting', async () => {
    for (const args of [
      ['--max-sessions', '0'],
      ['--max-sockets', 'lots'],
      ['--max-sockets-per-ip', '1.5'],
      ['--max-sockets-per-ip=-3'],
      ['--max-ttl', '2s'],
      ['--max-ttl', '8d'],
      ['--max-ttl', '3600'],
    ]) {
      await expect(serve(args), args.join(' ')).rejects.toBeInstanceOf(UsageError);
    }
  });
});
