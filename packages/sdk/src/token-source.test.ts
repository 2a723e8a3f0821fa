import { describe, expect, it } from 'vitest';
import { notATokenMessage, tokenFailureMessage } from './token-source.js';

const JWT =
  'eyJhbGciOiJFZERTQSIsImtpZCI6ImsxIn0.eyJncnAiOiJnIiwicGVlciI6ImFsaWNlIn0.c2lnbmF0dXJlc2lnbmF0dXJl';

describe('tokenFailureMessage: getToken() threw', () => {
  it("carries a thrown Response's status, status text and the body's error.message", async () => {
    const res = new Response(JSON.stringify({ error: { message: 'not logged in' } }), {
      status: 401,
      statusText: 'Unauthorized',
    });
    expect(await tokenFailureMessage(res)).toBe(
      'getToken() failed: the token endpoint answered 401 Unauthorized: not logged in',
    );
  });

  it('reads `error`, `message` and `error_description` too, and plain text bodies', async () => {
    const answer = (body: string) => tokenFailureMessage(new Response(body, { status: 403 }));
    expect(await answer('{"error":"no such room"}')).toMatch(/403: no such room$/);
    expect(await answer('{"message":"quota"}')).toMatch(/403: quota$/);
    expect(await answer('{"error_description":"expired session"}')).toMatch(
      /403: expired session$/,
    );
    expect(await answer('Forbidden by policy')).toMatch(/403: Forbidden by policy$/);
    // An HTML error page or an empty body: the status alone.
    expect(await answer('<html><body>oops</body></html>')).toMatch(/answered 403$/);
    expect(await answer('')).toMatch(/answered 403$/);
  });

  it("carries an Error's message (what a fetch wrapper throws), on one line", async () => {
    expect(await tokenFailureMessage(new Error('HTTP 500:\nupstream\r\ndown'))).toBe(
      'getToken() failed: HTTP 500: upstream down',
    );
    expect(await tokenFailureMessage('offline')).toBe('getToken() failed: offline');
    expect(await tokenFailureMessage(undefined)).toBe('getToken() failed');
  });

  it('cuts long text and never echoes a token', async () => {
    const long = await tokenFailureMessage(new Error('x'.repeat(10_000)));
    expect(long.length).toBeLessThan(300);
    const leaked = await tokenFailureMessage(new Error(`bad format: ${JWT}`));
    expect(leaked).not.toContain(JWT.split('.')[1]);
    expect(leaked).toContain('[token]');
  });
});

describe('notATokenMessage: getToken() resolved to something else', () => {
  it("carries an error body's text read as the token", () => {
    expect(notATokenMessage('{"error":{"message":"not logged in"}}')).toBe(
      'getToken() returned no token: not logged in',
    );
    expect(notATokenMessage('Unauthorized')).toBe('getToken() returned no token: Unauthorized');
  });

  it('says the token is not a JWT for the rest, and never echoes a token', () => {
    expect(notATokenMessage(42)).toBe('the token is not a JWT (compact form)');
    expect(notATokenMessage(undefined)).toBe('the token is not a JWT (compact form)');
    expect(notATokenMessage('<!doctype html><p>login</p>')).toBe(
      'the token is not a JWT (compact form)',
    );
    expect(notATokenMessage(`"${JWT}"\n`)).not.toContain(JWT.split('.')[2]);
  });
});
