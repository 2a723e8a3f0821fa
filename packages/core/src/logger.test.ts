import { describe, expect, it } from 'vitest';
import { errorFields } from './logger.js';

describe('errorFields', () => {
  it('keeps name, message, stack and cause for the server log', () => {
    const cause = Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' });
    const f = errorFields(new TypeError('cannot read x', { cause }));
    expect(f.name).toBe('TypeError');
    expect(f.message).toBe('cannot read x');
    expect(f.stack).toContain('logger.test.ts');
    expect(f.cause).toMatchObject({
      name: 'Error',
      message: 'disk I/O error',
      code: 'SQLITE_IOERR',
    });
  });

  it('masks session tokens and JWTs wherever they appear', () => {
    const token = 'p_eyJzZXNzaW9uIjoibmFiIn0.c2lnbmF0dXJlX2J5dGVz';
    const jwt = 'eyJhbGciOiJFZERTQSJ9.eyJwaWQiOiJhIn0.c2ln';
    const f = errorFields(new Error(`bad ${token} and ${jwt}`));
    expect(JSON.stringify(f)).not.toContain('c2lnbmF0dXJl');
    expect(JSON.stringify(f)).not.toContain('eyJwaWQi');
    expect(f.message).toBe('bad [redacted] and [redacted]');
  });

  it('masks them inside URLs and words too, and account keys', () => {
    const token = 'p_eyJzZXNzaW9uIjoibmFiIn0.c2lnbmF0dXJlX2J5dGVz';
    const key = `pa_${'A1b2C3d4E5'.repeat(4)}xyz`;
    const f = errorFields(
      new Error(`GET /s/nab?t%3D${token} Bearer%20${token} token_${token} account ${key}`),
    );
    expect(f.message).toBe(
      'GET /s/nab?t%3D[redacted] Bearer%20[redacted] token_[redacted] account [redacted]',
    );
  });

  it('describes a thrown non-error, and stops after two causes', () => {
    expect(errorFields('plain')).toEqual({ name: 'string', message: 'plain' });
    let e: Error = new Error('0');
    for (let i = 1; i < 6; i++) e = new Error(String(i), { cause: e });
    expect(errorFields(e).cause?.cause?.cause).toBeUndefined();
  });
});
