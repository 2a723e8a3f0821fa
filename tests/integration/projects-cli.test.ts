/**
 * The projects commands as a developer types them: account (operator), project, key create
 * (the pair is made locally, only the public half leaves), token mint, key delete.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  calculateJwkThumbprint,
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  type JWK,
} from 'jose';
import { createKeyProof } from '@punch/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../conformance/client.js';
import { startHost, type Host } from '../conformance/host.js';
import { signal, signalRefused } from '../conformance/projects-client.js';

const CLI = fileURLToPath(new URL('../../packages/cli/bin/punch.js', import.meta.url));

let host: Host;
let key = '';
let work = '';
beforeAll(async () => {
  host = await startHost();
  key = await host.createAccount('dev-cli');
  work = mkdtempSync(join(tmpdir(), 'punch-cli-keys-'));
});
afterAll(async () => {
  await host.stop();
  rmSync(work, { recursive: true, force: true });
});

function punch(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      {
        cwd: work,
        env: { ...process.env, PUNCH_SERVER: host.url, PUNCH_ACCOUNT_KEY: key, ...env },
      },
      (err, stdout, stderr) => {
        resolve({
          code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1,
          stdout,
          stderr,
        });
      },
    );
  });
}

describe('punch project / key / token mint', () => {
  let project = '';
  let file = '';
  let kid = '';

  it('project create prints the id to export', async () => {
    const r = await punch(['project', 'create', 'cli-app']);
    expect(r.code).toBe(0);
    project = /export PUNCH_PROJECT=(\S+)/.exec(r.stdout)?.[1] ?? '';
    expect(project).toMatch(/^pr-/);
    const list = await punch(['project', 'list']);
    expect(list.stdout).toContain(project);
  });

  it('key create writes the private JWK (mode 600) and uploads only the public key', async () => {
    const r = await punch(['key', 'create', '--project', project, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { kid: string; alg: string; file: string };
    kid = out.kid;
    file = join(work, out.file);
    expect(out.alg).toBe('EdDSA');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const jwk = JSON.parse(readFileSync(file, 'utf8')) as { d: string; kid: string; alg: string };
    // The file names its project: mintPeerToken sets the token's aud from it.
    expect(jwk).toMatchObject({ kid, alg: 'EdDSA', project });
    const jwks = await call(host.url, 'GET', `/api/projects/${project}/jwks`, { token: key });
    expect(jwks.text).toContain(kid);
    expect(jwks.text).not.toContain(jwk.d);
    const again = await punch(['key', 'create', '--project', project, '--out', out.file]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('exists');
  });

  it('token mint signs a token the server accepts, with the given policy and ttl', async () => {
    const r = await punch([
      'token',
      'mint',
      '--key',
      file,
      '--group',
      'demo',
      '--peer',
      'alice',
      '--allow',
      'demo/bob',
      '--ttl',
      '10m',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const token = r.stdout.trim();
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'EdDSA', kid, typ: 'JWT' });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({
      aud: project,
      gid: 'demo',
      pid: 'alice',
      ap: [{ group: 'demo', peer: 'bob' }],
    });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(600);
    const c = await signal(host.url, token);
    expect((await c.next('welcome')).peer).toBe('alice');
    c.close();
  });

  it('token mint takes --project (or PUNCH_PROJECT) for a key file that names none', async () => {
    const { project: _named, ...bare } = JSON.parse(readFileSync(file, 'utf8')) as Record<
      string,
      unknown
    >;
    expect(_named).toBe(project);
    const old = join(work, 'old-key.json');
    writeFileSync(old, JSON.stringify(bare), { mode: 0o600 });
    const args = ['token', 'mint', '--key', old, '--group', 'g', '--peer', 'p'];
    const refused = await punch(args, { PUNCH_PROJECT: '' });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--project');
    for (const r of [
      await punch([...args, '--project', project]),
      await punch(args, { PUNCH_PROJECT: project }),
    ]) {
      expect(r.code, r.stderr).toBe(0);
      expect(decodeJwt(r.stdout.trim()).aud).toBe(project);
    }
  });

  it('key list shows it; key delete revokes it', async () => {
    expect((await punch(['key', 'list', '--project', project])).stdout).toContain(kid);
    const token = (
      await punch(['token', 'mint', '--key', file, '--group', 'g', '--peer', 'p'])
    ).stdout.trim();
    const d = await punch(['key', 'delete', kid, '--project', project]);
    expect(d.code).toBe(0);
    const r = await signalRefused(host.url, token);
    expect(r.code).toBe('ERR_KEY_UNKNOWN');
    // Revocation is final: the same public key, proof and all, is never taken back.
    const priv = JSON.parse(readFileSync(file, 'utf8')) as JWK;
    const publicJwk = { kty: priv.kty, crv: priv.crv, x: priv.x };
    const proof = await createKeyProof({ privateKey: priv, project });
    const back = await call(host.url, 'POST', `/api/projects/${project}/keys`, {
      token: key,
      body: { publicJwk, proof },
    });
    expect([back.status, (back.json as { code: string }).code]).toEqual([400, 'ERR_KEY_REFUSED']);
  });

  it('key delete takes a kid that begins with "-" (a thumbprint can), not as an option', async () => {
    // About one thumbprint in 64 begins with "-": generate until one does (bounded).
    let publicJwk: Record<string, unknown> | undefined;
    let privateKey: CryptoKey | undefined;
    let dashKid = '';
    for (let i = 0; i < 5000 && publicJwk === undefined; i++) {
      const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
      const jwk = await exportJWK(pair.publicKey);
      const t = await calculateJwkThumbprint(jwk);
      if (t.startsWith('-')) [publicJwk, privateKey, dashKid] = [jwk, pair.privateKey, t];
    }
    expect(dashKid.startsWith('-')).toBe(true);
    if (privateKey === undefined) throw new Error('no key pair');
    const up = await call(host.url, 'POST', `/api/projects/${project}/keys`, {
      token: key,
      body: { publicJwk, proof: await createKeyProof({ privateKey, project }) },
    });
    expect((up.json as { kid: string }).kid).toBe(dashKid);
    const d = await punch(['key', 'delete', dashKid, '--project', project]);
    expect(d.code, d.stderr).toBe(0);
    expect((await punch(['key', 'list', '--project', project])).stdout).not.toContain(dashKid);
  });

  it('project show, audit and delete', async () => {
    expect((await punch(['project', 'show', project])).stdout).toContain('cli-app');
    expect((await punch(['project', 'audit', project])).code).toBe(0);
    expect((await punch(['project', 'delete', project])).code).toBe(0);
    const gone = await punch(['project', 'show', project]);
    expect(gone.code).toBe(4);
    expect(gone.stderr).toContain('ERR_PROJECT_NOT_FOUND');
  });

  it('clear usage errors: no account key, bad --allow, account create without a database', async () => {
    const none = await punch(['project', 'list'], { PUNCH_ACCOUNT_KEY: '' });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('PUNCH_ACCOUNT_KEY');
    const bad = await punch([
      'token',
      'mint',
      '--key',
      'k.json',
      '--group',
      'g',
      '--peer',
      'p',
      '--allow',
      'nope',
    ]);
    expect(bad.code).toBe(2);
    const nodb = await punch(['account', 'create', 'someone', '--data-dir', join(work, 'nothing')]);
    expect(nodb.code).toBe(2);
    expect(nodb.stderr).toContain('no Punch database');
  });
});
