import { describe, expect, it } from 'vitest';
import { silentLogger } from '../logger.js';
import { RATE_LIMITS, RateLimiter } from '../ratelimit.js';
import { KeyRing } from '../token/token.js';
import { createSessionApi, type HealthStatus } from './api.js';

/** The API with only what `/healthz` needs, and the host's `health` hook (or none). */
async function api(health?: () => HealthStatus) {
  return createSessionApi({
    keys: await KeyRing.fromSecrets('healthz-test-secret-0123456789abcdef-xyz'),
    now: () => 0,
    rooms: { get: () => undefined, create: () => undefined },
    limits: {
      create: new RateLimiter(RATE_LIMITS.create),
      read: new RateLimiter(RATE_LIMITS.read),
      token: new RateLimiter(RATE_LIMITS.token),
      write: new RateLimiter(RATE_LIMITS.write),
    },
    clientIp: () => '203.0.113.1',
    publicBase: () => 'https://punch.test',
    log: silentLogger,
    ...(health === undefined ? {} : { health }),
  });
}

describe('/healthz', () => {
  it('answers 200 {ok: true} on a host without a health hook (Workers)', async () => {
    const res = await (await api()).request('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });

  it('answers 503 with the reason while the host says storage fails, 200 once it recovers', async () => {
    let status: HealthStatus = {
      ok: false,
      reason: 'storage: the disk is full (SQLITE_FULL)',
      since: 7,
    };
    const app = await api(() => status);
    const down = await app.request('/healthz');
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBe('5');
    expect(await down.json()).toEqual(status);
    status = { ok: true };
    expect((await app.request('/healthz')).status).toBe(200);
  });
});
