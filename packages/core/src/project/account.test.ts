// The stored hash is checked against an independent SHA-256 (Node's), not this module's own
// WebCrypto code: a test may use node:*, the module may not.
// eslint-disable-next-line no-restricted-imports -- independent reference implementation
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashAccountKey, isAccountKey, newAccountKey } from './account.js';

const fixed =
  (byte: number) =>
  (n: number): Uint8Array =>
    new Uint8Array(n).fill(byte);

describe('newAccountKey', () => {
  it('is pa_ + base64url of 32 random bytes', () => {
    let asked = 0;
    const key = newAccountKey((n) => {
      asked = n;
      return fixed(0xff)(n);
    });
    expect(asked).toBe(32);
    expect(key).toBe(`pa_${Buffer.alloc(32, 0xff).toString('base64url')}`);
    expect(key).toMatch(/^pa__{42}8$/); // 0xff… in base64url: '/' → '_', no padding
  });

  it('uses WebCrypto by default and has the account key shape', () => {
    const a = newAccountKey();
    const b = newAccountKey();
    expect(a).toMatch(/^pa_[A-Za-z0-9_-]{43}$/);
    expect(isAccountKey(a)).toBe(true);
    expect(a).not.toBe(b);
  });
});

describe('isAccountKey', () => {
  const good = newAccountKey(fixed(7));

  it('accepts pa_ + 43 base64url characters', () => {
    expect(isAccountKey(good)).toBe(true);
    expect(isAccountKey(`pa_${'-'.repeat(43)}`)).toBe(true);
  });

  it('refuses other shapes', () => {
    for (const text of [
      '',
      'pa_',
      good.slice(0, -1), // 42 characters
      `${good}A`, // 44 characters
      good.replace('pa_', 'pb_'),
      good.replace('pa_', 'PA_'),
      `pa_${'+'.repeat(43)}`, // base64, not base64url
      `pa_${'A'.repeat(42)}=`,
      ` ${good}`,
      `${good}\n`,
    ]) {
      expect(isAccountKey(text)).toBe(false);
    }
  });
});

describe('hashAccountKey', () => {
  it('is the lowercase hex SHA-256 of the UTF-8 key', async () => {
    const key = newAccountKey(fixed(1));
    const expected = createHash('sha256').update(key, 'utf8').digest('hex');
    expect(await hashAccountKey(key)).toBe(expected);
    expect(await hashAccountKey(key)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('matches the FIPS 180-2 "abc" vector', async () => {
    expect(await hashAccountKey('abc')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });

  it('differs for different keys and is stable for one key', async () => {
    const a = newAccountKey(fixed(1));
    const b = newAccountKey(fixed(2));
    expect(await hashAccountKey(a)).toBe(await hashAccountKey(a));
    expect(await hashAccountKey(a)).not.toBe(await hashAccountKey(b));
  });
});
