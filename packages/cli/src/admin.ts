import { parseArgs } from 'node:util';
import {
  ConnectInfo,
  SessionCreated,
  SessionExtended,
  SessionView,
  TallySchema,
  TokenClaimsSchema,
  type TokenClaims,
  TokenCreated,
  fromBase64url,
  fromUtf8,
  qrTerminal,
} from '@punch/core';
import { PunchClient } from './client.js';
import { connectLines } from './connect-lines.js';
import { presence } from './presence.js';
import { UsageError } from './usage.js';

export interface Io {
  readonly env: NodeJS.ProcessEnv;
  out(text: string): void;
}

const COMMON = {
  server: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

export function client(
  values: { server?: string | undefined; token?: string | undefined },
  io: Io,
  needToken = true,
): PunchClient {
  const server = values.server ?? io.env.PUNCH_SERVER ?? 'http://localhost:8787';
  const token = values.token ?? io.env.PUNCH_TOKEN;
  if (needToken && (token === undefined || token === '')) {
    throw new UsageError(
      'an admin token is needed: pass --token or set PUNCH_TOKEN (printed by "punch session create")',
    );
  }
  return new PunchClient(server, token === '' ? undefined : token);
}

/** A token's claims, read and not verified (the server verifies); undefined if unreadable. */
function readClaims(token: string | undefined): TokenClaims | undefined {
  const payload = token?.startsWith('p_') === true ? token.slice(2).split('.')[0] : undefined;
  const bytes = payload === undefined ? undefined : fromBase64url(payload);
  if (bytes === undefined) return undefined;
  try {
    const claims = TokenClaimsSchema.safeParse(JSON.parse(fromUtf8(bytes)));
    return claims.success ? claims.data : undefined;
  } catch {
    // Not JSON: not a token we can read (the caller says what that means).
    return undefined;
  }
}

/** The session named on the command line, or the one the token is for (read, not verified). */
export function sessionId(positional: string | undefined, token: string | undefined): string {
  if (positional !== undefined) return positional;
  const claims = readClaims(token);
  if (claims !== undefined) return claims.session;
  throw new UsageError(
    'name the session (punch session show SESSION) or set PUNCH_TOKEN to its admin token',
  );
}

/** Parses the common options of a command on one session: client, session id, flags. */
function target(argv: string[], io: Io): { values: { json: boolean }; c: PunchClient; id: string } {
  const { values, positionals } = parseArgs({
    args: argv,
    options: COMMON,
    allowPositionals: true,
  });
  return {
    values,
    c: client(values, io),
    id: sessionId(positionals[0], values.token ?? io.env.PUNCH_TOKEN),
  };
}

const list = (text: string | undefined): string[] =>
  text === undefined || text === ''
    ? []
    : text
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');

export async function sessionCommand(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'create':
      return sessionCreate(rest, io);
    case 'show':
      return sessionShow(rest, io);
    case 'close':
      return sessionClose(rest, io);
    case 'extend':
      return sessionExtend(rest, io);
    case 'connect':
      return sessionConnect(rest, io);
    default:
      throw new UsageError(
        `punch session: expected create, show, extend, connect or close (got "${sub ?? ''}")`,
      );
  }
}

async function sessionCreate(argv: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...COMMON,
      name: { type: 'string' },
      ttl: { type: 'string' },
      streams: { type: 'string' },
      relay: { type: 'string' },
    },
  });
  const body: Record<string, unknown> = {};
  if (values.name !== undefined) body.name = values.name;
  if (values.relay !== undefined) {
    if (values.relay !== 'auto' && values.relay !== 'always')
      throw new UsageError(
        '--relay is auto (direct when possible, relayed otherwise) or always (IP privacy: media always through the relay)',
      );
    body.relay = values.relay;
  }
  if (values.ttl !== undefined) body.ttl = seconds(values.ttl);
  if (values.streams !== undefined) body.streams = list(values.streams);
  const res = SessionCreated.parse(
    await client(values, io, false).request('POST', '/api/session', body),
  );
  if (values.json) {
    io.out(JSON.stringify(res));
    return 0;
  }
  io.out(
    [
      `Session ${res.session} created; it ends ${localTime(res.expiresAt)}.`,
      `Streams: ${res.streams.join(', ')}`,
      res.relay === 'always'
        ? "Relay: always (IP privacy: media goes through the relay; peers never learn each other's IP)"
        : 'Relay: auto (direct when the networks allow it, relayed otherwise)',
      '',
      'Admin token (keep it private; it controls the session):',
      `  export PUNCH_TOKEN=${res.token}`,
      '',
      // The token rides in the fragment: browsers never send it, and the page removes it.
      `Dashboard: ${res.urls.dashboard}#t=${res.token}`,
      '',
      `Next: punch token --stream ${res.streams[0] ?? 'main'}   (a peer token and QR code for an operator)`,
    ].join('\n'),
  );
  return 0;
}

async function sessionShow(argv: string[], io: Io): Promise<number> {
  const { values, c, id } = target(argv, io);
  const view = SessionView.parse(await c.request('GET', `/api/session/${encodeURIComponent(id)}`));
  if (values.json) {
    io.out(JSON.stringify(view));
    return 0;
  }
  const rows = view.streams.map((s) => {
    const tally = s.tally === 'program' ? 'ON AIR' : s.tally === 'preview' ? 'PREVIEW' : '';
    // A path up with no media is an alarm: it reads as one, not as a state among others.
    const state = s.state === 'no-signal' ? 'NO SIGNAL (path up, no media)' : s.state;
    return [s.name, state, presence(s.sender), presence(s.receiver), tally];
  });
  const relay = view.relay === 'always' ? ' — relay: always (IP privacy)' : '';
  io.out(`Session ${view.session} — ends ${localTime(view.expiresAt)}${relay}\n`);
  io.out(table([['STREAM', 'STATE', 'SENDER', 'RECEIVER', 'TALLY'], ...rows]));
  for (const s of view.streams) {
    const t = s.takeover;
    if (t === null) continue;
    const by = t.by === 'peer' ? 'a new agent (takeover)' : 'a connection with the admin token';
    io.out(`${s.name}: ${t.role} replaced by ${by} at ${localTime(Math.floor(t.at / 1000))}`);
  }
  return 0;
}

async function sessionClose(argv: string[], io: Io): Promise<number> {
  const { values, c, id } = target(argv, io);
  await c.request('DELETE', `/api/session/${encodeURIComponent(id)}`);
  io.out(
    values.json
      ? JSON.stringify({ session: id, closed: true })
      : `Session ${id} closed: peers were disconnected and its data deleted.`,
  );
  return 0;
}

async function sessionExtend(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...COMMON, ttl: { type: 'string' }, by: { type: 'string' } },
    allowPositionals: true,
  });
  if ((values.ttl === undefined) === (values.by === undefined))
    throw new UsageError(
      'punch session extend needs --by (add to the current end, e.g. --by 1h) or --ttl (end at least that long from now, e.g. --ttl 2h)',
    );
  const c = client(values, io);
  const id = sessionId(positionals[0], values.token ?? io.env.PUNCH_TOKEN);
  const path = `/api/session/${encodeURIComponent(id)}`;
  let ttl: number;
  if (values.by !== undefined) {
    const by = seconds(values.by, '--by');
    const view = SessionView.parse(await c.request('GET', path));
    // The server never shortens: the new end is the current one plus --by.
    ttl = view.expiresAt + by - Math.floor(Date.now() / 1000);
  } else ttl = seconds(values.ttl ?? '');
  const res = SessionExtended.parse(await c.request('PATCH', path, { ttl }));
  if (values.json) {
    io.out(JSON.stringify(res));
    return 0;
  }
  // The old token (and the producer link that carries it) still ends where the session did:
  // a saved dashboard link would stop working at the old end, in the middle of the show.
  const oldEnd = readClaims(values.token ?? io.env.PUNCH_TOKEN)?.exp;
  io.out(
    [
      `Session ${id} now ends ${localTime(res.expiresAt)}.`,
      'New admin token:',
      `  export PUNCH_TOKEN=${res.token}`,
      '',
      `Dashboard: ${dashboardLink(c.server, id, res.token)}`,
      '',
      oldEnd === undefined
        ? 'The old admin token and dashboard link stop working at the old end: use these instead.'
        : `The old admin token and dashboard link stop working ${localTime(oldEnd)}: use these instead.`,
    ].join('\n'),
  );
  return 0;
}

async function sessionConnect(argv: string[], io: Io): Promise<number> {
  const { values, c, id } = target(argv, io);
  const info = ConnectInfo.parse(
    await c.request('GET', `/api/session/${encodeURIComponent(id)}/connect`),
  );
  if (values.json) {
    io.out(JSON.stringify(info));
    return 0;
  }
  io.out(`SRT: key length ${info.pbkeylen} bytes, latency ${info.latencyMs} ms\n`);
  for (const s of info.streams) {
    io.out(`Stream ${s.name}`);
    // The value alone on its line: a triple-click copies it and nothing else.
    io.out(`  SRT passphrase (this stream's own):\n    ${s.passphrase}`);
    for (const [label, line] of connectLines(s.commands)) {
      io.out(`  ${label}:\n    ${line}`);
      // Right under the punch peer lines: what LINK is, and how to make it.
      if (line.endsWith("'LINK' --receive"))
        io.out(
          `  LINK: the operator link of ${s.name}, from \`punch token --stream ${s.name}\`\n` +
            '  (never the admin token: an agent with it takes over a live slot).',
        );
    }
    io.out('');
  }
  return 0;
}

export async function tokenCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      ...COMMON,
      stream: { type: 'string' },
      all: { type: 'boolean', default: false },
      ttl: { type: 'string' },
    },
    allowPositionals: true,
  });
  if (values.stream === undefined && !values.all) {
    throw new UsageError(
      'punch token needs --stream NAME (one stream slot) or --all (every stream)',
    );
  }
  const c = client(values, io);
  const id = sessionId(positionals[0], values.token ?? io.env.PUNCH_TOKEN);
  const body: Record<string, unknown> = { stream: values.all ? null : values.stream };
  if (values.ttl !== undefined) body.ttl = seconds(values.ttl);
  const res = TokenCreated.parse(
    await c.request('POST', `/api/session/${encodeURIComponent(id)}/tokens`, body),
  );
  if (values.json) {
    io.out(
      JSON.stringify({
        token: res.token,
        stream: res.stream,
        expiresAt: res.expiresAt,
        url: res.url,
      }),
    );
    return 0;
  }
  io.out(
    [
      `Peer token for ${res.stream === null ? 'every stream' : `stream "${res.stream}"`} of ${id}, valid until ${localTime(res.expiresAt)}.`,
      'Anyone with this link or QR code can join that stream slot: share it only with the operator.',
      '',
      qrTerminal(res.url),
      '',
      `Link:  ${res.url}`,
      `Token: ${res.token}`,
    ].join('\n'),
  );
  return 0;
}

export async function tallyCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...COMMON, program: { type: 'string' }, preview: { type: 'string' } },
    allowPositionals: true,
  });
  const c = client(values, io);
  const id = sessionId(positionals[0], values.token ?? io.env.PUNCH_TOKEN);
  const res = TallySchema.parse(
    await c.request('PUT', `/api/session/${encodeURIComponent(id)}/tally`, {
      program: list(values.program),
      preview: list(values.preview),
    }),
  );
  io.out(
    values.json
      ? JSON.stringify(res)
      : `Tally set. ON AIR: ${res.program.join(', ') || '—'}   PREVIEW: ${res.preview.join(', ') || '—'}`,
  );
  return 0;
}

/**
 * The producer's link to the session's dashboard, as the dashboard's own ProducerLink builds it:
 * the token rides in the fragment, which browsers never send (and the page removes it).
 */
function dashboardLink(origin: string, session: string, token: string): string {
  return `${origin}/session/${session}#t=${token}`;
}

/**
 * A duration in seconds from `90s`, `30m`, `24h` or `7d`. A bare number is refused: `--ttl 90`
 * could mean seconds or minutes, and on show day a guess is a session that ends too soon.
 */
export function seconds(text: string, flag = '--ttl'): number {
  const m = /^(\d+)(s|m|h|d)$/.exec(text);
  if (m === null)
    throw new UsageError(
      `${flag} takes a number with its unit: 90s, 30m, 24h or 7d (got "${text}")`,
    );
  const unit = { s: 1, m: 60, h: 3600, d: 86400 }[m[2] ?? 's'] ?? 1;
  return Number(m[1]) * unit;
}

/**
 * A moment for people: local time with its zone, and how far off it is.
 *
 * @example
 * localTime(1795424605, 1795417405); // 'Mon, 7 Dec 2026, 18:03 CET (in 2 h 0 min)'
 */
export function localTime(unixS: number, nowS: number = Date.now() / 1000): string {
  const when = new Intl.DateTimeFormat('en-GB', {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    timeZoneName: 'short',
  }).format(new Date(unixS * 1000));
  const left = Math.round(unixS - nowS);
  const abs = Math.abs(left);
  const span =
    abs >= 3600
      ? `${Math.floor(abs / 3600)} h ${Math.floor((abs % 3600) / 60)} min`
      : `${Math.floor(abs / 60)} min ${abs % 60} s`;
  return `${when} (${left >= 0 ? `in ${span}` : `${span} ago`})`;
}

export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
