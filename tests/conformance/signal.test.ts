/**
 * Signalling on `/api/signal` (DESIGN.md "Projects realm"): peer tokens at the upgrade, delivery
 * only when both policies allow it, replacement instead of "ID taken", key deletion closing live
 * sockets, token refresh without a reconnect, ICE servers, audit, and bad input of every kind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, base64url } from 'jose';
import { call, codeOf, type WsClient } from './client.js';
import { CAN, startHost, type Host } from './host.js';
import {
  keyProof,
  mint,
  newAccount,
  newProject,
  signal,
  signalRefused,
  uploadKey,
  type Account,
  type ProjectKey,
} from './projects-client.js';

describe('signalling', () => {
  let host: Host;
  let ada: Account;
  let project: string;
  let key: ProjectKey;
  const open: WsClient[] = [];

  async function connect(token: string): Promise<WsClient> {
    const c = await signal(host.url, token);
    open.push(c);
    await c.next('welcome');
    return c;
  }

  const peerOf = (group: string, peer: string, allow?: { group: string; peer: string }[]) =>
    mint(key, { group, peer, ...(allow === undefined ? {} : { allow }) });

  beforeAll(async () => {
    host = await startHost();
    ada = await newAccount(host, 'ada');
    project = await newProject(host.url, ada, 'calls');
    key = await uploadKey(host.url, ada, project);
  });
  afterAll(async () => {
    for (const c of open) c.close();
    await host.stop();
  });

  describe('welcome', () => {
    it('carries project, group, peer, expiry and Punch STUN in RTCIceServer form', async () => {
      const token = await mint(key, { group: 'room-1', peer: 'alice', ttl: 300 });
      const c = await signal(host.url, token);
      open.push(c);
      const w = await c.next('welcome');
      expect(w).toMatchObject({ project, group: 'room-1', peer: 'alice' });
      expect(w.expiresAt).toBeGreaterThan(Date.now() / 1000 + 200);
      // Punch's own STUN and TURN where the host has them; Workers has no UDP (and no TURN
      // configured here).
      const ice = w.iceServers as { urls: string[]; username?: string; credential?: string }[];
      expect(ice[0]).toEqual(CAN.stun ? { urls: [`stun:127.0.0.1:${host.stunPort}`] } : undefined);
      if (CAN.relay) {
        expect(ice).toHaveLength(2);
        expect(ice[1]?.urls).toEqual([
          `turn:127.0.0.1:${host.stunPort}?transport=udp`,
          `turn:127.0.0.1:${host.stunPort}?transport=tcp`,
        ]);
        // Expiring with the token, never later, and usable on the relay (turn.test.ts).
        const exp = Number(ice[1]?.username?.split(':')[0]);
        expect(ice[1]?.username).toBe(`${exp}:alice`);
        expect(exp).toBe(w.expiresAt);
        expect(ice[1]?.credential).toMatch(/^[A-Za-z0-9+/]{27}=$/);
      } else expect(ice).toHaveLength(CAN.stun ? 1 : 0);
      expect(c.ws.protocol).toBe('punch.v1');
    });

    it('ES256 keys work as EdDSA ones do', async () => {
      const ec = await uploadKey(host.url, ada, project, 'ES256');
      const c = await connect(await mint(ec, { group: 'g', peer: 'ec-peer' }));
      expect(c.all('welcome')).toHaveLength(1);
    });
  });

  describe('relay and policy', () => {
    it('delivers `signal {from, payload}` when both policies allow it, payload untouched', async () => {
      const a = await connect(await peerOf('room-2', 'alice', [{ group: 'room-2', peer: '*' }]));
      const b = await connect(await peerOf('room-2', 'bob', [{ group: 'room-2', peer: 'alice' }]));
      const payload = {
        sdp: { type: 'offer', sdp: 'v=0\r\n…' },
        n: [1, 2, 3],
        nested: { ok: true },
      };
      a.send({ type: 'signal', to: { group: 'room-2', peer: 'bob' }, payload });
      const got = await b.next('signal');
      expect(got).toEqual({ type: 'signal', from: { group: 'room-2', peer: 'alice' }, payload });
      b.send({ type: 'signal', to: { group: 'room-2', peer: 'alice' }, payload: 'answer' });
      expect((await a.next('signal')).payload).toBe('answer');
    });

    it("the sender's own policy refuses → ERR_POLICY_DENIED (with ref); nothing delivered", async () => {
      const a = await connect(await peerOf('p-3', 'alice', [{ group: 'p-3', peer: 'carol' }]));
      const b = await connect(await peerOf('p-3', 'bob'));
      a.send({ type: 'signal', to: { group: 'p-3', peer: 'bob' }, payload: 1, ref: 'offer-1' });
      const e = await a.next('error');
      expect(e).toMatchObject({ code: 'ERR_POLICY_DENIED', ref: 'offer-1' });
      b.send({ type: 'ping' });
      await b.next('pong');
      expect(b.all('signal')).toHaveLength(0);
    });

    it('target refusing the sender and target offline look the same: ERR_PEER_UNAVAILABLE', async () => {
      const a = await connect(await peerOf('p-4', 'alice'));
      await connect(await peerOf('p-4', 'bob', [{ group: 'p-4', peer: 'carol' }]));
      a.send({ type: 'signal', to: { group: 'p-4', peer: 'bob' }, payload: 1, ref: 'r1' });
      const refused = await a.next('error');
      a.send({ type: 'signal', to: { group: 'p-4', peer: 'nobody' }, payload: 1, ref: 'r1' });
      const offline = await a.next('error');
      expect(refused.code).toBe('ERR_PEER_UNAVAILABLE');
      expect(offline.code).toBe('ERR_PEER_UNAVAILABLE');
      // Nothing tells the two apart but the name the sender already knew.
      expect(JSON.stringify(refused).replace('bob', 'X')).toBe(
        JSON.stringify(offline).replace('nobody', 'X'),
      );
    });

    it('wildcard rules: group and peer patterns with one *', async () => {
      const a = await connect(
        await peerOf('team-a', 'desk-1', [{ group: 'team-*', peer: 'desk-*' }]),
      );
      const b = await connect(await peerOf('team-b', 'desk-2', [{ group: '*', peer: '*' }]));
      a.send({ type: 'signal', to: { group: 'team-b', peer: 'desk-2' }, payload: 'hi' });
      expect((await b.next('signal')).from).toEqual({ group: 'team-a', peer: 'desk-1' });
      a.send({ type: 'signal', to: { group: 'team-b', peer: 'phone-2' }, payload: 'hi' });
      expect((await a.next('error')).code).toBe('ERR_POLICY_DENIED');
    });

    it('projects are isolated: the same ids in another project never meet', async () => {
      const other = await newProject(host.url, ada, 'other');
      const otherKey = await uploadKey(host.url, ada, other);
      const a = await connect(await peerOf('g', 'iso-a'));
      const b = await connect(await mint(otherKey, { group: 'g', peer: 'iso-b' }));
      a.send({ type: 'signal', to: { group: 'g', peer: 'iso-b' }, payload: 1 });
      expect((await a.next('error')).code).toBe('ERR_PEER_UNAVAILABLE');
      expect(b.all('signal')).toHaveLength(0);
    });
  });

  describe('identity', () => {
    it('a second connection with the same peer id replaces the first (no "ID taken")', async () => {
      const token = await peerOf('p-5', 'alice');
      const first = await connect(token);
      const second = await connect(await peerOf('p-5', 'alice'));
      expect(await first.closed).toBe(4409);
      expect(first.all('closed')).toEqual([{ type: 'closed', reason: 'replaced' }]);
      const b = await connect(await peerOf('p-5', 'bob'));
      b.send({ type: 'signal', to: { group: 'p-5', peer: 'alice' }, payload: 'to-new' });
      expect((await second.next('signal')).payload).toBe('to-new');
    });

    it('deleting a key closes every connection its tokens opened, at once, with 4401 ERR_KEY_REVOKED', async () => {
      const doomed = await uploadKey(host.url, ada, project);
      const a = await connect(await mint(doomed, { group: 'p-6', peer: 'a' }));
      const b = await connect(await mint(doomed, { group: 'p-6', peer: 'b' }));
      const survivor = await connect(await peerOf('p-6', 'c'));
      const d = await call(host.url, 'DELETE', `/api/projects/${project}/keys/${doomed.kid}`, {
        token: ada.key,
      });
      expect(d.status).toBe(204);
      for (const c of [a, b]) {
        expect(await c.closed).toBe(4401);
        expect(c.all('closed')).toEqual([{ type: 'closed', reason: 'key-deleted' }]);
      }
      survivor.send({ type: 'ping' });
      expect((await survivor.next('pong')).type).toBe('pong');
      const r = await signalRefused(host.url, await mint(doomed, { group: 'p-6', peer: 'a' }));
      expect([r.status, r.code]).toEqual([401, 'ERR_KEY_UNKNOWN']);
    });

    it('revocation is final: a deleted public key re-uploaded anywhere is refused, and its old tokens never open a socket again', async () => {
      // Bob's project and key; his token opens a socket.
      const bob = await newAccount(host, 'bob');
      const bobs = await newProject(host.url, bob, 'bob-app');
      const bobKey = await uploadKey(host.url, bob, bobs);
      const oldToken = await mint(bobKey, { group: 'g', peer: 'bob', ttl: 3600 });
      const live = await connect(oldToken);
      const jwks = await call(host.url, 'GET', `/api/projects/${bobs}/jwks`, { token: bob.key });
      const publicJwk = (jwks.json as { keys: Record<string, unknown>[] }).keys[0];
      expect(publicJwk?.kid).toBe(bobKey.kid);
      // Bob deletes it: the socket closes, the token is refused.
      const del = await call(host.url, 'DELETE', `/api/projects/${bobs}/keys/${bobKey.kid}`, {
        token: bob.key,
      });
      expect(del.status).toBe(204);
      expect(await live.closed).toBe(4401);
      // Eve uploads Bob's public JWK (it is public) into her own project: without a proof, and
      // with a proof made by her own key. Refused either way.
      const eve = await newAccount(host, 'eve');
      const eves = await newProject(host.url, eve, 'eve-app');
      const { generateKeyPair } = await import('jose');
      const hers = await generateKeyPair('EdDSA');
      const now = Math.floor(Date.now() / 1000);
      const attempts = [
        { publicJwk },
        { publicJwk, proof: await keyProof(hers.privateKey, 'EdDSA', { project: eves, iat: now }) },
        // Even with Bob's private key (a proof Eve could never make): the kid is dead for good.
        {
          publicJwk,
          proof: await keyProof(bobKey.privateKey, 'EdDSA', { project: eves, iat: now }),
        },
      ];
      for (const body of attempts) {
        const r = await call(host.url, 'POST', `/api/projects/${eves}/keys`, {
          token: eve.key,
          body,
        });
        expect([r.status, codeOf(r)]).toEqual([400, 'ERR_KEY_REFUSED']);
      }
      // Nor may Bob bring it back into his own project.
      const back = await call(host.url, 'POST', `/api/projects/${bobs}/keys`, {
        token: bob.key,
        body: {
          publicJwk,
          proof: await keyProof(bobKey.privateKey, 'EdDSA', { project: bobs, iat: now }),
        },
      });
      expect([back.status, codeOf(back)]).toEqual([400, 'ERR_KEY_REFUSED']);
      // The old token, and a new one for Eve's project, never open a socket again.
      for (const token of [oldToken, await mint(bobKey, { group: 'g', peer: 'bob', aud: eves })]) {
        const r = await signalRefused(host.url, token);
        expect([r.status, r.code]).toEqual([401, 'ERR_KEY_UNKNOWN']);
      }
      const keys = await call(host.url, 'GET', `/api/projects/${eves}/keys`, { token: eve.key });
      expect(keys.json).toEqual({ keys: [] });
    });

    it("a deleted project's keys are final too", async () => {
      const p = await newProject(host.url, ada, 'gone');
      const k = await uploadKey(host.url, ada, p);
      const jwks = await call(host.url, 'GET', `/api/projects/${p}/jwks`, { token: ada.key });
      const publicJwk = (jwks.json as { keys: Record<string, unknown>[] }).keys[0];
      expect(
        (await call(host.url, 'DELETE', `/api/projects/${p}`, { token: ada.key })).status,
      ).toBe(204);
      const proof = await keyProof(k.privateKey, 'EdDSA', {
        project,
        iat: Math.floor(Date.now() / 1000),
      });
      const r = await call(host.url, 'POST', `/api/projects/${project}/keys`, {
        token: ada.key,
        body: { publicJwk, proof },
      });
      expect([r.status, codeOf(r)]).toEqual([400, 'ERR_KEY_REFUSED']);
      const refused = await signalRefused(
        host.url,
        await mint(k, { group: 'g', peer: 'p', aud: project }),
      );
      expect([refused.status, refused.code]).toEqual([401, 'ERR_KEY_UNKNOWN']);
    });

    it('deleting the project closes its connections with 4410', async () => {
      const p = await newProject(host.url, ada, 'short-lived');
      const k = await uploadKey(host.url, ada, p);
      const c = await connect(await mint(k, { group: 'g', peer: 'x' }));
      expect(
        (await call(host.url, 'DELETE', `/api/projects/${p}`, { token: ada.key })).status,
      ).toBe(204);
      expect(await c.closed).toBe(4410);
      expect(c.all('closed')).toEqual([{ type: 'closed', reason: 'project-deleted' }]);
    });
  });

  describe('token refresh', () => {
    it('`token` swaps in a fresh token on the open socket; the new policy applies at once', async () => {
      const a = await connect(await peerOf('p-7', 'alice', [{ group: 'p-7', peer: 'bob' }]));
      await connect(await peerOf('p-7', 'bob'));
      const carol = await connect(await peerOf('p-7', 'carol'));
      a.send({ type: 'signal', to: { group: 'p-7', peer: 'carol' }, payload: 1 });
      expect((await a.next('error')).code).toBe('ERR_POLICY_DENIED');
      const fresh = await mint(key, { group: 'p-7', peer: 'alice', ttl: 3600 });
      a.send({ type: 'token', token: fresh });
      // Sent right behind the token: handled after it, under the new policy.
      a.send({ type: 'signal', to: { group: 'p-7', peer: 'carol' }, payload: 'now allowed' });
      const r = await a.next('refreshed');
      expect(r.expiresAt).toBeGreaterThan(Date.now() / 1000 + 3000);
      expect((await carol.next('signal')).payload).toBe('now allowed');
      expect(a.ws.readyState).toBe(a.ws.OPEN);
    });

    it('a token for another peer, or an invalid one, is refused and the socket stays open', async () => {
      const a = await connect(await peerOf('p-8', 'alice'));
      a.send({ type: 'token', token: await peerOf('p-8', 'mallory'), ref: 't1' });
      expect(await a.next('error')).toMatchObject({ code: 'ERR_TOKEN_WRONG_PEER', ref: 't1' });
      a.send({ type: 'token', token: 'garbage' });
      expect((await a.next('error')).code).toBe('ERR_TOKEN_MALFORMED');
      a.send({ type: 'ping' });
      await a.next('pong');
    });

    it('a socket whose token expires is closed with 4401 after `closed {reason: "expired"}`', async () => {
      const now = Math.floor(Date.now() / 1000);
      // Expired 58 s ago: still inside the 60 s skew, so admitted, and closed 2 s later.
      const c = await connect(
        await mint(key, { group: 'p-9', peer: 'brief', iat: now - 100, exp: now - 58 }),
      );
      expect(await c.closed).toBe(4401);
      expect(c.all('closed')).toEqual([{ type: 'closed', reason: 'expired' }]);
    });
  });

  describe('bad tokens at the upgrade', () => {
    const cases: [string, () => Promise<string>, string][] = [
      ['no token', () => Promise.resolve(''), 'ERR_UNAUTHENTICATED'],
      ['garbage', () => Promise.resolve('not.a.jwt'), 'ERR_TOKEN_MALFORMED'],
      ['oversized', () => Promise.resolve(`e${'x'.repeat(5000)}.e.e`), 'ERR_TOKEN_MALFORMED'],
      [
        'expired',
        () =>
          mint(key, { group: 'g', peer: 'p', iat: Math.floor(Date.now() / 1000) - 7200, ttl: 600 }),
        'ERR_TOKEN_EXPIRED',
      ],
      [
        'unknown kid',
        () => mint(key, { group: 'g', peer: 'p', kid: 'no-such-kid' }),
        'ERR_KEY_UNKNOWN',
      ],
      ['no aud', () => mint(key, { group: 'g', peer: 'p', aud: null }), 'ERR_TOKEN_AUDIENCE'],
      [
        "another project's aud",
        async () => mint(key, { group: 'g', peer: 'p', aud: await newProject(host.url, ada, 'x') }),
        'ERR_TOKEN_AUDIENCE',
      ],
      [
        'lifetime over 24 h',
        () => mint(key, { group: 'g', peer: 'p', ttl: 25 * 3600 }),
        'ERR_TOKEN_LIFETIME',
      ],
      [
        'issued in the future',
        () => mint(key, { group: 'g', peer: 'p', iat: Math.floor(Date.now() / 1000) + 600 }),
        'ERR_TOKEN_LIFETIME',
      ],
      [
        'forged (another key, same kid)',
        async () => {
          const { generateKeyPair } = await import('jose');
          const other = await generateKeyPair('EdDSA');
          return new SignJWT({ gid: 'g', pid: 'p', ap: [] })
            .setProtectedHeader({ alg: 'EdDSA', kid: key.kid })
            .setIssuedAt()
            .setExpirationTime('10m')
            .sign(other.privateKey);
        },
        'ERR_TOKEN_SIGNATURE',
      ],
      [
        'alg none',
        () => {
          const enc = (o: unknown): string => base64url.encode(JSON.stringify(o));
          const now = Math.floor(Date.now() / 1000);
          return Promise.resolve(
            `${enc({ alg: 'none', kid: key.kid })}.${enc({ gid: 'g', pid: 'p', ap: [], iat: now, exp: now + 60 })}.`,
          );
        },
        'ERR_TOKEN_ALGORITHM',
      ],
      [
        'HS256 keyed with the public key',
        async () => {
          const pub = await call(host.url, 'GET', `/api/projects/${project}/jwks`, {
            token: ada.key,
          });
          const secret = new TextEncoder().encode(JSON.stringify(pub.json));
          return new SignJWT({ gid: 'g', pid: 'p', ap: [] })
            .setProtectedHeader({ alg: 'HS256', kid: key.kid })
            .setIssuedAt()
            .setExpirationTime('10m')
            .sign(secret);
        },
        'ERR_TOKEN_ALGORITHM',
      ],
      [
        'claims out of shape (two * in a rule)',
        () => mint(key, { group: 'g', peer: 'p', allow: [{ group: '*a*', peer: '*' }] }),
        'ERR_TOKEN_MALFORMED',
      ],
      [
        'a session token',
        async () => {
          const s = await call(host.url, 'POST', '/api/session', { body: {} });
          return (s.json as { token: string }).token;
        },
        'ERR_TOKEN_MALFORMED',
      ],
    ];
    for (const [name, make, code] of cases) {
      it(`${name} → 401 ${code}`, async () => {
        const token = await make();
        const r =
          token === '' ? await signalRefusedWithout() : await signalRefused(host.url, token);
        expect([r.status, r.code]).toEqual([401, code]);
      });
    }

    it('no token or secret ever reaches the logs', () => {
      const logs = host.logs.join('\n');
      expect(logs).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.eyJ/);
      expect(logs).not.toContain(ada.key);
    });
  });

  async function signalRefusedWithout() {
    const { WsClient, UpgradeRefused } = await import('./client.js');
    try {
      const c = await WsClient.connect(host.url, '', undefined, { path: '/api/signal' });
      c.close();
    } catch (err) {
      if (err instanceof UpgradeRefused) return err;
      throw err;
    }
    throw new Error('accepted');
  }

  describe('bad messages', () => {
    it('malformed, unknown, oversized and binary messages get an error; the socket stays open', async () => {
      const a = await connect(await peerOf('bad', 'alice'));
      const big = 'x'.repeat(11 * 1024);
      const frames: [unknown, string][] = [
        ['{not json', 'ERR_BAD_REQUEST'],
        [{ type: 'nope' }, 'ERR_BAD_REQUEST'],
        [{ type: 'signal', to: { group: 'bad', peer: 'bob' } }, 'ERR_BAD_REQUEST'],
        [
          { type: 'signal', to: { group: 'bad', peer: 'has space' }, payload: 1 },
          'ERR_BAD_REQUEST',
        ],
        [
          { type: 'signal', to: { group: 'bad', peer: 'bob' }, payload: 1, extra: true },
          'ERR_BAD_REQUEST',
        ],
        [
          { type: 'signal', to: { group: 'bad', peer: 'bob' }, payload: big },
          'ERR_PAYLOAD_TOO_LARGE',
        ],
      ];
      for (const [frame, code] of frames) {
        a.send(frame);
        expect((await a.next('error')).code).toBe(code);
      }
      a.ws.send(Buffer.from([1, 2, 3]));
      expect((await a.next('error')).code).toBe('ERR_BAD_REQUEST');
      a.send({ type: 'ping' });
      expect((await a.next('pong')).type).toBe('pong');
    });

    it('a frame over 16 KiB closes the socket with 1009', async () => {
      const a = await connect(await peerOf('bad', 'huge'));
      a.send({ type: 'signal', to: { group: 'bad', peer: 'x' }, payload: 'y'.repeat(20 * 1024) });
      expect(await a.closed).toBe(1009);
    });
  });

  describe('audit', () => {
    it('records connects and signals with outcomes; members read it, never IPs or payloads', async () => {
      const a = await connect(await peerOf('aud', 'alice', [{ group: 'aud', peer: 'bob' }]));
      const b = await connect(await peerOf('aud', 'bob'));
      a.send({
        type: 'signal',
        to: { group: 'aud', peer: 'bob' },
        payload: { secret: 'PAYLOAD-MARK' },
      });
      await b.next('signal');
      a.send({ type: 'signal', to: { group: 'aud', peer: 'carol' }, payload: 1 });
      await a.next('error');
      const r = await call(host.url, 'GET', `/api/projects/${project}/audit`, { token: ada.key });
      expect(r.status).toBe(200);
      const events = (
        r.json as {
          events: { kind: string; from: unknown; to: unknown; outcome: string; at: number }[];
        }
      ).events;
      const mine = events.filter((e) => JSON.stringify(e.from).includes('"aud"'));
      expect(mine).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            kind: 'connect',
            from: { group: 'aud', peer: 'alice' },
            outcome: 'connected',
          }),
          expect.objectContaining({
            kind: 'signal',
            from: { group: 'aud', peer: 'alice' },
            to: { group: 'aud', peer: 'bob' },
            outcome: 'delivered',
          }),
          expect.objectContaining({
            kind: 'signal',
            to: { group: 'aud', peer: 'carol' },
            outcome: 'refused-by-sender-policy',
          }),
        ]),
      );
      expect(r.text).not.toContain('PAYLOAD-MARK');
      expect(r.text).not.toContain('127.0.0.1');
      const eve = await newAccount(host, 'eve');
      const refused = await call(host.url, 'GET', `/api/projects/${project}/audit`, {
        token: eve.key,
      });
      expect([refused.status, codeOf(refused)]).toEqual([404, 'ERR_PROJECT_NOT_FOUND']);
    });
  });

  describe.skipIf(!CAN.metrics)('metrics', () => {
    const delivered = async (): Promise<number> => {
      const r = await call(host.url, 'GET', '/metrics');
      const m = /^punch_signals_total\{outcome="delivered"\} (\d+)/m.exec(r.text);
      return Number(m?.[1] ?? 0);
    };

    it('punch_signals_total counts every signal, where the audit log keeps one a minute', async () => {
      const a = await connect(await peerOf('met', 'alice'));
      const b = await connect(await peerOf('met', 'bob'));
      const before = await delivered();
      for (let i = 0; i < 3; i++)
        a.send({ type: 'signal', to: { group: 'met', peer: 'bob' }, payload: i });
      for (let i = 0; i < 3; i++) await b.next('signal', (m) => m.payload === i);
      expect((await delivered()) - before).toBe(3);
    });
  });

  describe('floods', () => {
    it('a message flood is cut off with ERR_RATE_LIMITED; other peers keep being served', async () => {
      const limited = await startHost({ rateLimits: 'default' });
      try {
        const acct = await newAccount(limited, 'flood');
        const p = await newProject(limited.url, acct);
        const k = await uploadKey(limited.url, acct, p);
        const flooder = await signal(limited.url, await mint(k, { group: 'g', peer: 'flooder' }));
        const calm = await signal(limited.url, await mint(k, { group: 'g', peer: 'calm' }));
        await flooder.next('welcome');
        await calm.next('welcome');
        for (let i = 0; i < 400; i++) flooder.send({ type: 'ping' });
        expect((await flooder.next('error')).code).toBe('ERR_RATE_LIMITED');
        expect(await flooder.closed).toBe(4429);
        calm.send({ type: 'ping' });
        expect((await calm.next('pong')).type).toBe('pong');
        calm.close();
      } finally {
        await limited.stop();
      }
    });
  });

  describe('TURN', () => {
    it('welcome carries TURN REST credentials for coturn that end with the token', async () => {
      const secret = 'turn-shared-secret-for-conformance';
      const t = await startHost({ turn: { secret, urls: ['turn:127.0.0.1:3478?transport=udp'] } });
      try {
        const acct = await newAccount(t, 'turn');
        const p = await newProject(t.url, acct);
        const k = await uploadKey(t.url, acct, p);
        const iat = Math.floor(Date.now() / 1000);
        const c = await signal(t.url, await mint(k, { group: 'g', peer: 'alice', iat, ttl: 900 }));
        const w = await c.next('welcome');
        const turnOf = (servers: unknown) =>
          (servers as { urls: string[]; username?: string; credential?: string }[]).find((x) =>
            x.urls.some((u) => u.startsWith('turn:')),
          )!;
        const turn = turnOf(w.iceServers);
        expect(turn.urls).toEqual(['turn:127.0.0.1:3478?transport=udp']);
        expect(turn.username).toBe(`${iat + 900}:alice`);
        const { createHmac } = await import('node:crypto');
        expect(turn.credential).toBe(
          createHmac('sha1', secret).update(turn.username!).digest('base64'),
        );
        // A refresh hands out credentials for the new expiry.
        c.send({
          type: 'token',
          token: await mint(k, { group: 'g', peer: 'alice', iat, ttl: 1800 }),
        });
        const r = await c.next('refreshed');
        const turn2 = turnOf(r.iceServers);
        expect(turn2.username).toBe(`${iat + 1800}:alice`);
        expect(t.logs.join('\n')).not.toContain(secret);
        c.close();
      } finally {
        await t.stop();
      }
    });
  });
});
