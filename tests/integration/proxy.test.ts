/** Behind a reverse proxy (`--trust-proxy`): the client IP is the address the proxy appended. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startHost, type Host } from '../conformance/host.js';
import { WsClient, call, codeOf, createSession } from '../conformance/client.js';

let host: Host;
beforeAll(async () => {
  host = await startHost({ rateLimits: 'default', extraArgs: ['--trust-proxy'] });
});
afterAll(async () => {
  await host.stop();
});

it('rate limits follow the proxy-appended address, not what the client wrote before it', async () => {
  for (let i = 0; i < 10; i++) {
    const r = await call(host.url, 'POST', '/api/session', {
      body: {},
      headers: { 'x-forwarded-for': `10.0.${i}.1, 203.0.113.7` },
    });
    expect(r.status).toBe(201);
  }
  const r = await call(host.url, 'POST', '/api/session', {
    body: {},
    headers: { 'x-forwarded-for': '10.9.9.9, 203.0.113.7' },
  });
  expect([r.status, codeOf(r)]).toEqual([429, 'ERR_RATE_LIMITED']);
  const other = await call(host.url, 'POST', '/api/session', {
    body: {},
    headers: { 'x-forwarded-for': '203.0.113.8' },
  });
  expect(other.status).toBe(201);
});

it('a claimed public endpoint must match the proxy-appended address', async () => {
  const s = await createSession(host.url, { streams: ['cam-1'] }, '127.0.0.70');
  const ws = await WsClient.connect(host.url, s.session, s.token, {
    headers: { 'x-forwarded-for': '198.51.100.7, 203.0.113.9' },
  });
  ws.send({ type: 'register', stream: 'cam-1', role: 'sender' });
  await ws.next('registered');
  ws.send({
    type: 'endpoint',
    stream: 'cam-1',
    role: 'sender',
    public: { ip: '198.51.100.7', port: 53 },
  });
  expect(await ws.next('error')).toMatchObject({ code: 'ERR_ENDPOINT_MISMATCH' });
  ws.send({
    type: 'endpoint',
    stream: 'cam-1',
    role: 'sender',
    public: { ip: '203.0.113.9', port: 5000 },
  });
  ws.send({ type: 'ping' });
  await ws.next('pong');
  expect(ws.all('error')).toHaveLength(1);
  ws.close();
});
