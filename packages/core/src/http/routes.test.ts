import { describe, expect, it } from 'vitest';
import { routeLimit } from './limits.js';
import { isSignalPath, parseSessionPath } from './routes.js';

describe('parseSessionPath', () => {
  it('splits a session path into name, sub-route and endpoint', () => {
    expect(parseSessionPath('GET', '/api/session/nab-floor/ws')).toEqual({
      id: 'nab-floor',
      sub: '/ws',
      endpoint: 'GET /api/session/:id/ws',
    });
    expect(parseSessionPath('PATCH', '/api/session/nab-floor')).toEqual({
      id: 'nab-floor',
      sub: '',
      endpoint: 'PATCH /api/session/:id',
    });
    expect(parseSessionPath('GET', '/api/session/nab-floor/ws?t=x')?.sub).toBe('/ws');
  });

  it('names no session for a malformed or impossible name (hosts answer 404)', () => {
    expect(parseSessionPath('GET', '/api/session/%ZZ/ws')?.id).toBeUndefined();
    expect(parseSessionPath('GET', '/api/session/-bad/ws')?.id).toBeUndefined();
    expect(parseSessionPath('GET', '/api/session/Upper')?.id).toBeUndefined();
  });

  it('is undefined for other paths', () => {
    for (const p of ['/api/session', '/api/session/', '/api/session/a/b/c', '/api/signal', '/']) {
      expect([p, parseSessionPath('GET', p)]).toEqual([p, undefined]);
    }
  });
});

describe('isSignalPath', () => {
  it('matches the signalling socket only', () => {
    expect(isSignalPath('/api/signal')).toBe(true);
    expect(isSignalPath('/api/signal?x=1')).toBe(true);
    expect(isSignalPath('/api/signals')).toBe(false);
    expect(isSignalPath('/api/signal/x')).toBe(false);
  });
});

describe('routeLimit', () => {
  it("is the seed's table: create, read and connect per IP", () => {
    const at = (method: string, path: string): string | undefined =>
      routeLimit(parseSessionPath(method, path)?.endpoint ?? `${method} ${path}`);
    expect(at('POST', '/api/session')).toBe('create');
    expect(at('GET', '/api/session/a1')).toBe('read');
    expect(at('GET', '/api/session/a1/connect')).toBe('read');
    expect(at('GET', '/api/session/a1/health')).toBe('read');
    expect(at('GET', '/api/session/a1/ws')).toBe('connect');
    expect(at('GET', '/api/signal')).toBe('connect');
    // Every route that writes or renders counts too (DESIGN.md "Limits").
    expect(at('POST', '/api/session/a1/tokens')).toBe('token');
    expect(at('PATCH', '/api/session/a1')).toBe('write');
    expect(at('DELETE', '/api/session/a1')).toBe('write');
    expect(at('PUT', '/api/session/a1/tally')).toBe('write');
    expect(at('GET', '/healthz')).toBeUndefined();
    // A HEAD is answered by the GET handler: it counts as that GET.
    expect(at('HEAD', '/api/session/a1/health')).toBe('read');
    expect(at('HEAD', '/api/session/a1')).toBe('read');
    expect(routeLimit('toString')).toBeUndefined();
  });
});
