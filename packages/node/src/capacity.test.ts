import { PassThrough } from 'node:stream';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { PunchError, silentLogger } from '@punch/core';
import { Capacity } from './capacity.js';

function refusal(f: () => void): PunchError | undefined {
  try {
    f();
  } catch (err) {
    if (err instanceof PunchError) return err;
    throw err;
  }
  return undefined;
}

describe('Capacity', () => {
  it('has the documented defaults', () => {
    const c = new Capacity({}, silentLogger);
    expect(c.limits).toEqual({ sessions: 10_000, sockets: 20_000, socketsPerIp: 200 });
    expect(c.maxTtl).toBe(86_400);
  });

  it('refuses past the per-IP and total bounds with ERR_CAPACITY and Retry-After 30', () => {
    const c = new Capacity({ maxSockets: 3, maxSocketsPerIp: 2 }, silentLogger);
    c.admit('192.0.2.1', new PassThrough());
    c.admit('192.0.2.1', new PassThrough());
    const perIp = refusal(() => {
      c.admit('192.0.2.1', new PassThrough());
    });
    expect([perIp?.code, perIp?.status, perIp?.retryAfter]).toEqual(['ERR_CAPACITY', 503, 30]);
    c.admit('192.0.2.2', new PassThrough());
    const total = refusal(() => {
      c.admit('192.0.2.3', new PassThrough());
    });
    expect(total?.code).toBe('ERR_CAPACITY');
    // A refusal counts nothing.
    expect([c.sockets, c.socketsOf('192.0.2.1'), c.socketsOf('192.0.2.3')]).toEqual([3, 2, 0]);
  });

  it('frees a place when the socket closes, and forgets an IP with none left', async () => {
    const c = new Capacity({ maxSocketsPerIp: 1 }, silentLogger);
    const s = new PassThrough();
    c.admit('192.0.2.9', s);
    expect(
      refusal(() => {
        c.admit('192.0.2.9', new PassThrough());
      })?.code,
    ).toBe('ERR_CAPACITY');
    s.destroy();
    await once(s, 'close');
    expect([c.sockets, c.socketsOf('192.0.2.9')]).toEqual([0, 0]);
    c.admit('192.0.2.9', new PassThrough());
    expect(c.sockets).toBe(1);
  });

  it('does not count a socket that already closed (its close event has passed)', async () => {
    const c = new Capacity({}, silentLogger);
    const s = new PassThrough();
    s.destroy();
    await once(s, 'close');
    c.admit('192.0.2.5', s);
    expect(c.sockets).toBe(0);
  });

  it('sessionsFull compares the live count with --max-sessions', () => {
    const c = new Capacity({ maxSessions: 2 }, silentLogger);
    expect([c.sessionsFull(1), c.sessionsFull(2), c.sessionsFull(3)]).toEqual([false, true, true]);
  });
});
