/**
 * The projects API (DESIGN.md "Projects realm"): accounts authenticate with `pa_` keys; every
 * project route answers a member and refuses a non-member with 404, as if the project did not
 * exist. Keys: uploaded public JWKs and server-generated pairs; JWKS; members.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportJWK, generateKeyPair } from 'jose';
import { call, codeOf } from './client.js';
import { startHost, type Host } from './host.js';
import { keyProof, newAccount, newProject, uploadKey, type Account } from './projects-client.js';

describe('projects API', () => {
  let host: Host;
  let ada: Account; // member
  let eve: Account; // not a member
  let project: string;

  beforeAll(async () => {
    host = await startHost();
    ada = await newAccount(host, 'ada');
    eve = await newAccount(host, 'eve');
    project = await newProject(host.url, ada, 'video-app');
  });
  afterAll(async () => {
    await host.stop();
  });

  describe('account keys', () => {
    it('no key → 401 ERR_UNAUTHENTICATED; a wrong or malformed key → 401 ERR_ACCOUNT_KEY_INVALID', async () => {
      const none = await call(host.url, 'GET', '/api/projects');
      expect([none.status, codeOf(none)]).toEqual([401, 'ERR_UNAUTHENTICATED']);
      const wrong = `pa_${'A'.repeat(43)}`;
      for (const token of [wrong, 'pa_short', 'p_notanaccountkey', ada.key.slice(0, -1) + 'x']) {
        const r = await call(host.url, 'GET', '/api/projects', { token });
        expect([r.status, codeOf(r)]).toEqual([401, 'ERR_ACCOUNT_KEY_INVALID']);
      }
    });

    it('a session token is not an account key', async () => {
      const s = await call(host.url, 'POST', '/api/session', { body: {} });
      const r = await call(host.url, 'GET', '/api/projects', {
        token: (s.json as { token: string }).token,
      });
      expect(r.status).toBe(401);
    });

    it('the key is never logged', () => {
      expect(host.logs.join('\n')).not.toContain(ada.key);
    });
  });

  describe('projects', () => {
    it('create answers 201 {id, name, members}; list shows only your projects', async () => {
      const r = await call(host.url, 'POST', '/api/projects', {
        token: eve.key,
        body: { name: 'mine' },
      });
      expect(r.status).toBe(201);
      const p = r.json as { id: string; name: string; members: string[] };
      expect(p.name).toBe('mine');
      expect(p.members).toEqual([eve.name]);
      const adaList = (await call(host.url, 'GET', '/api/projects', { token: ada.key })).json as {
        projects: { id: string }[];
      };
      expect(adaList.projects.map((x) => x.id)).toContain(project);
      expect(adaList.projects.map((x) => x.id)).not.toContain(p.id);
    });

    it('bad bodies are 400 with the field named', async () => {
      for (const body of [{}, { name: '' }, { name: 'x'.repeat(65) }, { name: 'a', extra: 1 }]) {
        const r = await call(host.url, 'POST', '/api/projects', { token: ada.key, body });
        expect([r.status, codeOf(r)]).toEqual([400, 'ERR_BAD_REQUEST']);
      }
    });

    it('show: member → 200 with members and keys; non-member and unknown id → 404', async () => {
      const r = await call(host.url, 'GET', `/api/projects/${project}`, { token: ada.key });
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ id: project, name: 'video-app', members: [ada.name] });
      const other = await call(host.url, 'GET', `/api/projects/${project}`, { token: eve.key });
      const unknown = await call(host.url, 'GET', '/api/projects/pr-nosuchproject', {
        token: ada.key,
      });
      expect([other.status, codeOf(other)]).toEqual([404, 'ERR_PROJECT_NOT_FOUND']);
      // A non-member cannot tell a project that exists from one that does not.
      expect(other.text).toBe(unknown.text);
    });
  });

  describe('every project route: member allowed, non-member refused with 404', () => {
    const routes: [string, (p: string) => string, unknown?][] = [
      ['GET', (p) => `/api/projects/${p}`],
      ['GET', (p) => `/api/projects/${p}/members`],
      ['GET', (p) => `/api/projects/${p}/keys`],
      ['GET', (p) => `/api/projects/${p}/jwks`],
      ['GET', (p) => `/api/projects/${p}/audit`],
      ['POST', (p) => `/api/projects/${p}/keys`, {}],
    ];
    for (const [method, path, body] of routes) {
      it(`${method} ${path(':id')}`, async () => {
        const o = body === undefined ? {} : { body };
        const ok = await call(host.url, method, path(project), { token: ada.key, ...o });
        expect(ok.status).toBeLessThan(300);
        const no = await call(host.url, method, path(project), { token: eve.key, ...o });
        expect([no.status, codeOf(no)]).toEqual([404, 'ERR_PROJECT_NOT_FOUND']);
      });
    }

    it('POST members, DELETE members/:account, DELETE keys/:kid and DELETE the project', async () => {
      const p = await newProject(host.url, ada, 'scratch');
      const key = await uploadKey(host.url, ada, p);
      const guest = await newAccount(host, 'guest');
      const steps: [string, string, unknown?][] = [
        ['POST', `/api/projects/${p}/members`, { account: guest.name }],
        ['DELETE', `/api/projects/${p}/members/${guest.name}`],
        ['DELETE', `/api/projects/${p}/keys/${key.kid}`],
        ['DELETE', `/api/projects/${p}`],
      ];
      for (const [method, path, body] of steps) {
        const o = body === undefined ? {} : { body };
        const no = await call(host.url, method, path, { token: eve.key, ...o });
        expect([no.status, codeOf(no)], `${method} ${path} by a non-member`).toEqual([
          404,
          'ERR_PROJECT_NOT_FOUND',
        ]);
        const ok = await call(host.url, method, path, { token: ada.key, ...o });
        expect(ok.status, `${method} ${path} by a member: ${ok.text}`).toBeLessThan(300);
      }
      const gone = await call(host.url, 'GET', `/api/projects/${p}`, { token: ada.key });
      expect(gone.status).toBe(404);
    });
  });

  describe('members', () => {
    it('a member added shares the project; one removed loses it; the last cannot leave', async () => {
      const p = await newProject(host.url, ada, 'shared');
      const bob = await newAccount(host, 'bob');
      expect((await call(host.url, 'GET', `/api/projects/${p}`, { token: bob.key })).status).toBe(
        404,
      );
      const add = await call(host.url, 'POST', `/api/projects/${p}/members`, {
        token: ada.key,
        body: { account: bob.name },
      });
      expect(add.status).toBe(201);
      const again = await call(host.url, 'POST', `/api/projects/${p}/members`, {
        token: ada.key,
        body: { account: bob.name },
      });
      expect([again.status, codeOf(again)]).toEqual([409, 'ERR_MEMBER_EXISTS']);
      // Bob, now a member, can do what members do: create a key.
      const k = await call(host.url, 'POST', `/api/projects/${p}/keys`, {
        token: bob.key,
        body: {},
      });
      expect(k.status).toBe(201);
      const members = await call(host.url, 'GET', `/api/projects/${p}/members`, { token: bob.key });
      expect((members.json as { members: string[] }).members.sort()).toEqual(
        [ada.name, bob.name].sort(),
      );
      expect(
        (
          await call(host.url, 'DELETE', `/api/projects/${p}/members/${ada.name}`, {
            token: bob.key,
          })
        ).status,
      ).toBe(204);
      expect((await call(host.url, 'GET', `/api/projects/${p}`, { token: ada.key })).status).toBe(
        404,
      );
      const last = await call(host.url, 'DELETE', `/api/projects/${p}/members/${bob.name}`, {
        token: bob.key,
      });
      expect([last.status, codeOf(last)]).toEqual([409, 'ERR_LAST_MEMBER']);
    });

    it('an unknown account → 404 ERR_ACCOUNT_NOT_FOUND', async () => {
      const r = await call(host.url, 'POST', `/api/projects/${project}/members`, {
        token: ada.key,
        body: { account: 'nobody-here' },
      });
      expect([r.status, codeOf(r)]).toEqual([404, 'ERR_ACCOUNT_NOT_FOUND']);
      const d = await call(host.url, 'DELETE', `/api/projects/${project}/members/nobody-here`, {
        token: ada.key,
      });
      expect([d.status, codeOf(d)]).toEqual([404, 'ERR_ACCOUNT_NOT_FOUND']);
    });
  });

  describe('keys', () => {
    it('upload a public Ed25519 or P-256 JWK → 201 {kid, alg}; listed with createdAt; in the JWKS', async () => {
      const ed = await uploadKey(host.url, ada, project, 'EdDSA');
      const ec = await uploadKey(host.url, ada, project, 'ES256');
      const list = (
        await call(host.url, 'GET', `/api/projects/${project}/keys`, { token: ada.key })
      ).json as { keys: { kid: string; alg: string; createdAt: number }[] };
      expect(list.keys).toEqual(
        expect.arrayContaining([
          { kid: ed.kid, alg: 'EdDSA', createdAt: expect.any(Number) as number },
          { kid: ec.kid, alg: 'ES256', createdAt: expect.any(Number) as number },
        ]),
      );
      const jwks = (
        await call(host.url, 'GET', `/api/projects/${project}/jwks`, { token: ada.key })
      ).json as { keys: Record<string, unknown>[] };
      const jwk = jwks.keys.find((k) => k.kid === ed.kid);
      expect(jwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
      expect(jwk).not.toHaveProperty('d');
    });

    /** Uploads `publicJwk` with `proof` (made by `signer` over `payload` unless given). */
    const upload = (to: string, body: Record<string, unknown>, who: Account = ada) =>
      call(host.url, 'POST', `/api/projects/${to}/keys`, { token: who.key, body });
    const nowS = (): number => Math.floor(Date.now() / 1000);

    it('the kid is the RFC 7638 thumbprint; a proof of possession is required', async () => {
      const pair = await generateKeyPair('EdDSA', { extractable: true });
      const publicJwk = await exportJWK(pair.publicKey);
      const proof = await keyProof(pair.privateKey, 'EdDSA', { project, iat: nowS() });
      const first = await upload(project, { publicJwk, proof });
      expect(first.status).toBe(201);
      const { calculateJwkThumbprint } = await import('jose');
      expect((first.json as { kid: string }).kid).toBe(await calculateJwkThumbprint(publicJwk));
    });

    it('refuses an upload without a proof, or with a bad, stale, future or other-project proof: 400 ERR_KEY_REFUSED', async () => {
      const pair = await generateKeyPair('ES256', { extractable: true });
      const publicJwk = await exportJWK(pair.publicKey);
      const other = await generateKeyPair('ES256');
      const elsewhere = await newProject(host.url, ada, 'elsewhere');
      const sign = (payload: unknown, key = pair.privateKey, typ?: string) =>
        keyProof(key, 'ES256', payload, typ);
      const bad: [string, Record<string, unknown>][] = [
        ['no proof', { publicJwk }],
        ['garbage', { publicJwk, proof: 'not.a.jws' }],
        [
          'another key',
          { publicJwk, proof: await sign({ project, iat: nowS() }, other.privateKey) },
        ],
        ['expired', { publicJwk, proof: await sign({ project, iat: nowS() - 600 }) }],
        ['future', { publicJwk, proof: await sign({ project, iat: nowS() + 600 }) }],
        ['other project', { publicJwk, proof: await sign({ project: elsewhere, iat: nowS() }) }],
        ['no iat', { publicJwk, proof: await sign({ project }) }],
        [
          'a JWT, not a proof',
          { publicJwk, proof: await sign({ project, iat: nowS() }, pair.privateKey, 'JWT') },
        ],
      ];
      const answers = new Set<string>();
      for (const [what, body] of bad) {
        const r = await upload(project, body);
        expect([r.status, codeOf(r)], what).toEqual([400, 'ERR_KEY_REFUSED']);
        answers.add(r.text);
      }
      // One answer for all of them, word for word.
      expect(answers.size).toBe(1);
      // The key itself was fine: with a good proof it registers.
      const ok = await upload(project, {
        publicJwk,
        proof: await sign({ project, iat: nowS() }),
      });
      expect(ok.status).toBe(201);
      // A proof is for a publicJwk; a server-generated key needs none.
      const stray = await upload(project, { proof: await sign({ project, iat: nowS() }) });
      expect([stray.status, codeOf(stray)]).toEqual([400, 'ERR_BAD_REQUEST']);
    });

    it('a key registered elsewhere (or here, or deleted) answers exactly like any other refused upload', async () => {
      const pair = await generateKeyPair('EdDSA', { extractable: true });
      const publicJwk = await exportJWK(pair.publicKey);
      const mine = await newProject(host.url, eve, 'eve-app');
      // Registered in Ada's project (Eve cannot see it).
      expect(
        (
          await upload(project, {
            publicJwk,
            proof: await keyProof(pair.privateKey, 'EdDSA', { project, iat: nowS() }),
          })
        ).status,
      ).toBe(201);
      // Eve uploads the same public key with a valid proof for her project (the worst case: as
      // if she held the private key too) …
      const registered = await upload(
        mine,
        {
          publicJwk,
          proof: await keyProof(pair.privateKey, 'EdDSA', { project: mine, iat: nowS() }),
        },
        eve,
      );
      // … and a fresh key of hers with a bad proof.
      const fresh = await generateKeyPair('EdDSA', { extractable: true });
      const invalid = await upload(
        mine,
        { publicJwk: await exportJWK(fresh.publicKey), proof: 'not.a.jws' },
        eve,
      );
      expect([registered.status, codeOf(registered)]).toEqual([400, 'ERR_KEY_REFUSED']);
      expect(registered.status).toBe(invalid.status);
      expect(registered.json).toEqual(invalid.json);
      expect(registered.headers['content-type']).toBe(invalid.headers['content-type']);
      // The same key twice in one project: the same answer again.
      const twice = await upload(project, {
        publicJwk: { ...publicJwk, use: 'sig' },
        proof: await keyProof(pair.privateKey, 'EdDSA', { project, iat: nowS() }),
      });
      expect(twice.json).toEqual(invalid.json);
      expect(
        (await call(host.url, 'GET', `/api/projects/${mine}/keys`, { token: eve.key })).json,
      ).toEqual({
        keys: [],
      });
    });

    it('server-generated: {} → 201 with the private JWK once; never again', async () => {
      const r = await call(host.url, 'POST', `/api/projects/${project}/keys`, {
        token: ada.key,
        body: { alg: 'ES256' },
      });
      expect(r.status).toBe(201);
      const k = r.json as { kid: string; alg: string; privateJwk: Record<string, unknown> };
      expect(k.alg).toBe('ES256');
      // `project` rides along: mintPeerToken reads the token's `aud` from it.
      expect(k.privateJwk).toMatchObject({
        kty: 'EC',
        crv: 'P-256',
        kid: k.kid,
        alg: 'ES256',
        project,
      });
      expect(typeof k.privateJwk.d).toBe('string');
      for (const path of ['/keys', '/jwks', '']) {
        const again = await call(host.url, 'GET', `/api/projects/${project}${path}`, {
          token: ada.key,
        });
        expect(again.status).toBe(200);
        expect(again.text).not.toContain(k.privateJwk.d as string);
      }
      expect(host.logs.join('\n')).not.toContain(k.privateJwk.d as string);
    });

    it('refuses private keys, other key types and malformed JWKs with 400', async () => {
      const pair = await generateKeyPair('EdDSA', { extractable: true });
      const priv = await exportJWK(pair.privateKey);
      const rsa = await generateKeyPair('RS256', { extractable: true });
      const bodies = [
        { publicJwk: priv },
        { publicJwk: await exportJWK(rsa.publicKey) },
        { publicJwk: { kty: 'OKP', crv: 'X25519', x: priv.x } },
        { publicJwk: { kty: 'OKP', crv: 'Ed25519', x: 'short' } },
        // The right shape, but not a point on P-256.
        { publicJwk: { kty: 'EC', crv: 'P-256', x: 'A'.repeat(43), y: 'A'.repeat(43) } },
        { publicJwk: 'not-an-object' },
        { alg: 'HS256' },
        { publicJwk: await exportJWK(pair.publicKey), alg: 'EdDSA' },
      ];
      for (const body of bodies) {
        const r = await call(host.url, 'POST', `/api/projects/${project}/keys`, {
          token: ada.key,
          body,
        });
        expect([r.status, codeOf(r)], JSON.stringify(body)).toEqual([400, 'ERR_BAD_REQUEST']);
      }
      const withD = await call(host.url, 'POST', `/api/projects/${project}/keys`, {
        token: ada.key,
        body: { publicJwk: priv },
      });
      expect((withD.json as { detail: string }).detail).toMatch(/private/);
    });

    it('delete: 204, gone from list and JWKS; again → 404 ERR_KEY_NOT_FOUND', async () => {
      const k = await uploadKey(host.url, ada, project);
      const d = await call(host.url, 'DELETE', `/api/projects/${project}/keys/${k.kid}`, {
        token: ada.key,
      });
      expect(d.status).toBe(204);
      const list = await call(host.url, 'GET', `/api/projects/${project}/keys`, { token: ada.key });
      expect(list.text).not.toContain(k.kid);
      const again = await call(host.url, 'DELETE', `/api/projects/${project}/keys/${k.kid}`, {
        token: ada.key,
      });
      expect([again.status, codeOf(again)]).toEqual([404, 'ERR_KEY_NOT_FOUND']);
    });

    it('a key of another project cannot be deleted through this one', async () => {
      const other = await newProject(host.url, ada, 'other');
      const k = await uploadKey(host.url, ada, other);
      const d = await call(host.url, 'DELETE', `/api/projects/${project}/keys/${k.kid}`, {
        token: ada.key,
      });
      expect([d.status, codeOf(d)]).toEqual([404, 'ERR_KEY_NOT_FOUND']);
    });
  });

  describe('signal endpoint over plain HTTP', () => {
    it('GET /api/signal without an upgrade → 426', async () => {
      const r = await call(host.url, 'GET', '/api/signal');
      expect([r.status, codeOf(r)]).toEqual([426, 'ERR_UPGRADE_REQUIRED']);
    });
  });
});
