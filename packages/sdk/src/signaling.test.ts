import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from './logger.js';
import { SignalClient, type SignalClientEvents, type SignalClientOptions } from './signaling.js';
import { FakePunch } from './test/fake-punch.js';

let clients: SignalClient[] = [];
afterEach(() => {
  for (const c of clients) c.close();
  clients = [];
});

function client(punch: FakePunch, o: Partial<SignalClientOptions>): SignalClient {
  const c = new SignalClient({
    url: 'ws://punch.test/api/signal',
    WebSocket: punch.WebSocket,
    refreshBeforeS: 60,
    logger: silentLogger,
    random: () => 0,
    ...o,
  });
  clients.push(c);
  c.start();
  return c;
}

function next<K extends keyof SignalClientEvents>(
  c: SignalClient,
  event: K,
  timeoutMs = 5000,
): Promise<SignalClientEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`no ${event} event`));
    }, timeoutMs);
    const off = c.events.on(event, (v) => {
      clearTimeout(timer);
      off();
      resolve(v);
    });
  });
}

const tick = (ms = 20) => new Promise((resolve) => setTimeout(resolve, ms));

describe('SignalClient', () => {
  it('offers the token as a subprotocol, is welcomed, and delivers queued signals after', async () => {
    const punch = new FakePunch();
    const token = await punch.token('g', 'alice');
    const bob = client(punch, { token: await punch.token('g', 'bob') });
    await next(bob, 'welcome');
    const alice = client(punch, { token });
    const got = next(bob, 'signal');
    alice.send({ type: 'signal', to: { group: 'g', peer: 'bob' }, payload: { hi: 1 } });
    const welcome = await next(alice, 'welcome');
    expect(welcome).toMatchObject({ project: 'p1', group: 'g', peer: 'alice', iceServers: [] });
    expect(punch.sockets[1]?.protocols).toEqual(['punch.v1', `punch.token.${token}`]);
    expect(punch.sockets[1]?.url).toBe('ws://punch.test/api/signal');
    expect(await got).toEqual({ from: { group: 'g', peer: 'alice' }, payload: { hi: 1 } });
  });

  it('reports refused signals with their ref', async () => {
    const punch = new FakePunch();
    const alice = client(punch, { token: await punch.token('g', 'alice') });
    await next(alice, 'welcome');
    const err = next(alice, 'error');
    alice.send({ type: 'signal', to: { group: 'h', peer: 'x' }, payload: {}, ref: 'r1' });
    expect(await err).toMatchObject({ code: 'ERR_POLICY_DENIED', ref: 'r1' });
  });

  it('reconnects after a dropped socket, with a fresh token, and resets its backoff', async () => {
    const punch = new FakePunch();
    let asked = 0;
    const alice = client(punch, {
      getToken: () => {
        asked++;
        return punch.token('g', 'alice');
      },
    });
    await next(alice, 'welcome');
    const reconnecting = next(alice, 'reconnecting');
    const welcomed = next(alice, 'welcome');
    punch.sockets[0]?.drop();
    expect(await reconnecting).toEqual({ attempt: 1, delayMs: 0, code: 1006 });
    await welcomed;
    expect(asked).toBe(2);
    expect(punch.sockets).toHaveLength(2);
    const again = next(alice, 'reconnecting');
    punch.sockets[1]?.drop();
    expect((await again).attempt).toBe(1);
  });

  it('stops for good when another connection takes the peer id (4409)', async () => {
    const punch = new FakePunch();
    const token = await punch.token('g', 'alice');
    const first = client(punch, { token });
    await next(first, 'welcome');
    const closed = next(first, 'close');
    client(punch, { token });
    expect(await closed).toEqual({ code: 4409, reason: 'ERR_REPLACED' });
    await tick();
    expect(punch.sockets).toHaveLength(2);
    expect(first.ended).toBe(true);
  });

  it('stops for good when the key is deleted (4401), even with getToken', async () => {
    const punch = new FakePunch();
    const alice = client(punch, { getToken: () => punch.token('g', 'alice') });
    await next(alice, 'welcome');
    const closed = next(alice, 'close');
    expect(punch.deleteKey()).toBe(1);
    expect(await closed).toEqual({ code: 4401, reason: 'ERR_KEY_REVOKED' });
    await tick();
    expect(punch.sockets).toHaveLength(1);
  });

  it('stops on a refused upgrade (401/403), retries on 429', async () => {
    const punch = new FakePunch();
    punch.refuseWith = 401;
    const refused = client(punch, { getToken: () => punch.token('g', 'alice') });
    expect(await next(refused, 'close')).toEqual({ code: 4401, reason: 'HTTP 401' });
    punch.refuseWith = 429;
    const limited = client(punch, { getToken: () => punch.token('g', 'bob') });
    expect((await next(limited, 'reconnecting')).attempt).toBe(1);
    punch.refuseWith = undefined;
    await next(limited, 'welcome');
  });

  it('refreshes the token on the same socket before it expires', async () => {
    const punch = new FakePunch();
    let asked = 0;
    const alice = client(punch, {
      getToken: () => {
        asked++;
        return punch.token('g', 'alice', undefined, 2);
      },
    });
    const welcome = await next(alice, 'welcome');
    const refreshed = await next(alice, 'refreshed', 4000);
    expect(refreshed.expiresAt).toBeGreaterThanOrEqual(welcome.expiresAt);
    expect(asked).toBe(2);
    expect(punch.sockets).toHaveLength(1);
    expect(punch.sockets[0]?.sent.some((f) => f.includes('"type":"token"'))).toBe(true);
  });

  it('an expired token ends a static-token client, and reconnects one with getToken', async () => {
    const punch = new FakePunch();
    const fixed = client(punch, { token: await punch.token('g', 'alice') });
    const fresh = client(punch, { getToken: () => punch.token('g', 'bob') });
    await Promise.all([next(fixed, 'welcome'), next(fresh, 'welcome')]);
    const closed = next(fixed, 'close');
    const reconnecting = next(fresh, 'reconnecting');
    punch.room.tick(Date.now() + 2 * 3600_000);
    expect(await closed).toEqual({ code: 4401, reason: 'ERR_TOKEN_EXPIRED' });
    expect((await reconnecting).code).toBe(4401);
    await next(fresh, 'welcome');
  });

  it('drops a socket that stays silent for two ping periods, and reconnects', async () => {
    const punch = new FakePunch();
    const alice = client(punch, { token: await punch.token('g', 'alice'), pingIntervalMs: 40 });
    await next(alice, 'welcome');
    await tick(150); // pongs keep it up
    expect(punch.sockets).toHaveLength(1);
    const reconnecting = next(alice, 'reconnecting');
    punch.sockets[0]?.mute();
    expect((await reconnecting).code).toBe(1006);
    await next(alice, 'welcome');
    expect(punch.sockets).toHaveLength(2);
  });

  it('a token source that fails is reported and retried', async () => {
    const punch = new FakePunch();
    let calls = 0;
    const alice = client(punch, {
      getToken: () => {
        calls++;
        return calls === 1 ? Promise.reject(new Error('server down')) : punch.token('g', 'alice');
      },
    });
    const err = await next(alice, 'error');
    expect(err.code).toBe('ERR_TOKEN_SOURCE');
    expect((err.cause as Error).message).toBe('server down');
    expect(err.message).toBe('getToken() failed: server down');
    await next(alice, 'welcome');
  });

  it("a token endpoint's refusal: ERR_TOKEN_SOURCE carries its status and error text", async () => {
    const punch = new FakePunch();
    let calls = 0;
    const alice = client(punch, {
      getToken: async () => {
        calls++;
        if (calls === 1)
          // What `fetch('/token').then((r) => (r.ok ? r.text() : Promise.reject(r)))` rejects with.
          // eslint-disable-next-line @typescript-eslint/only-throw-error
          throw new Response('{"error":{"message":"not logged in"}}', {
            status: 401,
            statusText: 'Unauthorized',
          });
        // An error body read as if it were the token.
        if (calls === 2) return '{"error":{"message":"session expired"}}';
        return punch.token('g', 'alice');
      },
    });
    const first = await next(alice, 'error');
    expect(first.code).toBe('ERR_TOKEN_SOURCE');
    expect(first.message).toContain('401 Unauthorized: not logged in');
    const second = await next(alice, 'error');
    expect(second.code).toBe('ERR_TOKEN_SOURCE');
    expect(second.message).toContain('session expired');
    await next(alice, 'welcome');
  });
});
