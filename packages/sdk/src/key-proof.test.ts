import { compactVerify, decodeProtectedHeader, exportJWK, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { KEY_PROOF_TYP as CORE_TYP, generateProjectKey, verifyKeyProof } from '@punch/core';
import { createKeyProof, KEY_PROOF_TYP } from './key-proof.js';

describe('createKeyProof', () => {
  it('makes a proof the server accepts, for the project named (EdDSA and ES256)', async () => {
    expect(KEY_PROOF_TYP).toBe(CORE_TYP);
    for (const alg of ['EdDSA', 'ES256'] as const) {
      const made = await generateProjectKey(alg);
      const now = Date.UTC(2030, 0, 1);
      const proof = await createKeyProof({ privateKey: made.privateJwk, project: 'pr-1', now });
      expect(decodeProtectedHeader(proof)).toEqual({ alg, typ: KEY_PROOF_TYP });
      await expect(
        verifyKeyProof(proof, { publicJwk: made.publicJwk, project: 'pr-1', now }),
      ).resolves.toBeUndefined();
      await expect(
        verifyKeyProof(proof, { publicJwk: made.publicJwk, project: 'pr-2', now }),
      ).rejects.toMatchObject({ code: 'ERR_KEY_REFUSED' });
    }
  });

  it('signs {project, iat} with a CryptoKey too', async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    const proof = await createKeyProof({ privateKey: pair.privateKey, project: 'pr-1', now: 5000 });
    const { payload } = await compactVerify(proof, pair.publicKey);
    expect(JSON.parse(new TextDecoder().decode(payload))).toEqual({ project: 'pr-1', iat: 5 });
  });

  it('refuses a public key, a missing project and a bad time', async () => {
    const pair = await generateKeyPair('EdDSA', { extractable: true });
    const pub = await exportJWK(pair.publicKey);
    await expect(createKeyProof({ privateKey: pub, project: 'pr-1' })).rejects.toThrow(/public/);
    await expect(createKeyProof({ privateKey: pair.privateKey, project: '' })).rejects.toThrow(
      TypeError,
    );
    await expect(
      createKeyProof({ privateKey: pair.privateKey, project: 'pr-1', now: Number.NaN }),
    ).rejects.toThrow(TypeError);
  });
});
