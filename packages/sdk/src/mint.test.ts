import { exportJWK, generateKeyPair, importJWK, jwtVerify, decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { generateProjectKey, verifyPeerToken, importPublicKey } from '@punch/core';
import { mintPeerToken } from './mint.js';

const allow = [{ group: 'room-1', peer: '*' }];

describe('mintPeerToken', () => {
  it('signs a token jose verifies with the public key, with the claims Punch reads', async () => {
    const { kid, publicJwk, privateJwk } = await generateProjectKey('EdDSA');
    const now = Date.UTC(2030, 0, 1);
    const token = await mintPeerToken({
      privateKey: privateJwk,
      project: 'pr-1',
      group: 'room-1',
      peer: 'alice',
      allow,
      ttl: 600,
      now,
    });
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'EdDSA', kid, typ: 'JWT' });
    const { payload } = await jwtVerify(token, await importJWK(publicJwk, 'EdDSA'), {
      currentDate: new Date(now),
    });
    expect(payload).toEqual({
      aud: 'pr-1',
      gid: 'room-1',
      pid: 'alice',
      ap: allow,
      iat: now / 1000,
      exp: now / 1000 + 600,
    });
  });

  it('is accepted by the server-side verifier (EdDSA and ES256)', async () => {
    for (const alg of ['EdDSA', 'ES256'] as const) {
      const made = await generateProjectKey(alg);
      const record = { kid: made.kid, project: 'p1', alg, publicJwk: made.publicJwk, createdAt: 0 };
      const key = await importPublicKey(record);
      // The project rides in the JWK, as in the files `punch key create` writes.
      const withProject = { ...made.privateJwk, project: 'p1' };
      const token = await mintPeerToken({
        privateKey: withProject,
        group: 'g',
        peer: 'p',
        allow: [],
      });
      const who = await verifyPeerToken(token, {
        key: (kid) => Promise.resolve(kid === made.kid ? { record, key } : undefined),
        now: Date.now(),
      });
      expect(who).toMatchObject({ project: 'p1', kid: made.kid, group: 'g', peer: 'p', allow: [] });
      expect(who.expiresAt - Math.floor(Date.now() / 1000)).toBeGreaterThan(3590);
      // The same key registered under another project would not accept it: aud is p1.
      const elsewhere = { ...record, project: 'p2' };
      await expect(
        verifyPeerToken(token, {
          key: () => Promise.resolve({ record: elsewhere, key }),
          now: Date.now(),
        }),
      ).rejects.toMatchObject({ code: 'ERR_TOKEN_AUDIENCE' });
    }
  });

  it('takes a CryptoKey (alg from the key, or given) and a JWK without alg', async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    const token = await mintPeerToken({
      keyId: 'k1',
      project: 'pr-1',
      privateKey: pair.privateKey,
      group: 'g',
      peer: 'p',
      allow,
    });
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'ES256', kid: 'k1' });
    await expect(jwtVerify(token, pair.publicKey)).resolves.toBeDefined();
    const jwk = await exportJWK(pair.privateKey); // no alg, no kid
    const again = await mintPeerToken({
      keyId: 'k1',
      project: 'pr-1',
      privateKey: jwk,
      group: 'g',
      peer: 'p',
      allow,
    });
    await expect(jwtVerify(again, pair.publicKey)).resolves.toBeDefined();
  });

  it('refuses bad arguments with TypeError or RangeError naming them', async () => {
    const { privateJwk, publicJwk } = await generateProjectKey('EdDSA');
    const base = { privateKey: privateJwk, project: 'pr-1', group: 'g', peer: 'p', allow };
    await expect(mintPeerToken({ ...base, peer: 'a/b' })).rejects.toThrow(/peer must be/);
    await expect(mintPeerToken({ ...base, group: '' })).rejects.toThrow(TypeError);
    await expect(mintPeerToken({ ...base, peer: 'x'.repeat(65) })).rejects.toThrow(TypeError);
    await expect(mintPeerToken({ ...base, allow: [{ group: 'g', peer: '*a*' }] })).rejects.toThrow(
      /allow\[0\]\.peer may hold at most one \*/,
    );
    await expect(mintPeerToken({ ...base, allow: [{ group: 'g:x', peer: '*' }] })).rejects.toThrow(
      /allow\[0\]\.group/,
    );
    const many = Array.from({ length: 33 }, () => ({ group: 'g', peer: '*' }));
    await expect(mintPeerToken({ ...base, allow: many })).rejects.toThrow(RangeError);
    for (const ttl of [0, -1, 1.5, 86_401, Number.NaN]) {
      await expect(mintPeerToken({ ...base, ttl })).rejects.toThrow(RangeError);
    }
    await expect(mintPeerToken({ ...base, ttl: 86_400 })).resolves.toMatch(/^ey/);
    await expect(mintPeerToken({ ...base, ttl: 1 })).resolves.toMatch(/^ey/);
    await expect(
      mintPeerToken({ ...base, keyId: 'k1', privateKey: { ...publicJwk } }),
    ).rejects.toThrow(/public JWK/);
    const noKid = { ...privateJwk };
    delete noKid.kid;
    await expect(mintPeerToken({ ...base, privateKey: noKid })).rejects.toThrow(
      /keyId is required/,
    );
    await expect(
      mintPeerToken({ privateKey: privateJwk, group: 'g', peer: 'p', allow }),
    ).rejects.toThrow(/project is required/);
    await expect(mintPeerToken({ ...base, project: '' })).rejects.toThrow(/project is required/);
    await expect(
      mintPeerToken({ ...base, privateKey: { ...privateJwk, alg: 'RS256' } }),
    ).rejects.toThrow(/EdDSA or ES256/);
  });
});
