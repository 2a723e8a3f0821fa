import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyRing, signToken } from '@punch/core';
import { startHost, type Host } from './host.js';
import {
  WsClient,
  call,
  codeOf,
  createSession,
  peerToken,
  refusedUpgrade,
  sidOf,
  type Created,
} from './client.js';

let host: Host;
let s: Created;

beforeAll(async () => {
  host = await startHost();
  s = await createSession(host.url, { streams: ['cam-wide', 'cam-close'] });
});
afterAll(async () => {
  await host.stop();
});

/** Signs claims for this test's session with the host's secret (same instance unless told). */
const mint = async (
  claims: { session: string; role: 'admin' | 'peer'; stream: string | null; exp: number },
  secret = host.secret,
  sid = sidOf(s.token),
) => signToken(await KeyRing.fromSecrets(secret), { ...claims, sid });

/** Replaces one character of `text` at `index` with a different base64url character. */
const flip = (text: string, index: number): string =>
  text.slice(0, index) + (text[index] === 'A' ? 'B' : 'A') + text.slice(index + 1);

describe('token verification', () => {
  const cases: [string, () => string | Promise<string>, string][] = [
    ['wrong prefix', () => 'q_' + s.token.slice(2), 'ERR_TOKEN_MALFORMED'],
    ['no dot', () => s.token.replace('.', ''), 'ERR_TOKEN_MALFORMED'],
    ['truncated signature', () => s.token.slice(0, -5), 'ERR_TOKEN_MALFORMED'],
    ['not base64url', () => s.token.replace('p_', 'p_$'), 'ERR_TOKEN_MALFORMED'],
    ['huge', () => 'p_' + 'A'.repeat(5000) + '.' + 'A'.repeat(43), 'ERR_TOKEN_MALFORMED'],
    ['payload tampered', () => flip(s.token, 10), 'ERR_TOKEN_SIGNATURE'],
    ['signature tampered', () => flip(s.token, s.token.length - 3), 'ERR_TOKEN_SIGNATURE'],
    [
      'payload swapped for an admin claim of another token',
      async () => {
        const peer = await peerToken(host.url, s, 'cam-wide');
        return `${s.token.split('.')[0] ?? ''}.${peer.split('.')[1] ?? ''}`;
      },
      'ERR_TOKEN_SIGNATURE',
    ],
    [
      'signed with another secret',
      async () =>
        mint(
          { session: s.session, role: 'admin', stream: null, exp: s.expiresAt },
          'another-secret-that-is-long-enough-0123456789',
        ),
      'ERR_TOKEN_SIGNATURE',
    ],
    [
      'expired',
      async () =>
        mint({
          session: s.session,
          role: 'admin',
          stream: null,
          exp: Math.floor(Date.now() / 1000) - 1,
        }),
      'ERR_TOKEN_EXPIRED',
    ],
    [
      'for another session',
      async () => (await createSession(host.url)).token,
      'ERR_TOKEN_WRONG_SESSION',
    ],
  ];

  for (const [name, make, code] of cases) {
    it(`HTTP refuses a token with ${name}: 401 ${code}`, async () => {
      const r = await call(host.url, 'GET', `/api/session/${s.session}`, { token: await make() });
      expect(r.status).toBe(401);
      expect(codeOf(r)).toBe(code);
      expect(r.headers['content-type']).toMatch(/application\/problem\+json/);
    });
    it(`WebSocket upgrade refuses a token with ${name}: 401 ${code}`, async () => {
      const refused = await refusedUpgrade(host.url, s.session, await make());
      expect(refused.status).toBe(401);
      expect(refused.code).toBe(code);
    });
  }

  it('refuses a missing token with ERR_UNAUTHENTICATED on every session route', async () => {
    const routes: [string, string][] = [
      ['GET', ''],
      ['PATCH', ''],
      ['DELETE', ''],
      ['POST', '/tokens'],
      ['GET', '/connect'],
      ['PUT', '/tally'],
      ['GET', '/health'],
      ['GET', '/ws'],
    ];
    for (const [method, suffix] of routes) {
      const r = await call(host.url, method, `/api/session/${s.session}${suffix}`);
      expect([method, suffix, r.status, codeOf(r)]).toEqual([
        method,
        suffix,
        401,
        'ERR_UNAUTHENTICATED',
      ]);
    }
    expect((await refusedUpgrade(host.url, s.session, undefined)).code).toBe('ERR_UNAUTHENTICATED');
  });

  it('accepts the token as a bearer header or a punch.token subprotocol, and answers punch.v1', async () => {
    for (const via of ['header', 'protocol'] as const) {
      const c = await WsClient.connect(host.url, s.session, s.token, { via });
      expect(c.ws.protocol).toBe('punch.v1');
      const welcome = await c.next('welcome');
      expect(welcome).toMatchObject({
        session: s.session,
        role: 'admin',
        stream: null,
        expiresAt: s.expiresAt,
      });
      c.close();
    }
  });

  it('does not take a token from the URL query', async () => {
    const refused = await refusedUpgrade(host.url, s.session, undefined, {
      query: `?token=${s.token}`,
    });
    expect(refused.status).toBe(401);
    const r = await call(host.url, 'GET', `/api/session/${s.session}?token=${s.token}`);
    expect(r.status).toBe(401);
  });

  it('a token that expired while its socket was open ends that socket', async () => {
    const exp = Math.floor(Date.now() / 1000) + 2;
    const shortLived = await mint({ session: s.session, role: 'peer', stream: 'cam-wide', exp });
    const c = await WsClient.connect(host.url, s.session, shortLived);
    await c.next('welcome');
    const err = await c.next('error', (m) => m.code === 'ERR_TOKEN_EXPIRED', 6000);
    expect(err.code).toBe('ERR_TOKEN_EXPIRED');
    expect(await c.closed).toBe(4401);
  });

  it('a token minted for the session without its instance id is refused', async () => {
    const r = await call(host.url, 'GET', `/api/session/${s.session}`, {
      token: await signToken(await KeyRing.fromSecrets(host.secret), {
        session: s.session,
        role: 'admin',
        stream: null,
        exp: s.expiresAt,
      }),
    });
    expect([r.status, codeOf(r)]).toEqual([401, 'ERR_TOKEN_WRONG_SESSION']);
  });

  it('tokens of a closed session never open a new session created under the same name', async () => {
    const first = await createSession(host.url, { streams: ['cam-1'] });
    const oldPeer = await peerToken(host.url, first, 'cam-1');
    expect(
      (await call(host.url, 'DELETE', `/api/session/${first.session}`, { token: first.token }))
        .status,
    ).toBe(204);
    const second = await createSession(host.url, { name: first.session, streams: ['cam-1'] });
    for (const token of [first.token, oldPeer]) {
      const r = await call(host.url, 'GET', `/api/session/${second.session}`, { token });
      expect([r.status, codeOf(r)]).toEqual([401, 'ERR_TOKEN_WRONG_SESSION']);
      expect((await refusedUpgrade(host.url, second.session, token)).code).toBe(
        'ERR_TOKEN_WRONG_SESSION',
      );
    }
    const connect = await call(host.url, 'GET', `/api/session/${second.session}/connect`, {
      token: first.token,
    });
    expect(connect.status).toBe(401);
    expect(
      (await call(host.url, 'GET', `/api/session/${second.session}`, { token: second.token }))
        .status,
    ).toBe(200);
  });
});
