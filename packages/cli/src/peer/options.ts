import { parseArgs } from 'node:util';
import { TokenClaimsSchema, fromBase64url, fromUtf8, type TokenClaims } from '@punch/core';
import { UsageError } from '../usage.js';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export interface PeerOptions {
  readonly server: string;
  readonly token: string;
  readonly session: string;
  /** The stream slot; undefined: every stream of the session (an all-streams token, receiving). */
  readonly stream: string | undefined;
  readonly role: 'sender' | 'receiver';
  /** --send: where the user's SRT caller connects. */
  readonly srtListen: HostPort;
  /** --receive: the user's SRT listener (with every stream, stream i's is at its port + i). */
  readonly srtTarget: HostPort;
  /** --map NAME=HOST:PORT: where a stream's SRT listener is, instead of --srt-target's + i. */
  readonly map: ReadonlyMap<string, HostPort>;
  /** Local UDP port of the media socket (0 = any). */
  readonly mediaPort: number;
  /** Local address of the media socket (default all interfaces). */
  readonly bind: string;
  /** Offer this machine's LAN addresses as candidates (for peers behind the same NAT). */
  readonly lan: boolean;
  /** Replace a live agent that holds this slot (`--takeover`). */
  readonly takeover: boolean;
  /** External STUN server, for hosts without STUN (`registered.bind` is null). */
  readonly stun: HostPort | undefined;
  /** srt-live-transmit's other end, when the agent runs it (`--exec`). */
  readonly exec: string | undefined;
  readonly json: boolean;
  /** Seconds of probing without a direct path before giving up (exit 6). */
  readonly punchTimeout: number;
}

export const PEER_HELP = `punch peer — the SRT agent: punches through NATs and carries SRT end to end

  punch peer OPERATOR_URL (--send | --receive) [options]
  punch peer --server URL --token TOKEN (--send | --receive) [options]

  OPERATOR_URL          the link from the QR code (https://…/s/SESSION?t=TOKEN)
  --server URL          Punch's address (or PUNCH_SERVER)
  --token TOKEN         a peer or admin token (or PUNCH_TOKEN)
  --send                this side sends: your encoder connects to --srt-listen as SRT caller
  --receive             this side receives: the agent calls your SRT listener at --srt-target
  --stream NAME         the stream slot (default: the one the token is for; with a token for
                        every stream, --receive receives them all)
  --srt-listen H:P      default 127.0.0.1:9000
  --srt-target H:P      default 127.0.0.1:9100; receiving every stream, stream i (in the
                        session's order) goes to its port + i: 9100, 9101, …
  --map NAME=H:P        receiving every stream: stream NAME goes to H:P instead (repeatable)
  --port N              local UDP port for the media socket (default: any)
  --bind ADDR           local address for the media socket (default: all interfaces)
  --no-lan              do not offer this machine's LAN addresses to the other side
  --takeover            replace another agent that is live on this slot (it stops, saying so)
  --stun H:P            STUN server to use when Punch has none (e.g. on Cloudflare)
  --exec URI            run srt-live-transmit with URI as its input (--send) or output (--receive);
                        receiving every stream, one per stream: URI's port + i, or {stream}
                        replaced by the stream's name
  --punch-timeout S     give up after S seconds without a direct path (default 30; exit code 6)
  --json                NDJSON events instead of the status line

Exit codes: 0 the session ended, 1 error, 2 usage, 3 token refused, 4 no such session or stream,
6 no direct path (symmetric NAT or UDP blocked), 7 a local port is in use. Receiving every
stream, one stream's trouble does not end the agent (docs/operators.md).`;

/** A stream name (DESIGN.md "HTTP API": names). */
const STREAM_NAME = /^[a-z0-9][a-z0-9-]{1,62}$/;

function hostPort(text: string, flag: string): HostPort {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text);
  const port = Number(m?.[3]);
  if (m === null || port > 65535) throw new UsageError(`${flag} takes HOST:PORT (got "${text}")`);
  return { host: m[1] ?? (m[2] === '' || m[2] === undefined ? '127.0.0.1' : m[2]), port };
}

/** The claims of a token, read without verifying (the server verifies). */
export function readClaims(token: string): TokenClaims | undefined {
  const payload = token.startsWith('p_') ? token.slice(2).split('.')[0] : undefined;
  const bytes = payload === undefined ? undefined : fromBase64url(payload);
  if (bytes === undefined) return undefined;
  try {
    const parsed = TokenClaimsSchema.safeParse(JSON.parse(fromUtf8(bytes)));
    return parsed.success ? parsed.data : undefined;
  } catch {
    // The payload is not JSON: not a Punch token (the caller says so).
    return undefined;
  }
}

export function parsePeerOptions(argv: string[], env: NodeJS.ProcessEnv): PeerOptions {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      server: { type: 'string' },
      token: { type: 'string' },
      send: { type: 'boolean', default: false },
      receive: { type: 'boolean', default: false },
      stream: { type: 'string' },
      'srt-listen': { type: 'string', default: '127.0.0.1:9000' },
      'srt-target': { type: 'string', default: '127.0.0.1:9100' },
      port: { type: 'string', default: '0' },
      bind: { type: 'string', default: '0.0.0.0' },
      'no-lan': { type: 'boolean', default: false },
      takeover: { type: 'boolean', default: false },
      stun: { type: 'string' },
      exec: { type: 'string' },
      map: { type: 'string', multiple: true, default: [] },
      'punch-timeout': { type: 'string', default: '30' },
      json: { type: 'boolean', default: false },
    },
  });
  let server = values.server ?? env.PUNCH_SERVER;
  let token = values.token ?? env.PUNCH_TOKEN;
  const link = positionals[0];
  if (link !== undefined) {
    let url: URL;
    try {
      url = new URL(link);
    } catch {
      throw new UsageError(`"${link}" is not an operator link (https://…/s/SESSION?t=TOKEN)`);
    }
    const t = url.searchParams.get('t');
    if (!/^\/s\/[^/]+\/?$/.test(url.pathname) || t === null) {
      throw new UsageError(`"${link}" is not an operator link (https://…/s/SESSION?t=TOKEN)`);
    }
    server = url.origin;
    token = t;
  }
  if (values.send === values.receive)
    throw new UsageError('say which side this is: --send or --receive');
  if (server === undefined || server === '')
    throw new UsageError('--server (or PUNCH_SERVER, or an operator link) is required');
  if (token === undefined || token === '')
    throw new UsageError('--token (or PUNCH_TOKEN, or an operator link) is required');
  const claims = readClaims(token);
  if (claims === undefined) throw new UsageError('the token is not a Punch token (p_…)');
  // A peer token for every stream is read-only (the server refuses it as a sender whatever
  // --stream says): say so now, not after connecting.
  if (claims.role === 'peer' && claims.stream === null && values.send)
    throw new UsageError(
      'this link receives every stream (an MCR link) and cannot send: ask the producer for the link of your stream',
    );
  const stream = values.stream ?? claims.stream ?? undefined;
  // Every stream at once only makes sense for the receiving side (the MCR): a sender carries
  // the one picture its encoder makes.
  if (stream === undefined && values.send)
    throw new UsageError('this token covers every stream: name the one to send with --stream');
  const map = new Map<string, HostPort>();
  for (const entry of values.map) {
    const eq = entry.indexOf('=');
    const name = entry.slice(0, eq);
    if (eq < 1 || !STREAM_NAME.test(name))
      throw new UsageError(`--map takes NAME=HOST:PORT (got "${entry}")`);
    if (map.has(name)) throw new UsageError(`--map names "${name}" twice`);
    map.set(name, hostPort(entry.slice(eq + 1), '--map'));
  }
  if (map.size > 0 && values.send) throw new UsageError('--map is for --receive');
  const mediaPort = /^\d{1,5}$/.test(values.port) ? Number(values.port) : NaN;
  if (!Number.isInteger(mediaPort) || mediaPort < 0 || mediaPort > 65535)
    throw new UsageError('--port takes a port number');
  const punchTimeout = Number(values['punch-timeout']);
  if (!Number.isFinite(punchTimeout) || punchTimeout <= 0 || punchTimeout > 3600) {
    throw new UsageError('--punch-timeout takes a number of seconds, at most 3600');
  }
  return {
    server: server.replace(/\/+$/, ''),
    token,
    session: claims.session,
    stream,
    role: values.send ? 'sender' : 'receiver',
    srtListen: hostPort(values['srt-listen'], '--srt-listen'),
    srtTarget: hostPort(values['srt-target'], '--srt-target'),
    map,
    mediaPort,
    bind: values.bind,
    lan: !values['no-lan'],
    takeover: values.takeover,
    stun: values.stun === undefined ? undefined : hostPort(values.stun, '--stun'),
    exec: values.exec,
    json: values.json,
    punchTimeout,
  };
}
