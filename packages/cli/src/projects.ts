import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  AuditView,
  KeyList,
  KeyView,
  NameSchema,
  ProjectDetail,
  ProjectList,
  ProjectView,
  generateProjectKey,
  hashAccountKey,
  newAccountKey,
} from '@punch/core';
import { createKeyProof, mintPeerToken } from '@punch/sdk';
import { seconds, table, type Io } from './admin.js';
import { PunchClient } from './client.js';
import { UsageError } from './usage.js';

/**
 * The projects realm from the command line: accounts (an operator command on the server's data
 * directory), projects, members and keys (an account's API key), and minting peer tokens with
 * a local private key.
 */

const ACCOUNT = {
  server: { type: 'string' },
  'account-key': { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

function accountClient(
  values: { server?: string | undefined; 'account-key'?: string | undefined },
  io: Io,
): PunchClient {
  const key = values['account-key'] ?? io.env.PUNCH_ACCOUNT_KEY;
  if (key === undefined || key === '') {
    throw new UsageError(
      'an account key is needed: set PUNCH_ACCOUNT_KEY (printed once by "punch account create") or pass --account-key',
    );
  }
  return new PunchClient(values.server ?? io.env.PUNCH_SERVER ?? 'http://localhost:8787', key);
}

const path = (...parts: string[]): string => parts.map(encodeURIComponent).join('/');

/** `punch account create NAME --data-dir DIR` and `punch account rekey NAME --data-dir DIR`. */
export async function accountCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      'data-dir': { type: 'string', default: io.env.PUNCH_DATA_DIR ?? './punch-data' },
      json: { type: 'boolean', default: false },
    },
    allowPositionals: true,
  });
  const [sub, name] = positionals;
  if ((sub !== 'create' && sub !== 'rekey') || name === undefined) {
    throw new UsageError('usage: punch account (create|rekey) NAME --data-dir DIR');
  }
  if (!NameSchema.safeParse(name).success) {
    throw new UsageError(
      `account names are lowercase letters, digits and "-", 2 to 63 characters (got "${name}")`,
    );
  }
  const file = join(values['data-dir'], 'punch.sqlite');
  if (!existsSync(file)) {
    throw new UsageError(
      `no Punch database at ${file}: start "punch serve --data-dir ${values['data-dir']}" once, or pass the right --data-dir`,
    );
  }
  const key = newAccountKey();
  const hash = await hashAccountKey(key);
  // Loaded only here (better-sqlite3): `punch peer` and the other commands run without it.
  const { SqliteProjectStore } = await import('@punch/node');
  const store = new SqliteProjectStore(file);
  let ok: boolean;
  try {
    ok =
      sub === 'create'
        ? store.createAccount(name, hash, Math.floor(Date.now() / 1000))
        : store.rekeyAccount(name, hash);
  } finally {
    store.close();
  }
  {
    if (!ok) {
      throw new UsageError(
        sub === 'create' ? `account "${name}" exists (rekey it instead)` : `no account "${name}"`,
      );
    }
    io.out(
      values.json
        ? JSON.stringify({ account: name, key })
        : [
            `Account "${name}" ${sub === 'create' ? 'created' : 'has a new key; the old one no longer works'}.`,
            'Its API key is shown this once; Punch keeps only a hash:',
            `  export PUNCH_ACCOUNT_KEY=${key}`,
          ].join('\n'),
    );
  }
  return 0;
}

/** `punch project create|list|show|delete|add-member|remove-member|audit`. */
export async function projectCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...ACCOUNT, limit: { type: 'string' } },
    allowPositionals: true,
  });
  const [sub, arg, arg2] = positionals;
  const c = accountClient(values, io);
  const need = (v: string | undefined, what: string): string => {
    if (v === undefined) throw new UsageError(`punch project ${sub ?? ''} needs ${what}`);
    return v;
  };
  const print = (json: unknown, text: string): void => {
    io.out(values.json ? JSON.stringify(json) : text);
  };
  switch (sub) {
    case 'create': {
      const p = ProjectView.parse(
        await c.request('POST', '/api/projects', { name: need(arg, 'a NAME') }),
      );
      print(p, `Project "${p.name}" created: ${p.id}\n  export PUNCH_PROJECT=${p.id}`);
      return 0;
    }
    case 'list': {
      const { projects } = ProjectList.parse(await c.request('GET', '/api/projects'));
      print(
        projects,
        projects.length === 0
          ? 'No projects yet: punch project create NAME'
          : table([
              ['ID', 'NAME', 'CREATED'],
              ...projects.map((p) => [p.id, p.name, iso(p.createdAt)]),
            ]),
      );
      return 0;
    }
    case 'show': {
      const id = need(arg ?? io.env.PUNCH_PROJECT, 'a project ID (or PUNCH_PROJECT)');
      const p = ProjectDetail.parse(await c.request('GET', `/api/projects/${path(id)}`));
      print(
        p,
        [
          `${p.name} (${p.id}), created ${iso(p.createdAt)}`,
          `Members: ${p.members.join(', ')}`,
          p.keys.length === 0
            ? 'Keys: none yet (punch key create)'
            : table([
                ['KID', 'ALG', 'CREATED'],
                ...p.keys.map((k) => [k.kid, k.alg, iso(k.createdAt)]),
              ]),
        ].join('\n'),
      );
      return 0;
    }
    case 'delete': {
      const id = need(arg, 'a project ID');
      await c.request('DELETE', `/api/projects/${path(id)}`);
      print(
        { deleted: id },
        `Project ${id} deleted: its keys no longer verify and its peers were disconnected.`,
      );
      return 0;
    }
    case 'add-member': {
      const id = need(arg, 'a project ID and an ACCOUNT');
      const account = need(arg2, 'an ACCOUNT');
      await c.request('POST', `/api/projects/${path(id)}/members`, { account });
      print({ project: id, account }, `"${account}" is now a member of ${id}.`);
      return 0;
    }
    case 'remove-member': {
      const id = need(arg, 'a project ID and an ACCOUNT');
      const account = need(arg2, 'an ACCOUNT');
      await c.request('DELETE', `/api/projects/${path(id, 'members', account)}`);
      print({ project: id, removed: account }, `"${account}" is no longer a member of ${id}.`);
      return 0;
    }
    case 'audit': {
      const id = need(arg ?? io.env.PUNCH_PROJECT, 'a project ID (or PUNCH_PROJECT)');
      const limit = values.limit === undefined ? '' : `?limit=${encodeURIComponent(values.limit)}`;
      const a = AuditView.parse(await c.request('GET', `/api/projects/${path(id)}/audit${limit}`));
      const who = (r: { group: string; peer: string } | null): string =>
        r === null ? '' : `${r.group}/${r.peer}`;
      print(
        a.events,
        a.events.length === 0
          ? 'No events.'
          : table([
              ['TIME', 'KIND', 'FROM', 'TO', 'OUTCOME'],
              ...a.events.map((e) => [
                new Date(e.at).toISOString(),
                e.kind,
                who(e.from),
                who(e.to),
                e.outcome,
              ]),
            ]),
      );
      return 0;
    }
    default:
      throw new UsageError(
        'usage: punch project (create NAME | list | show ID | delete ID | add-member ID ACCOUNT | remove-member ID ACCOUNT | audit ID)',
      );
  }
}

/** `punch key create|list|delete --project ID`. */
/** A kid: an RFC 7638 SHA-256 thumbprint, 43 base64url characters (it may begin with "-"). */
const KID = /^[A-Za-z0-9_-]{43}$/;

export async function keyCommand(argv: string[], io: Io): Promise<number> {
  // `key delete KID`: a kid can begin with "-", which the option parser would take for one.
  const kidArg = argv[0] === 'delete' && KID.test(argv[1] ?? '') ? argv[1] : undefined;
  const { values, positionals } = parseArgs({
    args: kidArg === undefined ? argv : [argv[0] ?? '', ...argv.slice(2)],
    options: {
      ...ACCOUNT,
      project: { type: 'string' },
      alg: { type: 'string', default: 'EdDSA' },
      out: { type: 'string' },
    },
    allowPositionals: true,
  });
  const [sub, kidPositional] = positionals;
  const kid = kidArg ?? kidPositional;
  const project = values.project ?? io.env.PUNCH_PROJECT;
  if (project === undefined || project === '') {
    throw new UsageError('name the project: --project ID (or set PUNCH_PROJECT)');
  }
  const c = accountClient(values, io);
  const base = `/api/projects/${path(project)}/keys`;
  switch (sub) {
    case 'create': {
      if (values.alg !== 'EdDSA' && values.alg !== 'ES256') {
        throw new UsageError(
          `--alg is EdDSA (Ed25519, the default) or ES256 (P-256), not "${values.alg}"`,
        );
      }
      // The pair is made here; only the public half leaves this machine.
      const made = await generateProjectKey(values.alg);
      const out = values.out ?? `punch-key-${made.kid.slice(0, 8)}.json`;
      if (existsSync(out)) throw new UsageError(`${out} exists: choose another file with --out`);
      // Proof of possession: Punch registers a public key only for its private key's holder.
      const proof = await createKeyProof({ privateKey: made.privateJwk, project });
      const res = KeyView.parse(
        await c.request('POST', base, { publicJwk: made.publicJwk, proof }),
      );
      if (res.kid !== made.kid)
        throw new Error(`the server named the key ${res.kid}, expected ${made.kid}`);
      // `project` in the file lets mintPeerToken set `aud` from the file alone.
      const file = { ...made.privateJwk, project };
      writeFileSync(out, `${JSON.stringify(file, null, 2)}\n`, {
        mode: 0o600,
        flag: 'wx',
      });
      io.out(
        values.json
          ? JSON.stringify({ kid: res.kid, alg: res.alg, file: out })
          : [
              `Key ${res.kid} (${res.alg}) registered with project ${project}.`,
              `Private key written to ${out} (mode 600). Keep it on your server; Punch never sees it.`,
              `Mint a test token:  punch token mint --key ${out} --group demo --peer alice`,
            ].join('\n'),
      );
      return 0;
    }
    case 'list': {
      const { keys } = KeyList.parse(await c.request('GET', base));
      io.out(
        values.json
          ? JSON.stringify(keys)
          : keys.length === 0
            ? 'No keys: punch key create'
            : table([
                ['KID', 'ALG', 'CREATED'],
                ...keys.map((k) => [k.kid, k.alg, iso(k.createdAt)]),
              ]),
      );
      return 0;
    }
    case 'delete': {
      if (kid === undefined) throw new UsageError('punch key delete KID --project ID');
      await c.request('DELETE', `${base}/${path(kid)}`);
      io.out(
        values.json
          ? JSON.stringify({ deleted: kid })
          : `Key ${kid} deleted: tokens it signed no longer verify, and their connections were closed.`,
      );
      return 0;
    }
    default:
      throw new UsageError(
        'usage: punch key (create [--alg EdDSA|ES256] [--out FILE] | list | delete KID) --project ID',
      );
  }
}

/** `punch token mint --key FILE --group G --peer P [--allow G/P ...] [--ttl 1h] [--project ID]`. */
export async function mintCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      key: { type: 'string' },
      project: { type: 'string' },
      group: { type: 'string' },
      peer: { type: 'string' },
      allow: { type: 'string', multiple: true, default: [] },
      ttl: { type: 'string', default: '1h' },
    },
  });
  if (values.key === undefined || values.group === undefined || values.peer === undefined) {
    throw new UsageError('punch token mint needs --key FILE --group GROUP --peer PEER');
  }
  let jwk: unknown;
  try {
    jwk = JSON.parse(readFileSync(values.key, 'utf8'));
  } catch (cause) {
    throw new UsageError(`cannot read a private JWK from ${values.key}`, { cause });
  }
  const priv = jwk as { kid?: unknown; project?: unknown };
  if (typeof priv.kid !== 'string')
    throw new UsageError(`${values.key} has no "kid": use a file written by "punch key create"`);
  // The token's `aud`: files from `punch key create` name their project; older ones need it given.
  const project =
    values.project ?? (typeof priv.project === 'string' ? priv.project : io.env.PUNCH_PROJECT);
  if (project === undefined || project === '') {
    throw new UsageError(`${values.key} names no project: pass --project ID (or PUNCH_PROJECT)`);
  }
  const allow =
    values.allow.length === 0
      ? [{ group: values.group, peer: '*' }]
      : values.allow.map((a) => {
          const [group, peer, ...rest] = a.split('/');
          if (
            group === undefined ||
            peer === undefined ||
            rest.length > 0 ||
            group === '' ||
            peer === ''
          ) {
            throw new UsageError(`--allow takes GROUP/PEER patterns such as "demo/*" (got "${a}")`);
          }
          return { group, peer };
        });
  const token = await mintPeerToken({
    keyId: priv.kid,
    project,
    privateKey: jwk as Record<string, string>,
    group: values.group,
    peer: values.peer,
    allow,
    ttl: seconds(values.ttl),
  });
  io.out(token);
  return 0;
}

const iso = (s: number): string => new Date(s * 1000).toISOString().replace('.000Z', 'Z');
