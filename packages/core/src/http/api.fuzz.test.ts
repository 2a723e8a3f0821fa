/**
 * Property tests of the HTTP API (docs/fuzzing.md): the sessions and projects routes of one
 * Hono app, driven by `app.fetch` with arbitrary methods, paths, credentials, content types and
 * bodies. Every refusal is a problem+json with a code from ERRORS and that code's 4xx status;
 * nothing is ever a 500, and nothing reaches the error log.
 */
import fc from 'fast-check';
import type { Hono } from 'hono';
import { beforeAll, expect } from 'vitest';
import { ERRORS, type ErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';
import { silentLogger } from '../logger.js';
import { hashAccountKey, newAccountKey } from '../project/account.js';
import { KeyDirectory } from '../project/directory.js';
import { RateLimiter } from '../ratelimit.js';
import type { SessionRecord, SessionStore } from '../session/record.js';
import { Room } from '../session/room.js';
import { clientMessage, streamName } from '../test/arbitraries.js';
import { fuzzFile, jsonish, mutateObject } from '../test/fuzz.js';
import { MemoryProjectStore } from '../test/project-store.js';
import { KeyRing, signToken } from '../token/token.js';
import { createSessionApi } from './api.js';

const fuzzIt = fuzzFile('http');

const T0 = 1_741_234_000_000;
const T0S = T0 / 1000;
const SID = 'inst0001';
const NO_LIMIT = { limit: 1e12, windowMs: 60_000 };

const store: SessionStore = {
  saveSession() {},
  appendHealth() {},
  healthHistory: () => [],
  deleteSession() {},
};

let keys: KeyRing;
const tokens: Record<string, string> = {};
let accountKey: string;
let accountHash: string;
let otherHash: string;

beforeAll(async () => {
  keys = await KeyRing.fromSecrets('http-fuzz-secret-0123456789abcdef-xyz');
  const t = (role: 'admin' | 'peer', stream: string | null, exp = T0S + 3600): Promise<string> =>
    signToken(keys, { session: 'show', role, stream, exp, sid: SID });
  tokens.admin = await t('admin', null);
  tokens.peer = await t('peer', 'cam-wide');
  tokens.peerAll = await t('peer', null);
  tokens.expired = await t('admin', null, T0S - 1);
  tokens.otherSession = await signToken(keys, {
    session: 'gone',
    role: 'admin',
    stream: null,
    exp: T0S + 60,
  });
  accountKey = newAccountKey();
  tokens.account = accountKey;
  tokens.otherAccount = newAccountKey();
  accountHash = await hashAccountKey(accountKey);
  otherHash = await hashAccountKey(tokens.otherAccount);
});

/** A fresh world per input: one session `show`, one project `pr-one` of account `alice`. */
function world(errors: unknown[]): Hono {
  const log: Logger = { ...silentLogger, error: (fields) => errors.push(fields) };
  const rooms = new Map<string, Room>();
  const roomFor = (record: SessionRecord): Room =>
    new Room(record, {
      store,
      log,
      now: () => T0,
      sign: (c) => signToken(keys, c),
      bindings: null,
    });
  const show: SessionRecord = {
    id: 'show',
    instance: SID,
    streams: ['cam-wide', 'cam-close'],
    passphrase: 'AbCdEfGhIjKlMnOpQrStUvWxYz012345',
    pbkeylen: 24,
    latencyMs: 250,
    relay: 'auto',
    createdAt: T0S,
    expiresAt: T0S + 1800,
    tally: { program: [], preview: [] },
  };
  rooms.set('show', roomFor(show));
  const projects = new MemoryProjectStore();
  projects.addAccount('alice', accountHash);
  projects.addAccount('bob', otherHash);
  void projects.createProject({ id: 'pr-one', name: 'one', createdAt: T0S }, 'alice');
  const limiter = (): RateLimiter => new RateLimiter(NO_LIMIT);
  const clientIp = (): string => '203.0.113.9';
  return createSessionApi({
    keys,
    now: () => T0,
    rooms: {
      get: (id) => rooms.get(id),
      create: (record) => {
        if (rooms.has(record.id)) return undefined;
        const room = roomFor(record);
        rooms.set(record.id, room);
        return room;
      },
    },
    limits: { create: limiter(), read: limiter(), token: limiter(), write: limiter() },
    clientIp,
    publicBase: () => 'https://punch.test',
    log,
    projects: {
      store: projects,
      keys: new KeyDirectory(projects),
      now: () => T0,
      log,
      limiter: limiter(),
      clientIp,
      onKeyDeleted: () => undefined,
      onProjectDeleted: () => undefined,
    },
  });
}

// ---- requests ---------------------------------------------------------------------------------

/** A path segment: a known id, an encoded string, or raw text with stray `%` and slashes. */
const segment = (known: readonly string[]): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...known) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }).map(encodeURIComponent) },
    { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9%._~!$&'()*+,;=:@-]{0,20}$/) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('%', '%E0%A4%A', '%zz', '%00', '..', '%2F', 'a'.repeat(300)),
    },
  );
const query = (): fc.Arbitrary<string> =>
  fc
    .array(
      fc.tuple(
        fc.constantFrom('stream', 'limit', 'since', 'x'),
        fc.oneof(segment(['cam-wide', '10', '-1', '1e309', 'NaN'])),
      ),
      { maxLength: 3 },
    )
    .map((kv) => (kv.length === 0 ? '' : `?${kv.map(([k, v]) => `${k}=${v}`).join('&')}`));

/** Any path: the API's own routes with odd ids and queries, and paths that are none. */
const anyPath = (): fc.Arbitrary<string> =>
  fc.oneof(
    fc
      .tuple(
        fc.constantFrom('', '/tokens', '/connect', '/tally', '/health', '/ws', '/x'),
        segment(['show', 'gone', 'Show']),
        query(),
      )
      .map(([tail, id, q]) => `/api/session/${id}${tail}${q}`),
    fc
      .tuple(
        fc.constantFrom('', '/members', '/keys', '/jwks', '/audit', '/members/bob', '/keys/kid'),
        segment(['pr-one', 'pr-none']),
        query(),
      )
      .map(([tail, id, q]) => `/api/projects/${id}${tail}${q}`),
    fc.constantFrom(
      '/api/session',
      '/api/projects',
      '/api/signal',
      '/healthz',
      '/api/openapi.json',
      '/session/show',
      '/',
      '/api',
      '/api/accounts',
    ),
    fc
      .array(segment(['api', 'session', 'show', 'projects']), { maxLength: 5 })
      .map((s) => `/${s.join('/')}`),
  );

/** The routes as the app has them (method and path), ids mostly real: most inputs reach a handler. */
const ROUTES: readonly [string, string, BodyKind?][] = [
  ['POST', '/api/session', 'create'],
  ['GET', '/api/session/:s'],
  ['PATCH', '/api/session/:s', 'extend'],
  ['DELETE', '/api/session/:s'],
  ['POST', '/api/session/:s/tokens', 'token'],
  ['GET', '/api/session/:s/connect'],
  ['PUT', '/api/session/:s/tally', 'tally'],
  ['GET', '/api/session/:s/health'],
  ['GET', '/api/session/:s/ws'],
  ['POST', '/api/projects', 'project'],
  ['GET', '/api/projects'],
  ['GET', '/api/projects/:p'],
  ['DELETE', '/api/projects/:p'],
  ['GET', '/api/projects/:p/members'],
  ['POST', '/api/projects/:p/members', 'member'],
  ['DELETE', '/api/projects/:p/members/:m'],
  ['POST', '/api/projects/:p/keys', 'key'],
  ['GET', '/api/projects/:p/keys'],
  ['DELETE', '/api/projects/:p/keys/:k'],
  ['GET', '/api/projects/:p/jwks'],
  ['GET', '/api/projects/:p/audit'],
];
const route = (): fc.Arbitrary<{
  method: string;
  path: string;
  realm: 'session' | 'project';
  kind: BodyKind;
}> =>
  fc
    .tuple(
      fc.constantFrom(...ROUTES),
      segment(['show']),
      segment(['pr-one']),
      segment(['alice', 'bob', 'carol']),
      segment(['kid']),
      query(),
    )
    .map(([[method, template, kind], sid, pid, member, kid, q]) => ({
      method,
      kind: kind ?? ('none' as const),
      realm: template.startsWith('/api/session') ? ('session' as const) : ('project' as const),
      path:
        template.replace(':s', sid).replace(':p', pid).replace(':m', member).replace(':k', kid) + q,
    }));

/** Credentials: mostly the realm's own (tokens of `show`, or alice's account key), then anything. */
const auth = (realm: 'session' | 'project'): fc.Arbitrary<string | undefined> =>
  fc.oneof(
    {
      weight: 8,
      arbitrary: (realm === 'session'
        ? fc.constantFrom('admin', 'admin', 'peer', 'peerAll')
        : fc.constantFrom('account')
      ).map((k) => `Bearer ${tokens[k] ?? ''}`),
    },
    fc.constant(undefined),
    fc
      .constantFrom('expired', 'otherSession', 'account', 'otherAccount', 'admin')
      .map((k) => `Bearer ${tokens[k] ?? ''}`),
    fc.string({ maxLength: 40 }),
    fc.string({ maxLength: 60 }).map((s) => `Bearer ${s}`),
    fc.stringMatching(/^p_[A-Za-z0-9_-]{1,40}\.[A-Za-z0-9_-]{43}$/).map((s) => `Bearer ${s}`),
    fc.stringMatching(/^pa_[A-Za-z0-9_-]{43}$/).map((s) => `Bearer ${s}`),
  );

type BodyKind = 'create' | 'extend' | 'token' | 'tally' | 'project' | 'member' | 'key' | 'none';

/** Valid (or nearly valid) bodies for each kind of route. */
const BODIES: Record<BodyKind, fc.Arbitrary<Record<string, unknown>>> = {
  create: fc.record(
    {
      name: streamName(),
      ttl: fc.integer({ min: 0, max: 400_000 }),
      streams: fc.array(streamName(), { minLength: 1, maxLength: 4 }),
      pbkeylen: fc.constantFrom(16, 24, 32, 0),
      latencyMs: fc.integer({ min: 0, max: 9000 }),
      relay: fc.constantFrom('auto', 'always'),
    },
    { requiredKeys: [] },
  ),
  extend: fc.record({ ttl: fc.integer({ min: -10, max: 400_000 }) }),
  token: fc.record(
    { stream: fc.option(streamName(), { nil: null }), ttl: fc.integer({ min: 0, max: 10_000 }) },
    { requiredKeys: ['stream'] },
  ),
  tally: fc.record({
    program: fc.array(streamName(), { maxLength: 3 }),
    preview: fc.array(streamName(), { maxLength: 3 }),
  }),
  project: fc.record({ name: fc.string({ maxLength: 70 }) }),
  member: fc.record({ account: fc.constantFrom('alice', 'bob', 'carol', 'Bob') }),
  key: fc.oneof(
    fc.record({ alg: fc.constantFrom('EdDSA', 'ES256', 'RS256') }, { requiredKeys: [] }),
    fc.record(
      {
        publicJwk: fc.oneof(
          fc.dictionary(
            fc.constantFrom('kty', 'crv', 'x', 'y', 'd', 'alg'),
            fc.oneof(
              fc.constantFrom('OKP', 'EC', 'Ed25519', 'P-256'),
              fc.base64String({ maxLength: 44 }),
            ),
          ),
          fc.constant({
            kty: 'OKP',
            crv: 'Ed25519',
            x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo',
          }),
          fc.constant({
            kty: 'EC',
            crv: 'P-256',
            x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
            y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
          }),
        ),
        proof: fc.oneof(fc.string({ maxLength: 40 }), fc.constant('eyJhbGciOiJFZERTQSJ9.e30.AAAA')),
      },
      { requiredKeys: ['publicJwk'] },
    ),
  ),
  none: clientMessage(),
};

const body = (kind: BodyKind): fc.Arbitrary<string | undefined> => {
  const valid = fc.oneof(
    { weight: 3, arbitrary: BODIES[kind] },
    { weight: 1, arbitrary: BODIES.none },
  );
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant(undefined) },
    { weight: 4, arbitrary: valid.map((b) => JSON.stringify(b)) },
    { weight: 3, arbitrary: mutateObject(valid).map((b) => JSON.stringify(b)) },
    { weight: 2, arbitrary: jsonish().map((v) => JSON.stringify(v) ?? '') },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 100 }) },
    {
      weight: 1,
      arbitrary: fc
        .integer({ min: 16 * 1024 - 8, max: 16 * 1024 + 8 })
        .map((n) => `{"name":"${'a'.repeat(n)}"}`),
    },
  );
};

const request = (): fc.Arbitrary<Request> =>
  fc
    .record({
      at: fc.oneof(
        { weight: 4, arbitrary: route() },
        {
          weight: 1,
          arbitrary: fc.record({
            method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'),
            path: anyPath(),
            realm: fc.constantFrom('session' as const, 'project' as const),
            kind: fc.constantFrom<BodyKind>('none', 'create', 'tally'),
          }),
        },
      ),
      type: fc.option(
        fc.oneof(
          { weight: 4, arbitrary: fc.constant('application/json') },
          fc.constantFrom(
            'application/json',
            'application/problem+json',
            'application/json; charset=utf-8',
            'text/plain',
            'multipart/form-data; boundary=x',
            'APPLICATION/JSON',
          ),
          fc.stringMatching(/^[ -~]{0,30}$/),
        ),
        { nil: undefined, freq: 6 },
      ),
      protocol: fc.option(fc.constantFrom('punch.v1', `punch.v1, punch.token.junk`), {
        nil: undefined,
      }),
    })
    .chain((r) =>
      fc.tuple(auth(r.at.realm), body(r.at.kind)).map(([a, b]) => ({ ...r, auth: a, body: b })),
    )
    .map((r) => {
      const headers = new Headers();
      if (r.auth !== undefined) headers.set('authorization', r.auth);
      if (r.type !== undefined) headers.set('content-type', r.type);
      if (r.protocol !== undefined) headers.set('sec-websocket-protocol', r.protocol);
      const { method, path } = r.at;
      const hasBody = r.body !== undefined && method !== 'GET' && method !== 'HEAD';
      return new Request(`https://punch.test${path}`, {
        method,
        headers,
        body: hasBody ? (r.body ?? null) : null,
      });
    });

fuzzIt(
  'every answer is a success or a table error with its 4xx status; never a 500, never logged',
  2_000,
  fc.asyncProperty(fc.array(request(), { minLength: 1, maxLength: 3 }), async (requests) => {
    const errors: unknown[] = [];
    const app = world(errors);
    for (const req of requests) {
      const what = `${req.method} ${req.url}`;
      const res = await app.fetch(req);
      expect(res.status, what).toBeLessThan(500);
      expect(errors, what).toEqual([]);
      if (res.status < 400) {
        await res.arrayBuffer();
        continue;
      }
      expect(res.headers.get('content-type'), what).toMatch(/^application\/problem\+json/);
      if (req.method === 'HEAD') continue;
      const problem = (await res.json()) as { code: string; status: number };
      expect(Object.keys(ERRORS), what).toContain(problem.code);
      expect(ERRORS[problem.code as ErrorCode].status, what).toBe(res.status);
      expect(problem.status).toBe(res.status);
    }
  }),
  60_000,
);
