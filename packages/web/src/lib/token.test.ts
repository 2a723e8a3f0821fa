import { describe, expect, it } from 'vitest';
import { pastedToken, readToken, takeTokenFromUrl } from './token.js';

const b64 = (o: unknown): string =>
  btoa(JSON.stringify(o)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const token = (o: unknown): string => `p_${b64(o)}.c2lnbmF0dXJl`;

function fakeWindow(href: string) {
  const calls: string[] = [];
  const loc = { href } as Location;
  const hist = {
    state: null,
    replaceState: (_s: unknown, _t: string, url: string) => {
      calls.push(url);
    },
  } as unknown as History;
  return { loc, hist, calls };
}

describe('readToken', () => {
  it('reads session, role, stream and expiry from a p_ token', () => {
    const t = token({ session: 'nab-floor', role: 'peer', stream: 'cam-1', exp: 42, sid: 'x' });
    expect(readToken(t)).toEqual({ session: 'nab-floor', role: 'peer', stream: 'cam-1', exp: 42 });
  });
  it('returns null for anything else', () => {
    expect(readToken('hello')).toBeNull();
    expect(readToken('p_bm90anNvbg.sig')).toBeNull();
    expect(readToken(token({ session: 1, role: 'admin', stream: null, exp: 1 }))).toBeNull();
    expect(readToken(token({ session: 's', role: 'root', stream: null, exp: 1 }))).toBeNull();
  });
});

describe('takeTokenFromUrl', () => {
  it('takes ?t= and leaves the path without it', () => {
    const w = fakeWindow('https://punch.example/s/show?t=p_abc.def&x=1');
    expect(takeTokenFromUrl(w.loc, w.hist)).toBe('p_abc.def');
    expect(w.calls).toEqual(['/s/show?x=1']);
  });
  it('takes #t= (never sent to the server) the same way', () => {
    const w = fakeWindow('https://punch.example/session/show#t=p_abc.def');
    expect(takeTokenFromUrl(w.loc, w.hist)).toBe('p_abc.def');
    expect(w.calls).toEqual(['/session/show']);
  });
  it('leaves a URL without a token alone', () => {
    const w = fakeWindow('https://punch.example/session/show');
    expect(takeTokenFromUrl(w.loc, w.hist)).toBeNull();
    expect(w.calls).toEqual([]);
  });
});

describe('pastedToken', () => {
  const admin = token({ session: 'nab-floor', role: 'admin', stream: null, exp: 42 });
  it('takes the token from a pasted producer link (#t=), whole or just its fragment', () => {
    expect(pastedToken(`https://punch.example/session/nab-floor#t=${admin}`)).toBe(admin);
    expect(pastedToken(`  http://10.0.0.5:8787/session/nab-floor#t=${admin}\n`)).toBe(admin);
    expect(pastedToken(`/session/nab-floor#t=${admin}`)).toBe(admin);
    expect(pastedToken(`#t=${admin}`)).toBe(admin);
    expect(readToken(pastedToken(`https://punch.example/session/nab-floor#t=${admin}`))).toEqual({
      session: 'nab-floor',
      role: 'admin',
      stream: null,
      exp: 42,
    });
  });
  it('takes it from ?t= (an operator link) too', () => {
    expect(pastedToken(`https://punch.example/s/nab-floor?t=${admin}&x=1`)).toBe(admin);
  });
  it('leaves a bare token as it is, trimmed', () => {
    expect(pastedToken(`  ${admin} `)).toBe(admin);
  });
  it('hands anything else back for readToken to refuse', () => {
    for (const junk of [
      'hello',
      'https://punch.example/session/nab-floor',
      '#t=',
      'http://[::1#t=x',
    ]) {
      expect(readToken(pastedToken(junk))).toBeNull();
    }
    expect(pastedToken('https://punch.example/')).toBe('https://punch.example/');
  });
});
