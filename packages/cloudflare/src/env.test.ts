import { describe, expect, it } from 'vitest';
import { PunchError, RATE_LIMITS } from '@punch/core';
import { keyRing, limitConfig, publicBase, seconds, type Env } from './env.js';

const env = (vars: Partial<Record<keyof Env, string>>): Env => vars as unknown as Env;

describe('seconds', () => {
  it('reads whole seconds and falls back when unset or blank', () => {
    expect(seconds('3600', 'X', 5)).toBe(3600);
    expect(seconds(undefined, 'X', 5)).toBe(5);
    expect(seconds(' ', 'X', 5)).toBe(5);
  });
  it('refuses anything else loudly, naming the variable (a cap must never become no cap)', () => {
    for (const bad of ['24h', '-1', '0', '1.5', 'NaN', 'Infinity']) {
      expect(() => seconds(bad, 'PUNCH_MAX_TOKEN_TTL', 5)).toThrow(/PUNCH_MAX_TOKEN_TTL/);
    }
  });
});

describe('limitConfig', () => {
  it("is the seed's table unless overridden, in the --rate-limit syntax", () => {
    expect(limitConfig(env({}))).toEqual(RATE_LIMITS);
    const l = limitConfig(env({ PUNCH_RATE_LIMITS: 'create=20, connect=50/60' }));
    expect(l.create.limit).toBe(20);
    expect(l.connect).toEqual({ limit: 50, windowMs: 60_000 });
    expect(l.read).toEqual(RATE_LIMITS.read);
  });
  it('refuses a malformed override', () => {
    expect(() => limitConfig(env({ PUNCH_RATE_LIMITS: 'create=lots' }))).toThrow();
  });
});

describe('keyRing', () => {
  it('says how to set a missing or short secret', async () => {
    for (const PUNCH_SECRET of [undefined, '', 'short']) {
      const err = await keyRing(env(PUNCH_SECRET === undefined ? {} : { PUNCH_SECRET })).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(PunchError);
      expect((err as PunchError).message).toContain('wrangler secret put PUNCH_SECRET');
    }
  });
  it('builds one ring per environment', async () => {
    const e = env({ PUNCH_SECRET: 'x'.repeat(32) });
    expect(await keyRing(e)).toBe(await keyRing(e));
  });
});

describe('publicBase', () => {
  it('prefers the configured public URL, else the request origin', () => {
    const req = new Request('https://punch.acme.workers.dev/api/session');
    expect(publicBase(env({}), req)).toBe('https://punch.acme.workers.dev');
    expect(publicBase(env({ PUNCH_PUBLIC_URL: 'https://punch.example.com/' }), req)).toBe(
      'https://punch.example.com',
    );
  });
});
