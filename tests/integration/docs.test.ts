/** The reference docs stay complete: every error code and every wire message is documented. */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  ClientMessageSchema,
  ERRORS,
  SignalClientMessageSchema,
  type ServerMessageType,
  type SignalServerMessageType,
} from '@punch/core';

const read = (p: string): string =>
  readFileSync(new URL(`../../docs/${p}`, import.meta.url), 'utf8');

const PACKAGES = fileURLToPath(new URL('../../packages/', import.meta.url));

/**
 * Node.js's own error codes, which Punch reads (a failed `parseArgs`, a closed socket, an optional package not installed) and never
 * prints: not Punch's to document.
 */
const NODE_CODES = new Set([
  'ERR_PARSE_ARGS',
  'ERR_SOCKET_DGRAM_NOT_RUNNING',
  'ERR_MODULE_NOT_FOUND',
]);

/** The part of Punch a source file belongs to, as errors.md's `from` column names it. */
function partOf(file: string): string {
  const rel = relative(PACKAGES, file).split(/[\\/]/);
  const [pkg, , sub] = rel;
  if (pkg === 'cli') return sub === 'peer' ? 'agent' : 'CLI';
  if (pkg === 'sdk') return 'SDK';
  if (pkg === 'web') return 'dashboard';
  return 'server'; // core, node, cloudflare
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'test' || e.name === 'golden' ? [] : sourceFiles(path);
    return /\.tsx?$/.test(e.name) && !/\.test\.tsx?$/.test(e.name) ? [path] : [];
  });
}

/** Every `ERR_…` in packages/*\/src (tests excepted), with the parts whose source has it. */
function codesInSource(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const pkg of readdirSync(PACKAGES)) {
    const src = join(PACKAGES, pkg, 'src');
    if (!existsSync(src)) continue;
    for (const file of sourceFiles(src)) {
      for (const [code] of readFileSync(file, 'utf8').matchAll(/\bERR_[A-Z_]+[A-Z]\b/g)) {
        if (NODE_CODES.has(code)) continue;
        const parts = found.get(code) ?? [];
        if (!parts.includes(partOf(file))) parts.push(partOf(file));
        found.set(code, parts);
      }
    }
  }
  return found;
}

/** errors.md's rows: a code in its first cell, the part it comes from in its second. */
function errorRows(doc: string): { code: string; from: string }[] {
  return [...doc.matchAll(/^\| +`(ERR_[A-Z_]+)` +\| +([A-Za-z]+) +\|/gm)].map((m) => ({
    code: m[1] ?? '',
    from: m[2] ?? '',
  }));
}

describe('docs', () => {
  it('errors.md lists every server code with its HTTP status and close code', () => {
    const doc = read('errors.md');
    for (const [code, spec] of Object.entries(ERRORS)) {
      expect(doc).toMatch(
        new RegExp(`\\| +\`${code}\` +\\| +server +\\| +${spec.status} +\\| +${spec.close} +\\|`),
      );
    }
    const server = errorRows(doc)
      .filter((r) => r.from === 'server')
      .map((r) => r.code);
    expect(server.sort()).toEqual(Object.keys(ERRORS).sort());
  });

  it('errors.md lists every code any package prints, once, with the part it comes from', () => {
    const rows = errorRows(read('errors.md'));
    const found = codesInSource();
    // Every code in the source has its row; every row is a code the source has.
    const documented = new Set(rows.map((r) => r.code));
    const undocumented = [...found.keys()].filter((c) => !documented.has(c));
    expect(undocumented, 'codes in packages/*/src missing from docs/errors.md').toEqual([]);
    const stale = rows.filter((r) => !found.has(r.code)).map((r) => r.code);
    expect(stale, 'rows in docs/errors.md for codes no package has').toEqual([]);
    // One row per code.
    const twice = rows.map((r) => r.code).filter((c, i, all) => all.indexOf(c) !== i);
    expect(twice).toEqual([]);
    // The part it comes from: a server code is ERRORS'; any other is found in that part's source.
    for (const { code, from } of rows) {
      if (code in ERRORS) expect(from, code).toBe('server');
      else expect(found.get(code), `${code} is documented as from ${from}`).toContain(from);
    }
    // The control: the scan sees the codes of every part (a broken scan would pass the above).
    expect(found.get('ERR_PORT_IN_USE')).toContain('agent');
    expect(found.get('ERR_TOKEN_SOURCE')).toContain('SDK');
    expect(found.get('ERR_NETWORK')).toContain('dashboard');
    expect(found.get('ERR_SLOT_TAKEN')).toContain('server');
  });

  it('protocol.md documents every client and server message type', () => {
    const doc = read('protocol.md');
    const client = ClientMessageSchema.options.map((o) => o.shape.type.value);
    // `satisfies` makes the compiler reject this list when a server message type is added.
    const server = Object.keys({
      welcome: 0,
      registered: 0,
      peer: 0,
      'peer-left': 0,
      stream: 0,
      tally: 0,
      health: 0,
      token: 0,
      closed: 0,
      error: 0,
      pong: 0,
    } satisfies Record<ServerMessageType, 0>);
    for (const t of [...client, ...server]) expect(doc).toMatch(new RegExp(`\\| +\`${t}\` +\\|`));
  });

  it('protocol.md documents every signalling message type', () => {
    const doc = read('protocol.md').split('# Signalling protocol')[1] ?? '';
    const client = SignalClientMessageSchema.options.map((o) => o.shape.type.value);
    const server = Object.keys({
      welcome: 0,
      signal: 0,
      refreshed: 0,
      error: 0,
      closed: 0,
      pong: 0,
    } satisfies Record<SignalServerMessageType, 0>);
    for (const t of [...client, ...server]) expect(doc).toMatch(new RegExp(`\\| +\`${t}\` +\\|`));
  });

  it('layout.md names only files that exist', () => {
    const doc = read('layout.md');
    const packages = new URL('../../packages/', import.meta.url);
    const named: string[] = [];
    // Paths from packages/ anywhere (`core/src/errors.ts`), and bare file names inside a section
    // headed by its folder (## The session room (`core/src/session/`)).
    for (const section of doc.split(/^## /m)) {
      const folder = /^[^\n]*\(`([\w-]+\/src\/[\w/-]*\/)`\)/.exec(section)?.[1];
      for (const [, token] of section.matchAll(/`([\w./-]+\.(?:tsx?|json))`/g)) {
        if (token === undefined) continue;
        if (/^[\w-]+\/src\//.test(token)) named.push(token);
        else if (folder !== undefined && !token.includes('/')) named.push(`${folder}${token}`);
      }
    }
    expect(named.length).toBeGreaterThan(60);
    const missing = named.filter((p) => !existsSync(new URL(p, packages)));
    expect(missing).toEqual([]);
  });

  it("security.md's threat model names a test for every threat, and only tests that exist", () => {
    const section =
      read('security.md')
        .split(/^## Threat model$/m)[1]
        ?.split(/^## /m)[0] ?? '';
    const rows = section
      .split('\n')
      .filter((l) => /^\| [A-Z]/.test(l) && !l.startsWith('| threat'));
    expect(rows.length).toBeGreaterThanOrEqual(5);
    const root = new URL('../../', import.meta.url);
    for (const row of rows) {
      const tests = [...row.matchAll(/`((?:tests|packages)\/[\w./-]+\.test\.ts)`/g)].map(
        (m) => m[1] ?? '',
      );
      expect(tests, row).not.toEqual([]);
      expect(
        tests.filter((t) => !existsSync(new URL(t, root))),
        row,
      ).toEqual([]);
    }
  });
});
