/**
 * Tokens in the browser. A token arrives once in the URL (`/s/:id?t=…` from a QR code, or
 * `/session/:id#t=…` from `punch session create`), moves to sessionStorage, and leaves the
 * address bar at once, so it is not left in a screenshot, a bookmark or the next Referer.
 */

export type TokenKind = 'admin' | 'peer';

/** What a `p_` token says about itself. Read for display and routing only: the server verifies. */
export interface TokenInfo {
  session: string;
  role: 'admin' | 'peer';
  stream: string | null;
  exp: number;
}

/**
 * Decodes a token's payload without verifying it, or null if it is not a `p_` token.
 *
 * @example
 * readToken(token)?.session // 'nab-floor'
 */
export function readToken(token: string): TokenInfo | null {
  const m = /^p_([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]+$/.exec(token.trim());
  if (m?.[1] === undefined) return null;
  try {
    const b64 = m[1].replace(/-/g, '+').replace(/_/g, '/');
    const json: unknown = JSON.parse(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)));
    if (typeof json !== 'object' || json === null) return null;
    const p = json as Record<string, unknown>;
    const { session, role, stream, exp } = p;
    if (typeof session !== 'string' || (role !== 'admin' && role !== 'peer')) return null;
    if (typeof exp !== 'number' || !(stream === null || typeof stream === 'string')) return null;
    return { session, role, stream, exp };
  } catch {
    // Not base64url JSON: not a token this page can read (the server is the judge of tokens).
    return null;
  }
}

/**
 * Takes a token from `?t=` or `#t=` and removes it from the address bar (history entry
 * replaced, nothing added). Returns null when the URL carries none.
 */
export function takeTokenFromUrl(loc: Location = location, hist: History = history): string | null {
  const url = new URL(loc.href);
  const fromQuery = url.searchParams.get('t');
  const fromHash = new URLSearchParams(url.hash.slice(1)).get('t');
  const token = fromQuery ?? fromHash;
  if (token === null) return null;
  url.searchParams.delete('t');
  url.hash = '';
  hist.replaceState(hist.state, '', url.pathname + url.search);
  return token;
}

/**
 * The token in what was pasted into a token field: the token itself, or a link that carries one
 * (the producer link `…/session/:id#t=…`, an operator link `…/s/:id?t=…`, or just `#t=…`).
 * Anything else comes back trimmed, for `readToken` to refuse.
 *
 * @example
 * pastedToken('https://punch.example/session/show#t=p_abc.def') // 'p_abc.def'
 */
export function pastedToken(text: string): string {
  const trimmed = text.trim();
  // A bare token has no `t=`; only a link (or its fragment) is looked into.
  if (!/[#?&]t=/.test(trimmed)) return trimmed;
  try {
    // Relative to a placeholder base, so `#t=…` and `/session/x#t=…` parse as well as a full URL.
    const url = new URL(trimmed, 'http://pasted.invalid/');
    const token =
      new URLSearchParams(url.hash.slice(1)).get('t') ?? url.searchParams.get('t') ?? trimmed;
    return token.trim();
  } catch {
    // Not a URL at all: handed back as typed, for readToken to refuse in the usual words.
    return trimmed;
  }
}

const key = (kind: TokenKind, session: string): string => `punch:${kind}:${session}`;

/** Tokens for this tab only (sessionStorage): closing the tab forgets them. */
export const tokens = {
  get(kind: TokenKind, session: string): string | null {
    try {
      return sessionStorage.getItem(key(kind, session));
    } catch {
      return null; // storage disabled: the page still works until reload
    }
  },
  set(kind: TokenKind, session: string, token: string): void {
    try {
      sessionStorage.setItem(key(kind, session), token);
    } catch {
      // storage disabled or full: the token lives in memory only
    }
  },
  forget(kind: TokenKind, session: string): void {
    try {
      sessionStorage.removeItem(key(kind, session));
    } catch {
      // nothing stored
    }
  },
};
