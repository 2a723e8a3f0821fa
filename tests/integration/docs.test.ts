/** The reference docs stay complete: every error code and every wire message is documented. */
import { existsSync, readFileSync } from 'node:fs';
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

describe('docs', () => {
  it('errors.md lists every code with its HTTP status and close code', () => {
    const doc = read('errors.md');
    for (const [code, spec] of Object.entries(ERRORS)) {
      expect(doc).toMatch(
        new RegExp(`\\| +\`${code}\` +\\| +${spec.status} +\\| +${spec.close} +\\|`),
      );
    }
    const documented = [...doc.matchAll(/\| +`(ERR_[A-Z_]+)` +\|/g)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(ERRORS).sort());
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
});
