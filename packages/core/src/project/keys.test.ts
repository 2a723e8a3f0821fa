import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { PunchError } from '../errors.js';
import {
  KEY_ALGS,
  algOf,
  canonicalJwk,
  generateProjectKey,
  keyId,
  parsePublicJwk,
  type KeyAlg,
} from './keys.js';

/** A fresh key pair exported by jose itself (not by the module under test). */
async function pairJwks(alg: KeyAlg | 'RS256'): Promise<{ pub: JWK; priv: JWK }> {
  const pair = await generateKeyPair(alg, { extractable: true });
  return { pub: await exportJWK(pair.publicKey), priv: await exportJWK(pair.privateKey) };
}

function refusal(value: unknown): PunchError {
  try {
    parsePublicJwk(value);
  } catch (err) {
    if (err instanceof PunchError) return err;
    throw err;
  }
  throw new Error('parsePublicJwk accepted the JWK');
}

// RFC 8037 appendix A.2: the Ed25519 public key whose RFC 7638 thumbprint is given in A.3.
const RFC8037_PUBLIC: JWK = {
  kty: 'OKP',
  crv: 'Ed25519',
  x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo',
};
const RFC8037_THUMBPRINT = 'kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k';

describe('parsePublicJwk', () => {
  it('accepts an Ed25519 OKP public JWK', async () => {
    const { pub } = await pairJwks('EdDSA');
    expect(parsePublicJwk(pub)).toEqual({ kty: 'OKP', crv: 'Ed25519', x: pub.x });
  });

  it('accepts a P-256 EC public JWK', async () => {
    const { pub } = await pairJwks('ES256');
    expect(parsePublicJwk(pub)).toEqual({ kty: 'EC', crv: 'P-256', x: pub.x, y: pub.y });
  });

  it('drops extra members such as use, alg, kid and key_ops', async () => {
    const { pub } = await pairJwks('EdDSA');
    const out = parsePublicJwk({ ...pub, use: 'sig', alg: 'EdDSA', kid: 'mine', key_ops: [] });
    expect(Object.keys(out).sort()).toEqual(['crv', 'kty', 'x']);
  });

  it('refuses a JWK holding "d", with a message about the private key', async () => {
    for (const alg of ['EdDSA', 'ES256'] as const) {
      const { priv } = await pairJwks(alg);
      const err = refusal(priv);
      expect(err.code).toBe('ERR_BAD_REQUEST');
      expect(err.message).toMatch(/private key/);
      expect(err.message).toMatch(/"d"/);
      // never echo the secret back
      expect(err.message).not.toContain(priv.d);
    }
  });

  it('refuses RSA keys', async () => {
    const { pub } = await pairJwks('RS256');
    const err = refusal(pub);
    expect(err.code).toBe('ERR_BAD_REQUEST');
    expect(err.message).toMatch(/^publicJwk: /);
    expect(err.message).toContain('Ed25519 OKP or P-256 EC');
  });

  it('refuses the wrong curve', async () => {
    const { pub } = await pairJwks('EdDSA');
    expect(refusal({ ...pub, crv: 'X25519' }).code).toBe('ERR_BAD_REQUEST');
    expect(refusal({ ...pub, crv: 'Ed448' }).code).toBe('ERR_BAD_REQUEST');
    const ec = (await pairJwks('ES256')).pub;
    expect(refusal({ ...ec, crv: 'P-384' }).code).toBe('ERR_BAD_REQUEST');
    expect(refusal({ ...ec, crv: 'secp256k1' }).code).toBe('ERR_BAD_REQUEST');
  });

  it('refuses a short, long or non-base64url x, and an EC key without y', async () => {
    const { pub } = await pairJwks('EdDSA');
    const x = pub.x ?? '';
    expect(refusal({ ...pub, x: x.slice(0, 42) }).code).toBe('ERR_BAD_REQUEST');
    expect(refusal({ ...pub, x: `${x}A` }).code).toBe('ERR_BAD_REQUEST');
    expect(refusal({ ...pub, x: `${x.slice(0, 42)}+` }).code).toBe('ERR_BAD_REQUEST');
    const ec = (await pairJwks('ES256')).pub;
    expect(refusal({ kty: ec.kty, crv: ec.crv, x: ec.x }).code).toBe('ERR_BAD_REQUEST');
  });

  it('refuses non-objects and oct keys', () => {
    for (const v of [null, 'a jwk', 42, [], { kty: 'oct', k: 'c2VjcmV0' }]) {
      expect(refusal(v).code).toBe('ERR_BAD_REQUEST');
    }
  });
});

describe('keyId', () => {
  it('is the RFC 7638 thumbprint (RFC 8037 A.3 test vector)', async () => {
    const jwk = parsePublicJwk(RFC8037_PUBLIC);
    expect(await keyId(jwk)).toBe(RFC8037_THUMBPRINT);
  });

  it("equals jose's calculateJwkThumbprint for EdDSA and ES256 keys", async () => {
    for (const alg of KEY_ALGS) {
      const { pub } = await pairJwks(alg);
      const expected = await calculateJwkThumbprint(pub, 'sha256');
      expect(await keyId(parsePublicJwk(pub))).toBe(expected);
      expect(expected).toMatch(/^[A-Za-z0-9_-]{43}$/);
    }
  });

  it('is stable and ignores extra members', async () => {
    const { pub } = await pairJwks('ES256');
    const a = await keyId(parsePublicJwk(pub));
    const b = await keyId(parsePublicJwk({ ...pub, use: 'sig', alg: 'ES256', kid: 'other' }));
    // keyId itself canonicalises too, even for an object that skipped parsePublicJwk
    const c = await keyId({ ...parsePublicJwk(pub), ...{ use: 'sig' } });
    expect(b).toBe(a);
    expect(c).toBe(a);
    expect(await keyId(parsePublicJwk(pub))).toBe(a);
  });

  it('differs between keys', async () => {
    const [a, b] = await Promise.all([pairJwks('EdDSA'), pairJwks('EdDSA')]);
    expect(await keyId(parsePublicJwk(a.pub))).not.toBe(await keyId(parsePublicJwk(b.pub)));
  });
});

describe('algOf / canonicalJwk', () => {
  it('maps OKP to EdDSA and EC to ES256', async () => {
    expect(algOf(parsePublicJwk((await pairJwks('EdDSA')).pub))).toBe('EdDSA');
    expect(algOf(parsePublicJwk((await pairJwks('ES256')).pub))).toBe('ES256');
  });

  it('keeps only kty, crv, x (and y)', () => {
    const okp = canonicalJwk({ kty: 'OKP', crv: 'Ed25519', x: 'X', ...{ alg: 'EdDSA' } });
    expect(okp).toEqual({ kty: 'OKP', crv: 'Ed25519', x: 'X' });
    const ec = canonicalJwk({ kty: 'EC', crv: 'P-256', x: 'X', y: 'Y', ...{ use: 'sig' } });
    expect(ec).toEqual({ kty: 'EC', crv: 'P-256', x: 'X', y: 'Y' });
  });
});

describe('generateProjectKey', () => {
  it('defaults to EdDSA', async () => {
    const k = await generateProjectKey();
    expect(k.alg).toBe('EdDSA');
    expect(k.publicJwk.kty).toBe('OKP');
  });

  for (const alg of KEY_ALGS) {
    it(`makes a ${alg} pair: privateJwk with kid and alg, publicJwk without d`, async () => {
      const k = await generateProjectKey(alg);
      expect(k.alg).toBe(alg);
      expect(k.kid).toBe(await calculateJwkThumbprint(k.publicJwk, 'sha256'));
      expect(k.privateJwk.kid).toBe(k.kid);
      expect(k.privateJwk.alg).toBe(alg);
      expect(k.privateJwk.d).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect('d' in k.publicJwk).toBe(false);
      expect(parsePublicJwk(k.publicJwk)).toEqual(k.publicJwk);
      // the private half is for the same public key
      expect(k.privateJwk.x).toBe(k.publicJwk.x);
      expect(await calculateJwkThumbprint(k.privateJwk, 'sha256')).toBe(k.kid);
      // and both halves import for their algorithm
      await expect(importJWK(k.privateJwk, alg)).resolves.toBeDefined();
      await expect(importJWK(k.publicJwk, alg)).resolves.toBeDefined();
    });
  }

  it('makes a different key each time', async () => {
    const [a, b] = await Promise.all([generateProjectKey('ES256'), generateProjectKey('ES256')]);
    expect(a.kid).not.toBe(b.kid);
  });
});
