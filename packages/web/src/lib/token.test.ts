import { describe, expect, it } from 'vitest';
import { readToken, takeTokenFromUrl } from './token.js';

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
