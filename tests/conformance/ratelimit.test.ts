/**
 * The seed's four rate limits at their default values. Each test acts from its own loopback
 * address (127.0.0.0/8), so per-IP limits are seen per client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHost, type Host } from './host.js';
import { WsClient, call, codeOf, createSession, refusedUpgrade, type Created } from './client.js';

let host: Host;
let s: Created;
beforeAll(async () => {
  host = await startHost({ rateLimits: 'default' });
  s = await createSession(host.url, { streams: ['cam-1'] }, '127.0.0.40');
});
afterAll(async () => {
  await host.stop();
});

function retryAfter(h: string | string[] | undefined): number {
  return Number(Array.isArray(h) ? h[0] : h);
}

describe('rate limits', () => {
  it('POST /api/session: 10 per minute per IP, then 429 with Retry-After', async () => {
    const from = '127.0.0.41';
    for (let i = 0; i < 10; i++) {
      expect((await call(host.url, 'POST', '/api/session', { body: {}, from })).status).toBe(201);
    }
    const r = await call(host.url, 'POST', '/api/session', { body: {}, from });
    expect([r.status, codeOf(r)]).toEqual([429, 'ERR_RATE_LIMITED']);
    expect(retryAfter(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(retryAfter(r.headers['retry-after'])).toBeLessThanOrEqual(60);
    // Another client is not affected.
    expect(
      (await call(host.url, 'POST', '/api/session', { body: {}, from: '127.0.0.42' })).status,
    ).toBe(201);
  });

  it('GET /api/session/:id: 60 per minute per IP, then 429 with Retry-After', async () => {
    const from = '127.0.0.43';
    for (let i = 0; i < 60; i++) {
      expect(
        (await call(host.url, 'GET', `/api/session/${s.session}`, { token: s.token, from })).status,
      ).toBe(200);
    }
    const r = await call(host.url, 'GET', `/api/session/${s.session}`, { token: s.token, from });
    expect([r.status, codeOf(r)]).toEqual([429, 'ERR_RATE_LIMITED']);
    expect(retryAfter(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // A HEAD is answered by the same handler: it is no way around the limit.
    for (const path of ['', '/connect', '/health']) {
      const head = await call(host.url, 'HEAD', `/api/session/${s.session}${path}`, {
        token: s.token,
        from,
      });
      expect([path, head.status]).toEqual([path, 429]);
    }
    expect(
      (
        await call(host.url, 'GET', `/api/session/${s.session}`, {
          token: s.token,
          from: '127.0.0.44',
        })
      ).status,
    ).toBe(200);
  });

  it('WebSocket connect: 20 per minute per IP, then the upgrade is refused with 429', async () => {
    const from = '127.0.0.45';
    const open: WsClient[] = [];
    for (let i = 0; i < 20; i++)
      open.push(await WsClient.connect(host.url, s.session, s.token, { from }));
    const refused = await refusedUpgrade(host.url, s.session, s.token, { from });
    expect([refused.status, refused.code]).toEqual([429, 'ERR_RATE_LIMITED']);
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    for (const c of open) c.close();
    const other = await WsClient.connect(host.url, s.session, s.token, { from: '127.0.0.46' });
    other.close();
  });

  it('POST …/tokens (signs and renders a QR code): 60 per minute per IP, then 429', async () => {
    const from = '127.0.0.50';
    const path = `/api/session/${s.session}/tokens`;
    for (let i = 0; i < 60; i++) {
      const r = await call(host.url, 'POST', path, {
        token: s.token,
        body: { stream: null },
        from,
      });
      expect(r.status).toBe(201);
    }
    const r = await call(host.url, 'POST', path, { token: s.token, body: { stream: null }, from });
    expect([r.status, codeOf(r)]).toEqual([429, 'ERR_RATE_LIMITED']);
    expect(retryAfter(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    const other = await call(host.url, 'POST', path, {
      token: s.token,
      body: { stream: null },
      from: '127.0.0.51',
    });
    expect(other.status).toBe(201);
  });

  it('PATCH, DELETE and PUT …/tally share one write limit: 120 per minute per IP, then 429', async () => {
    const from = '127.0.0.52';
    const w = await createSession(host.url, { streams: ['cam-1'] }, '127.0.0.53');
    const tally = { program: ['cam-1'], preview: [] };
    for (let i = 0; i < 60; i++) {
      const r = await call(host.url, 'PUT', `/api/session/${w.session}/tally`, {
        token: w.token,
        body: tally,
        from,
      });
      expect(r.status).toBe(200);
    }
    for (let i = 0; i < 60; i++) {
      const r = await call(host.url, 'PATCH', `/api/session/${w.session}`, {
        token: w.token,
        body: { ttl: 600 },
        from,
      });
      expect(r.status).toBe(200);
    }
    for (const [method, path, body] of [
      ['PUT', `/api/session/${w.session}/tally`, tally],
      ['PATCH', `/api/session/${w.session}`, { ttl: 600 }],
      ['DELETE', `/api/session/${w.session}`, undefined],
    ] as const) {
      const r = await call(host.url, method, path, {
        token: w.token,
        ...(body === undefined ? {} : { body }),
        from,
      });
      expect([method, r.status, codeOf(r)]).toEqual([method, 429, 'ERR_RATE_LIMITED']);
      expect(retryAfter(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    }
    // Another client still may: the session was not deleted by the refused DELETE.
    const del = await call(host.url, 'DELETE', `/api/session/${w.session}`, {
      token: w.token,
      from: '127.0.0.54',
    });
    expect(del.status).toBe(204);
  });

  it('a session lives 24 h at most by default: a longer ttl is 400 ERR_BAD_REQUEST', async () => {
    const over = await call(host.url, 'POST', '/api/session', {
      body: { ttl: 24 * 3600 + 1 },
      from: '127.0.0.55',
    });
    expect([over.status, codeOf(over)]).toEqual([400, 'ERR_BAD_REQUEST']);
    const at = await call(host.url, 'POST', '/api/session', {
      body: { ttl: 24 * 3600 },
      from: '127.0.0.55',
    });
    expect(at.status).toBe(201);
  });

  it('WebSocket messages: 100 per second per connection; a flood gets `error`, then a close', async () => {
    const c = await WsClient.connect(host.url, s.session, s.token, { from: '127.0.0.47' });
    await c.next('welcome');
    for (let i = 0; i < 300; i++) c.send({ type: 'ping' });
    expect(await c.next('error')).toMatchObject({ code: 'ERR_RATE_LIMITED' });
    expect(await c.closed).toBe(4429);
    const pongs = c.all('pong').length;
    expect(pongs).toBeLessThanOrEqual(100);
    expect(pongs).toBeGreaterThan(0);
  });

  it('binary frames count towards the message limit too', async () => {
    const c = await WsClient.connect(host.url, s.session, s.token, { from: '127.0.0.49' });
    await c.next('welcome');
    for (let i = 0; i < 300; i++) c.ws.send(Buffer.from([i & 0xff]));
    expect(await c.closed).toBe(4429);
    // 100 refusals within the limit, one warning, one last error before the close.
    expect(c.all('error').length).toBeLessThanOrEqual(102);
  });

  it('a connection under the message limit is not affected', async () => {
    const c = await WsClient.connect(host.url, s.session, s.token, { from: '127.0.0.48' });
    for (let i = 0; i < 50; i++) c.send({ type: 'ping' });
    for (let i = 0; i < 50; i++) await c.next('pong');
    expect(c.all('error')).toEqual([]);
    c.close();
  });
});
