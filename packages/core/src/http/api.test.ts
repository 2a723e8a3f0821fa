import { describe, it, expect, beforeEach } from 'vitest';
import type { Hono } from 'hono';
import { ERRORS, type ErrorCode } from '../errors.js';
import { silentLogger } from '../logger.js';
import { RATE_LIMITS, RateLimiter } from '../ratelimit.js';
import type { HealthSample, SessionRecord, SessionStore } from '../session/record.js';
import { Room } from '../session/room.js';
import { KeyRing, signToken, verifyToken } from '../token/token.js';
import type { TokenClaims } from '../token/claims.js';
import { MAX_BODY_BYTES, TTL_DEFAULT, TTL_MAX, TTL_MIN } from '../wire/http.js';
import { createSessionApi, type RoomDirectory } from './api.js';

// ---- fakes ------------------------------------------------------------------------------------

class MemoryStore implements SessionStore {
  readonly sessions = new Map<string, SessionRecord>();
  saveSession(record: SessionRecord): void {
    this.sessions.set(record.id, structuredClone(record));
  }
  appendHealth(): void {}
  healthHistory(): HealthSample[] {
    return [];
  }
  deleteSession(session: string): void {
    this.sessions.delete(session);
  }
}

const T0 = 1_741_234_000_000;
const DEFAULT_IP = '203.0.113.50';

let clock: number;
let keys: KeyRing;
let store: MemoryStore;
let rooms: Map<string, Room>;
let app: Hono;
let createImpl: ((record: SessionRecord) => Room | undefined) | undefined;
let full: boolean;

beforeEach(async () => {
  clock = T0;
  keys = await KeyRing.fromSecrets('api-test-secret-0123456789abcdef-xyz');
  store = new MemoryStore();
  rooms = new Map();
  createImpl = undefined;
  full = false;
  const directory: RoomDirectory = {
    get: (id) => rooms.get(id),
    full: () => full,
    create: (record) => {
      if (createImpl !== undefined) return createImpl(record);
      if (rooms.has(record.id)) return undefined;
      store.saveSession(record);
      const room = new Room(record, {
        store,
        log: silentLogger,
        now: () => clock,
        sign: (claims) => signToken(keys, claims),
        bindings: null,
      });
      rooms.set(record.id, room);
      return room;
    },
  };
  app = createSessionApi({
    keys,
    now: () => clock,
    rooms: directory,
    limits: {
      create: new RateLimiter(RATE_LIMITS.create),
      read: new RateLimiter(RATE_LIMITS.read),
      token: new RateLimiter(RATE_LIMITS.token),
      write: new RateLimiter(RATE_LIMITS.write),
    },
    // The test's stand-in for the host's client-IP logic.
    clientIp: (req) => req.headers.get('x-test-ip') ?? DEFAULT_IP,
    publicBase: () => 'https://punch.test',
    log: silentLogger,
  });
});

// ---- helpers ----------------------------------------------------------------------------------

function postJson(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return Promise.resolve(
    app.request('/api/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    }),
  );
}

/** Asserts an RFC 9457 problem response with exactly the five documented members. */
async function expectProblem(res: Response, status: number, code: ErrorCode): Promise<void> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const text = await res.text();
  const body = JSON.parse(text) as Record<string, unknown>;
  expect(Object.keys(body).sort()).toEqual(['code', 'detail', 'status', 'title', 'type']);
  expect(body.code).toBe(code);
  expect(body.status).toBe(status);
  expect(body.title).toBe(ERRORS[code].title);
  expect(body.type).toBe(`https://punch.dev/errors#${code}`);
  expect(typeof body.detail).toBe('string');
  expect(text).not.toMatch(/stack|\bat \S+ \(|node_modules|\.ts:\d+/);
}

/** A JSON body of exactly `bytes` bytes (padded with JSON whitespace). */
function paddedBody(bytes: number, value: unknown = {}): string {
  const json = JSON.stringify(value);
  return json.slice(0, -1) + ' '.repeat(bytes - json.length) + json.slice(-1);
}

async function createSession(name: string): Promise<{ token: string }> {
  const res = await postJson({ name, streams: ['cam-wide', 'cam-close'] });
  expect(res.status).toBe(201);
  return (await res.json()) as { token: string };
}

// ---- tests ------------------------------------------------------------------------------------

describe('POST /api/session: success', () => {
  it('creates with defaults from an empty body and returns a working admin token', async () => {
    const res = await app.request('/api/session', { method: 'POST' });
    expect(res.status).toBe(201);
    const body = (await res.json()) as {
      session: string;
      token: string;
      expiresAt: number;
      streams: string[];
      urls: Record<string, string>;
    };
    expect(body.session).toMatch(/^s-[a-z0-9]+$/);
    expect(body.streams).toEqual(['main']);
    expect(body.expiresAt).toBe(T0 / 1000 + TTL_DEFAULT);
    expect(body.urls).toEqual({
      dashboard: `https://punch.test/session/${body.session}`,
      api: `https://punch.test/api/session/${body.session}`,
      ws: `wss://punch.test/api/session/${body.session}/ws`,
    });
    const v = await verifyToken(keys, body.token, { session: body.session, now: T0 / 1000 });
    expect(v.claims).toMatchObject({ role: 'admin', stream: null, exp: body.expiresAt });
    expect(rooms.get(body.session)?.record.passphrase).toMatch(/^[A-Za-z0-9]{32}$/);
  });

  it('accepts application/json with parameters and +json types', async () => {
    expect(
      (await postJson({ name: 'show-a' }, { 'content-type': 'application/json; charset=utf-8' }))
        .status,
    ).toBe(201);
    expect(
      (await postJson({ name: 'show-b' }, { 'content-type': 'application/merge-patch+json' }))
        .status,
    ).toBe(201);
  });

  it(`accepts a body of exactly ${MAX_BODY_BYTES} bytes`, async () => {
    const body = paddedBody(MAX_BODY_BYTES, { name: 'big-show' });
    expect(new TextEncoder().encode(body).byteLength).toBe(MAX_BODY_BYTES);
    const res = await postJson(body);
    expect(res.status).toBe(201);
  });
});

describe('POST /api/session: body validation', () => {
  it('415 for a body that is not application/json', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'text/json']) {
      const res = await postJson({ name: 'show' }, { 'content-type': type });
      await expectProblem(res, 415, 'ERR_UNSUPPORTED_MEDIA_TYPE');
    }
    // A string body without a content type is sent as text/plain by fetch.
    const res = await app.request('/api/session', { method: 'POST', body: '{"name":"show"}' });
    await expectProblem(res, 415, 'ERR_UNSUPPORTED_MEDIA_TYPE');
    expect(rooms.size).toBe(0);
  });

  it(`413 for a body over ${MAX_BODY_BYTES} bytes`, async () => {
    await expectProblem(
      await postJson(paddedBody(MAX_BODY_BYTES + 1, { name: 'show' })),
      413,
      'ERR_PAYLOAD_TOO_LARGE',
    );
    // Refused on the declared length alone.
    await expectProblem(
      await postJson('{}', { 'content-length': String(MAX_BODY_BYTES + 1) }),
      413,
      'ERR_PAYLOAD_TOO_LARGE',
    );
    expect(rooms.size).toBe(0);
  });

  it('413 for a streamed body with no content-length, without reading it all', async () => {
    let pulled = 0;
    const chunk = new TextEncoder().encode(' '.repeat(1024));
    // An endless body: the server must stop reading once past the limit.
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"name":"show"'));
      },
      pull(controller) {
        pulled += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const req = new Request('http://localhost/api/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(req.headers.get('content-length')).toBeNull();
    const res = await app.request(req);
    await expectProblem(res, 413, 'ERR_PAYLOAD_TOO_LARGE');
    expect(pulled).toBeGreaterThan(MAX_BODY_BYTES - 1024);
    expect(pulled).toBeLessThan(MAX_BODY_BYTES + 64 * 1024);
    expect(rooms.size).toBe(0);
  });

  it('400 for invalid JSON', async () => {
    for (const body of ['{', '{"name":}', "{'name':'show'}", 'null x', '\u00ff']) {
      await expectProblem(await postJson(body), 400, 'ERR_BAD_REQUEST');
    }
  });

  it('400 for JSON that is not an object of the documented shape', async () => {
    for (const body of ['null', '[]', '"show"', '42']) {
      await expectProblem(await postJson(body), 400, 'ERR_BAD_REQUEST');
    }
  });

  it('400 for unknown fields', async () => {
    for (const body of [
      { name: 'show', admin: true },
      { passphrase: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' },
      { ttl: 60, __proto__x: 1 },
    ]) {
      await expectProblem(await postJson(body), 400, 'ERR_BAD_REQUEST');
    }
    expect(rooms.size).toBe(0);
  });

  it('400 for invalid session and stream names', async () => {
    const bad = ['Show', 'a', 'x'.repeat(64), 'cam_1', '-cam', 'cam wide', 'café', '', 'cam/1'];
    for (const name of bad) {
      const res = await postJson({ name }, { 'x-test-ip': `198.51.100.${bad.indexOf(name)}` });
      await expectProblem(res, 400, 'ERR_BAD_REQUEST');
    }
    for (const streams of [['CAM'], ['cam-1', 'cam-1'], [], ['ok-1', 'no_2']]) {
      const res = await postJson({ streams }, { 'x-test-ip': '192.0.2.77' });
      await expectProblem(res, 400, 'ERR_BAD_REQUEST');
    }
    expect(rooms.size).toBe(0);
    // The edges are valid.
    expect((await postJson({ name: 'x'.repeat(63) }, { 'x-test-ip': '192.0.2.78' })).status).toBe(
      201,
    );
  });

  it('400 for TTLs outside their bounds or not integers', async () => {
    for (const ttl of [TTL_MIN - 1, TTL_MAX + 1, 60.5, '60', -1]) {
      const res = await postJson({ ttl }, { 'x-test-ip': `192.0.2.${String(ttl).length}` });
      await expectProblem(res, 400, 'ERR_BAD_REQUEST');
    }
  });

  it('the detail names the offending field', async () => {
    const res = await postJson({ name: 'show', streams: ['Bad'] });
    const body = (await res.json()) as { detail: string };
    expect(body.detail).toContain('streams');
  });
});

describe('POST /api/session: conflicts and limits', () => {
  it('503 ERR_CAPACITY with Retry-After when the host is full; nothing is created', async () => {
    full = true;
    const res = await postJson({ name: 'one-too-many' });
    expect(res.headers.get('retry-after')).toBe('30');
    await expectProblem(res, 503, 'ERR_CAPACITY');
    expect(rooms.size).toBe(0);
    full = false;
    expect((await postJson({ name: 'one-too-many' })).status).toBe(201);
  });

  it('a create over the cap (24 h by default) is 400; at the cap it is granted; an extension ends at the cap', async () => {
    await expectProblem(await postJson({ ttl: 86_401 }), 400, 'ERR_BAD_REQUEST');
    const res = await postJson({ ttl: 86_400 });
    expect(res.status).toBe(201);
    const created = (await res.json()) as { expiresAt: number; session: string; token: string };
    expect(created.expiresAt).toBe(T0 / 1000 + 86_400);
    // An extension asking for more than the cap is granted up to the cap.
    clock = T0 + 3_600_000;
    const ext = await app.request(`/api/session/${created.session}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${created.token}` },
      body: JSON.stringify({ ttl: 7 * 86_400 }),
    });
    expect(ext.status).toBe(200);
    expect(((await ext.json()) as { expiresAt: number }).expiresAt).toBe(T0 / 1000 + 3600 + 86_400);
  });

  it('409 ERR_SESSION_EXISTS when the name is taken', async () => {
    expect((await postJson({ name: 'nab-floor' })).status).toBe(201);
    const passphrase = rooms.get('nab-floor')!.record.passphrase;
    await expectProblem(await postJson({ name: 'nab-floor' }), 409, 'ERR_SESSION_EXISTS');
    // The first session is untouched.
    expect(rooms.get('nab-floor')!.record.passphrase).toBe(passphrase);
  });

  it('429 with Retry-After after 10 creates per minute per IP', async () => {
    for (let i = 0; i < 10; i++) {
      expect((await postJson({ name: `show-${i}` })).status).toBe(201);
    }
    const limited = await postJson({ name: 'show-10' });
    expect(limited.headers.get('retry-after')).toBe('60');
    await expectProblem(limited, 429, 'ERR_RATE_LIMITED');
    expect(rooms.has('show-10')).toBe(false);

    clock = T0 + 30_000;
    const later = await postJson({ name: 'show-10' });
    expect(later.headers.get('retry-after')).toBe('30');
    await expectProblem(later, 429, 'ERR_RATE_LIMITED');

    // Another IP has its own budget.
    expect((await postJson({ name: 'other-ip' }, { 'x-test-ip': '198.51.100.9' })).status).toBe(
      201,
    );

    // A new window after a minute.
    clock = T0 + 60_000;
    expect((await postJson({ name: 'show-10' })).status).toBe(201);
  });

  it('an unexpected failure is a 500 problem that does not leak the error', async () => {
    createImpl = () => {
      throw new Error('SQLITE_FULL: /var/lib/punch/punch.db secret=hunter2');
    };
    const res = await postJson({ name: 'show' });
    await expectProblem(res.clone(), 500, 'ERR_INTERNAL');
    const text = await res.text();
    expect(text).not.toContain('SQLITE');
    expect(text).not.toContain('hunter2');
  });
});

describe('other routes use the same body rules', () => {
  async function admin(): Promise<string> {
    return (await createSession('show')).token;
  }

  it('PATCH /api/session/:id refuses unknown fields and bad TTLs with 400', async () => {
    const token = await admin();
    for (const body of [{ ttl: 600, name: 'x' }, { ttl: 1 }, {}]) {
      const res = await app.request('/api/session/show', {
        method: 'PATCH',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      await expectProblem(res, 400, 'ERR_BAD_REQUEST');
    }
    const empty = await app.request('/api/session/show', {
      method: 'PATCH',
      headers: { authorization: `Bearer ${token}` },
    });
    await expectProblem(empty, 400, 'ERR_BAD_REQUEST');
  });

  it('PUT tally: 415 for a non-JSON body, 400 for an invalid stream name', async () => {
    const token = await admin();
    const textRes = await app.request('/api/session/show/tally', {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
      body: '{"program":[],"preview":[]}',
    });
    await expectProblem(textRes, 415, 'ERR_UNSUPPORTED_MEDIA_TYPE');
    const badName = await app.request('/api/session/show/tally', {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{"program":["CAM"],"preview":[]}',
    });
    await expectProblem(badName, 400, 'ERR_BAD_REQUEST');
  });

  it('POST tokens: a body over the limit is 413 before anything else', async () => {
    const token = await admin();
    const res = await app.request('/api/session/show/tokens', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: paddedBody(MAX_BODY_BYTES + 1, { stream: 'cam-wide' }),
    });
    await expectProblem(res, 413, 'ERR_PAYLOAD_TOO_LARGE');
  });

  it('errors from auth and permissions are problems too (401, 403)', async () => {
    await admin();
    const none = await app.request('/api/session/show');
    await expectProblem(none, 401, 'ERR_UNAUTHENTICATED');
    const peer: TokenClaims = {
      session: 'show',
      role: 'peer',
      stream: 'cam-wide',
      exp: T0 / 1000 + 600,
      sid: rooms.get('show')!.record.instance,
    };
    const res = await app.request('/api/session/show', {
      method: 'DELETE',
      headers: { authorization: `Bearer ${await signToken(keys, peer)}` },
    });
    await expectProblem(res, 403, 'ERR_FORBIDDEN');
    expect(rooms.get('show')!.closed).toBe(false);
  });

  it('unknown routes are a 404 problem', async () => {
    await expectProblem(await app.request('/api/nope'), 404, 'ERR_NOT_FOUND');
  });
});
