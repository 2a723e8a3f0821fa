/**
 * Property tests of what hosts read off a request before the app runs (docs/fuzzing.md): the
 * session path, the credentials in headers, and the session socket a TURN username names. Never a throw; a name read from a path is a
 * valid one; a token is read back exactly as it was offered.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { NAME_PATTERN } from '../names.js';
import { fuzzFile } from '../test/fuzz.js';
import { bearer, tokenFromProtocols } from '../token/token.js';
import { sessionRelayId } from '../session/relay.js';
import { isSignalPath, parseSessionPath } from './routes.js';

const fuzzIt = fuzzFile('routes');

const segment = (): fc.Arbitrary<string> =>
  fc.oneof(
    fc.stringMatching(/^[a-z0-9][a-z0-9-]{1,62}$/),
    fc.string({ unit: 'binary', maxLength: 20 }).map(encodeURIComponent),
    fc.stringMatching(/^[A-Za-z0-9%._~-]{0,20}$/),
  );

fuzzIt(
  'parseSessionPath reads a valid name or none, and never throws',
  10_000,
  fc.property(
    fc.oneof(
      fc.string({ maxLength: 80 }),
      fc
        .tuple(
          segment(),
          fc.constantFrom('', '/ws', '/connect', '/Ws', '/a/b'),
          fc.string({ maxLength: 10 }),
        )
        .map(([id, sub, q]) => `/api/session/${id}${sub}?${q}`),
    ),
    (path) => {
      const p = parseSessionPath('GET', path);
      if (p === undefined) return;
      expect(path.startsWith('/api/session/')).toBe(true);
      if (p.id !== undefined) expect(p.id).toMatch(NAME_PATTERN);
      expect(p.endpoint).toBe(`GET /api/session/:id${p.sub}`);
      expect(isSignalPath(path)).toBe(false);
    },
  ),
);

const token = (): fc.Arbitrary<string> => fc.stringMatching(/^[\x21-\x2b\x2d-\x7e]{1,80}$/);

fuzzIt(
  'bearer and tokenFromProtocols give back the offered token, and never throw on any header',
  10_000,
  fc.property(
    token(),
    fc.string({ maxLength: 80 }),
    fc.constantFrom('Bearer ', 'bearer  ', 'BEARER '),
    (t, junk, scheme) => {
      expect(bearer(`${scheme}${t}`)).toBe(t);
      expect(tokenFromProtocols(`punch.v1, punch.token.${t}`)).toBe(t);
      const b = bearer(junk);
      if (b !== undefined) expect(junk).toContain(b);
      const p = tokenFromProtocols(junk);
      if (p !== undefined) expect(junk).toContain(`punch.token.${p}`);
    },
  ),
);

fuzzIt(
  'sessionRelayId reads back the session and socket it was given, and nothing from junk',
  10_000,
  fc.property(
    fc.stringMatching(/^[a-z0-9][a-z0-9-]{1,62}$/),
    fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
    fc.string({ unit: 'binary', maxLength: 80 }),
    (session, conn, junk) => {
      expect(sessionRelayId(`${session}/${conn}`)).toEqual({ session, conn });
      const j = sessionRelayId(junk);
      if (j !== undefined) {
        expect(j.session).toMatch(NAME_PATTERN);
        expect(`${j.session}/${j.conn}`).toBe(junk);
      }
    },
  ),
);
