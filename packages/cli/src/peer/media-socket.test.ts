import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { openMediaSocket } from './media-socket.js';

const sockets: Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});

describe('openMediaSocket', () => {
  it('binds where asked and hands every datagram on', async () => {
    const got: Buffer[] = [];
    let arrived!: () => void;
    const arrival = new Promise<void>((resolve) => (arrived = resolve));
    const media = await openMediaSocket(0, '127.0.0.1', (msg) => {
      got.push(msg);
      arrived();
    });
    sockets.push(media);
    expect(media.address().address).toBe('127.0.0.1');
    const other = createSocket('udp4');
    sockets.push(other);
    other.send(Buffer.from([1, 2, 3]), media.address().port, '127.0.0.1');
    await arrival;
    expect(got).toEqual([Buffer.from([1, 2, 3])]);
  });

  it('rejects with EADDRINUSE when the port is taken (instead of waiting forever)', async () => {
    const holder = await openMediaSocket(0, '127.0.0.1', () => undefined);
    sockets.push(holder);
    await expect(
      openMediaSocket(holder.address().port, '127.0.0.1', () => undefined),
    ).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });

  it('carries on after a datagram that could not be sent', async () => {
    const media = await openMediaSocket(0, '127.0.0.1', () => undefined);
    sockets.push(media);
    // What a failed send of a bound socket reports (no route, a STUN host that does not
    // resolve): with no listener of the socket's own, emitting it would throw.
    const unreachable = Object.assign(new Error('send EHOSTUNREACH 192.0.2.1:3478'), {
      code: 'EHOSTUNREACH',
    });
    expect(() => media.emit('error', unreachable)).not.toThrow();
    // Still bound and usable.
    expect(media.address().port).toBeGreaterThan(0);
    const echo = createSocket('udp4');
    sockets.push(echo);
    await new Promise<void>((resolve) => echo.bind(0, '127.0.0.1', resolve));
    const received = new Promise<Buffer>((resolve) => echo.once('message', resolve));
    media.send(Buffer.from([9]), echo.address().port, '127.0.0.1');
    expect(await received).toEqual(Buffer.from([9]));
  });
});
