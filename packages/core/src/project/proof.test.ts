import { CompactSign, SignJWT, importJWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { PunchError } from '../errors.js';
import { generateProjectKey } from './keys.js';
import { KEY_PROOF_TYP, KEY_PROOF_WINDOW, keyRefused, verifyKeyProof } from './proof.js';

type Made = Awaited<ReturnType<typeof generateProjectKey>>;

const NOW = 1_741_234_000_000;
const NOWS = NOW / 1000;
const PROJECT = 'pr-abc12345';

let ed: Made;
let es: Made;
beforeAll(async () => {
  [ed, es] = await Promise.all([generateProjectKey('EdDSA'), generateProjectKey('ES256')]);
});

/** A proof made with jose directly (not with the SDK's createKeyProof). */
async function proof(
  signer: Made,
  payload: unknown = { project: PROJECT, iat: NOWS },
  typ: string = KEY_PROOF_TYP,
): Promise<string> {
  const key = await importJWK(signer.privateJwk, signer.alg);
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: signer.alg, typ })
    .sign(key);
}

async function outcome(p: unknown, of: Made = ed, project = PROJECT): Promise<string> {
  try {
    await verifyKeyProof(p, { publicJwk: of.publicJwk, project, now: NOW });
    return 'accepted';
  } catch (err) {
    if (!(err instanceof PunchError)) throw err;
    // Every refusal is the one answer: same code, same words.
    expect(err.message).toBe(keyRefused().message);
    return err.code;
  }
}

describe('verifyKeyProof', () => {
  it('accepts a proof by the key itself, for this project, within the window (EdDSA, ES256)', async () => {
    expect(await outcome(await proof(ed))).toBe('accepted');
    expect(await outcome(await proof(es), es)).toBe('accepted');
    const edge = { project: PROJECT, iat: NOWS - KEY_PROOF_WINDOW };
    expect(await outcome(await proof(ed, edge))).toBe('accepted');
  });

  it('refuses a missing, non-string or oversized proof', async () => {
    expect(await outcome(undefined)).toBe('ERR_KEY_REFUSED');
    expect(await outcome(42)).toBe('ERR_KEY_REFUSED');
    expect(await outcome('x'.repeat(5000))).toBe('ERR_KEY_REFUSED');
    expect(await outcome('not.a.jws')).toBe('ERR_KEY_REFUSED');
  });

  it('refuses a proof signed by another key (one does not hold the uploaded key)', async () => {
    const other = await generateProjectKey('EdDSA');
    expect(await outcome(await proof(other))).toBe('ERR_KEY_REFUSED');
    expect(await outcome(await proof(es), ed)).toBe('ERR_KEY_REFUSED');
  });

  it('refuses a proof for another project, a stale or future one, and a malformed payload', async () => {
    expect(await outcome(await proof(ed), ed, 'pr-other')).toBe('ERR_KEY_REFUSED');
    const stale = { project: PROJECT, iat: NOWS - KEY_PROOF_WINDOW - 1 };
    expect(await outcome(await proof(ed, stale))).toBe('ERR_KEY_REFUSED');
    const ahead = { project: PROJECT, iat: NOWS + KEY_PROOF_WINDOW + 1 };
    expect(await outcome(await proof(ed, ahead))).toBe('ERR_KEY_REFUSED');
    expect(await outcome(await proof(ed, { project: PROJECT }))).toBe('ERR_KEY_REFUSED');
    expect(await outcome(await proof(ed, [PROJECT, NOWS]))).toBe('ERR_KEY_REFUSED');
  });

  it('refuses a peer token (or any JWS of another typ) signed by the key', async () => {
    expect(await outcome(await proof(ed, undefined, 'JWT'))).toBe('ERR_KEY_REFUSED');
    const token = await new SignJWT({ project: PROJECT, iat: NOWS })
      .setProtectedHeader({ alg: 'EdDSA', kid: ed.kid, typ: 'JWT' })
      .sign(await importJWK(ed.privateJwk, 'EdDSA'));
    expect(await outcome(token)).toBe('ERR_KEY_REFUSED');
  });
});
