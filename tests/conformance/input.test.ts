/**
 * Bad input: malformed bodies, names, frames and tokens get a clear error with a stable code,
 * and the server keeps serving every other session.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CAN, startHost, type Host } from './host.js';
import { UpgradeRefused, WsClient, call, codeOf, createSession, type Created } from './client.js';

let host: Host;
let s: Created;
beforeAll(async () => {
  host = await startHost();
  s = await createSession(host.url, { streams: ['cam-1'] });
});
afterAll(async () => {
  await host.stop();
});

async function stillServing(): Promise<void> {
  const c = await WsClient.connect(host.url, s.session, s.token);
  c.send({ type: 'ping' });
  await c.next('pong');
  c.close();
  expect(
    (await call(host.url, 'GET', `/api/session/${s.session}`, { token: s.token })).status,
  ).toBe(200);
}

describe('HTTP bodies', () => {
  const bad: [string, Parameters<typeof call>[3], number, string][] = [
    ['invalid JSON', { raw: '{"name":', contentType: 'application/json' }, 400, 'ERR_BAD_REQUEST'],
    ['a JSON array', { raw: '[]', contentType: 'application/json' }, 400, 'ERR_BAD_REQUEST'],
    ['text/plain', { raw: '{}', contentType: 'text/plain' }, 415, 'ERR_UNSUPPORTED_MEDIA_TYPE'],
    ['an unknown field', { body: { nme: 'x' } }, 400, 'ERR_BAD_REQUEST'],
    ['an upper-case name', { body: { name: 'Cam1' } }, 400, 'ERR_BAD_REQUEST'],
    ['a one-character name', { body: { name: 'a' } }, 400, 'ERR_BAD_REQUEST'],
    ['a name with a slash', { body: { name: 'a/b' } }, 400, 'ERR_BAD_REQUEST'],
    ['a 64-character name', { body: { name: 'a'.repeat(64) } }, 400, 'ERR_BAD_REQUEST'],
    ['a negative TTL', { body: { ttl: -1 } }, 400, 'ERR_BAD_REQUEST'],
    ['a fractional TTL', { body: { ttl: 1.5 } }, 400, 'ERR_BAD_REQUEST'],
    ['a TTL over a week', { body: { ttl: 8 * 86400 } }, 400, 'ERR_BAD_REQUEST'],
    ['duplicate streams', { body: { streams: ['a1', 'a1'] } }, 400, 'ERR_BAD_REQUEST'],
    ['no streams', { body: { streams: [] } }, 400, 'ERR_BAD_REQUEST'],
    [
      '33 streams',
      { body: { streams: Array.from({ length: 33 }, (_, i) => `cam-${i}`) } },
      400,
      'ERR_BAD_REQUEST',
    ],
    ['a string TTL', { body: { ttl: '60' } }, 400, 'ERR_BAD_REQUEST'],
    ['a body over 16 KiB', { body: { name: 'x'.repeat(17 * 1024) } }, 413, 'ERR_PAYLOAD_TOO_LARGE'],
  ];
  for (const [name, options, status, code] of bad) {
    it(`POST /api/session with ${name} → ${status} ${code}`, async () => {
      const r = await call(host.url, 'POST', '/api/session', options);
      expect([r.status, codeOf(r)]).toEqual([status, code]);
      const p = r.json as Record<string, unknown>;
      expect(Object.keys(p).sort()).toEqual(['code', 'detail', 'status', 'title', 'type']);
      expect(r.text).not.toMatch(/\bat .*\.(js|ts):\d+/); // no stack traces
    });
  }

  it('names the offending field in the detail', async () => {
    const r = await call(host.url, 'POST', '/api/session', { body: { ttl: 'soon' } });
    expect((r.json as { detail: string }).detail).toContain('ttl');
  });

  it('refuses a taken name with 409 ERR_SESSION_EXISTS', async () => {
    const r = await call(host.url, 'POST', '/api/session', { body: { name: s.session } });
    expect([r.status, codeOf(r)]).toEqual([409, 'ERR_SESSION_EXISTS']);
  });

  it("validates the other routes' bodies too", async () => {
    const base = `/api/session/${s.session}`;
    const cases: [string, string, unknown, string][] = [
      ['PATCH', base, { ttl: 0 }, 'ERR_BAD_REQUEST'],
      ['PATCH', base, {}, 'ERR_BAD_REQUEST'],
      ['POST', `${base}/tokens`, {}, 'ERR_BAD_REQUEST'],
      ['POST', `${base}/tokens`, { stream: 'nope' }, 'ERR_STREAM_UNKNOWN'],
      ['PUT', `${base}/tally`, { program: 'cam-1' }, 'ERR_BAD_REQUEST'],
      ['PUT', `${base}/tally`, { program: ['nope'], preview: [] }, 'ERR_STREAM_UNKNOWN'],
    ];
    for (const [method, path, body, code] of cases) {
      const r = await call(host.url, method, path, { token: s.token, body });
      expect([method, path, codeOf(r)]).toEqual([method, path, code]);
    }
    const empty = await call(host.url, 'PATCH', base, { token: s.token });
    expect(codeOf(empty)).toBe('ERR_BAD_REQUEST');
  });

  it('answers unknown routes, odd session ids and plain GETs of the socket with problems', async () => {
    const nf = await call(host.url, 'GET', '/api/nothing');
    expect([nf.status, codeOf(nf)]).toEqual([404, 'ERR_NOT_FOUND']);
    const odd = await call(host.url, 'GET', '/api/session/..%2F..', { token: s.token });
    expect(odd.status).toBe(404);
    const ws = await call(host.url, 'GET', `/api/session/${s.session}/ws`, { token: s.token });
    expect([ws.status, codeOf(ws)]).toEqual([426, 'ERR_UPGRADE_REQUIRED']);
    await stillServing();
  });
});

describe('paths', () => {
  it('a malformed session name in a path is 404, over HTTP and at the WebSocket upgrade', async () => {
    for (const id of ['%E0%A4%A', '%ZZ', 'UPPER']) {
      const r = await call(host.url, 'GET', `/api/session/${id}`, { token: s.token });
      expect([id, r.status, codeOf(r)]).toEqual([id, 404, 'ERR_SESSION_NOT_FOUND']);
      const refused = await WsClient.connect(host.url, id, s.token).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(refused).toBeInstanceOf(UpgradeRefused);
      expect([id, (refused as UpgradeRefused).status]).toEqual([id, 404]);
    }
    await stillServing();
  });
});

describe('WebSocket frames', () => {
  it('malformed JSON, unknown types and bad fields get `error` and the socket stays open', async () => {
    const c = await WsClient.connect(host.url, s.session, s.token);
    const bad = [
      'not json',
      '{"type":"register"',
      '42',
      '{"no":"type"}',
      '{"type":"launch-missiles"}',
      '{"type":"register","stream":"cam-1","role":"director"}',
      '{"type":"register","stream":"CAM","role":"sender"}',
      '{"type":"register","stream":"cam-1","role":"sender","extra":1}',
      '{"type":"endpoint","stream":"cam-1","role":"sender","public":{"ip":"999.1.1.1","port":1}}',
      '{"type":"endpoint","stream":"cam-1","role":"sender","public":{"ip":"127.0.0.1","port":70000}}',
      '{"type":"health","stream":"cam-1","role":"sender","stats":{"lossPct":150}}',
      '{"type":"tally","program":"cam-1","preview":[]}',
    ];
    for (const text of bad) {
      c.send(text);
      expect(await c.next('error')).toMatchObject({ code: 'ERR_BAD_REQUEST' });
    }
    c.send({ type: 'ping' });
    expect(await c.next('pong')).toMatchObject({ type: 'pong' });
    c.close();
  });

  it('an upgrade to an unknown path, reset by the client at once, does not take the server down', async () => {
    const { port, hostname } = new URL(host.url);
    for (const path of ['/nope', `/api/session/${s.session}/ws`]) {
      await new Promise<void>((resolve) => {
        const sock = connect(Number(port), hostname, () => {
          sock.write(
            `GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
          );
          sock.resetAndDestroy();
          resolve();
        });
      });
    }
    await stillServing();
  });

  it('a binary frame gets `error`', async () => {
    const c = await WsClient.connect(host.url, s.session, s.token);
    c.ws.send(Buffer.from([1, 2, 3]));
    expect(await c.next('error')).toMatchObject({ code: 'ERR_BAD_REQUEST' });
    c.close();
  });

  it('a frame over 16 KiB closes the socket with 1009', async () => {
    const c = await WsClient.connect(host.url, s.session, s.token);
    c.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(17 * 1024) }));
    expect(await c.closed).toBe(1009);
    await stillServing();
  });

  it('a frame of exactly 16 KiB is read (and refused for its content, not its size)', async () => {
    const c = await WsClient.connect(host.url, s.session, s.token);
    const base = JSON.stringify({ type: 'ping', pad: '' });
    c.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(16 * 1024 - base.length) }));
    expect(await c.next('error')).toMatchObject({ code: 'ERR_BAD_REQUEST' });
    c.close();
  });
});

describe('health, metrics and API description', () => {
  it('/healthz answers', async () => {
    const r = await call(host.url, 'GET', '/healthz');
    expect(r.status).toBe(200);
  });
  it.skipIf(!CAN.metrics)("/metrics is Prometheus text with Punch's metrics", async () => {
    await call(host.url, 'GET', `/api/session/${s.session}`);
    const r = await call(host.url, 'GET', '/metrics');
    expect(r.status).toBe(200);
    expect(r.text).toMatch(/^# HELP punch_sessions_active /m);
    expect(r.text).toMatch(/^punch_sessions_created_total \d+/m);
    expect(r.text).toMatch(/^punch_ws_connections \d+/m);
    expect(r.text).toMatch(/^punch_auth_failures_total\{code="ERR_UNAUTHENTICATED"\} [1-9]/m);
  });
  it('/api/openapi.json describes every route with schemas', async () => {
    const r = await call(host.url, 'GET', '/api/openapi.json');
    const doc = r.json as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, unknown> };
    };
    expect(doc.openapi).toMatch(/^3\.1/);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/session',
        '/api/session/{id}',
        '/api/session/{id}/tokens',
        '/api/session/{id}/connect',
        '/api/session/{id}/tally',
        '/api/session/{id}/health',
        '/api/session/{id}/ws',
        '/api/projects',
        '/api/projects/{id}',
        '/api/projects/{id}/members',
        '/api/projects/{id}/members/{account}',
        '/api/projects/{id}/keys',
        '/api/projects/{id}/keys/{kid}',
        '/api/projects/{id}/jwks',
        '/api/projects/{id}/audit',
        '/api/signal',
      ]),
    );
    expect(doc.components.schemas.CreateSessionBody).toMatchObject({
      type: 'object',
      properties: { name: { pattern: expect.any(String) as unknown } },
    });
  });
});
