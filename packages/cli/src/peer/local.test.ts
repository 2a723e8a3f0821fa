import { afterEach, describe, expect, it } from 'vitest';
import { LocalSide } from './local.js';

const opened: LocalSide[] = [];
afterEach(() => {
  for (const side of opened.splice(0)) side.close();
});

async function receiveSide(host: string): Promise<LocalSide> {
  // Source port 0: the OS picks one, so parallel runs never collide.
  const side = await LocalSide.open(
    'receive',
    { host: '127.0.0.1', port: 0 },
    { host, port: 9 },
    0,
    () => undefined,
  );
  opened.push(side);
  return side;
}

describe('LocalSide (--receive)', () => {
  it('talks to a listener on this machine from loopback', async () => {
    expect((await receiveSide('127.0.0.1')).socket.address().address).toBe('127.0.0.1');
    expect((await receiveSide('localhost')).socket.address().address).toBe('127.0.0.1');
  });

  it('talks to a listener elsewhere on the LAN from every interface (loopback cannot reach it)', async () => {
    // A socket bound to 127.0.0.1 gets EINVAL sending to another host.
    expect((await receiveSide('10.0.0.21')).socket.address().address).toBe('0.0.0.0');
    expect((await receiveSide('decoder.lan')).socket.address().address).toBe('0.0.0.0');
  });
});
