import { describe, expect, it } from 'vitest';
import { ListenError } from './listen-error.js';
import { startStunServer } from './stun-server.js';

describe('ListenError', () => {
  it("carries which socket failed, where, and the OS's code, with the cause kept", () => {
    const cause = Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' });
    const e = new ListenError('http', '0.0.0.0', 8787, cause);
    expect(e).toMatchObject({ listener: 'http', host: '0.0.0.0', port: 8787, code: 'EADDRINUSE' });
    expect(e.message).toBe('the HTTP port (tcp) cannot listen on 0.0.0.0:8787 (EADDRINUSE)');
    expect(e.cause).toBe(cause);
    expect(new ListenError('stun', '::', 3478, 'odd').code).toBe('error');
  });

  it('is what the STUN server throws when its UDP port is taken', async () => {
    const first = await startStunServer({
      host: '127.0.0.1',
      port: 0,
      onRequest: () => undefined,
      onError: () => undefined,
    });
    try {
      const second = startStunServer({
        host: '127.0.0.1',
        port: first.port,
        onRequest: () => undefined,
        onError: () => undefined,
      });
      await expect(second).rejects.toMatchObject({
        name: 'ListenError',
        listener: 'stun',
        port: first.port,
        code: 'EADDRINUSE',
      });
    } finally {
      await first.close();
    }
  });
});
