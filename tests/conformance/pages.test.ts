/**
 * The dashboard and the operator page as every host serves them: the right document per path,
 * hashed assets cached for a year, and headers that keep a token in the URL from leaking.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHost, type Host } from './host.js';

let host: Host;
beforeAll(async () => {
  host = await startHost();
});
afterAll(async () => {
  await host.stop();
});

const get = (path: string): Promise<Response> => fetch(`${host.url}${path}`);

describe('web pages', () => {
  it('serves the dashboard at / and /session/:id, the operator page at /s/:id', async () => {
    for (const [path, script] of [
      ['/', 'Punch — sessions'],
      ['/session/nab-floor', 'Punch — sessions'],
      ['/s/nab-floor?t=p_x.y', 'Punch — your stream'],
    ] as const) {
      const r = await get(path);
      expect(r.status, path).toBe(200);
      expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(r.headers.get('cache-control')).toBe('no-store');
      expect(await r.text()).toContain(script);
    }
  });

  it('sends no Referer from pages whose URL holds a token, and allows only same-origin code', async () => {
    const r = await get('/s/nab-floor?t=p_x.y');
    expect(r.headers.get('referrer-policy')).toBe('no-referrer');
    const csp = r.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it("serves the pages' hashed assets with their types, cached as immutable", async () => {
    const html = await (await get('/')).text();
    const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.some((a) => a.endsWith('.js'))).toBe(true);
    expect(assets.some((a) => a.endsWith('.css'))).toBe(true);
    for (const a of assets) {
      const r = await get(a);
      expect(r.status, a).toBe(200);
      expect(r.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(r.headers.get('content-type')).toMatch(
        a.endsWith('.js') ? /^text\/javascript/ : /^text\/css/,
      );
    }
  });

  it('answers unknown or escaping asset paths with a 404 problem', async () => {
    for (const path of ['/assets/nope.js', '/assets/..%2F..%2Fpackage.json', '/assets/.env']) {
      const r = await get(path);
      expect(r.status, path).toBe(404);
      expect(((await r.json()) as { code: string }).code).toBe('ERR_NOT_FOUND');
    }
  });
});
