import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import {
  CAPACITY_DEFAULTS,
  TTL_MAX,
  TTL_MIN,
  parseLimitOverride,
  type LimitConfig,
  type LimitSpec,
} from '@punch/core';
import {
  ListenError,
  RELAY_DEFAULTS,
  parsePortRange,
  startServer,
  type LogLevel,
} from '@punch/node';
import { seconds } from './admin.js';
import { UsageError } from './usage.js';

export const SERVE_HELP = `punch serve — run Punch: HTTP API, WebSocket rooms, STUN, SQLite

  --host ADDR          interface to listen on (default 0.0.0.0)
  --port N             HTTP port (default 8787; 0 = any free port)
  --stun-port N        STUN UDP port (default 3478; 0 = any free port)
  --no-stun            run without the STUN server (and so without the relay)
  --no-relay           run without the TURN relay on the STUN port (on by default)
  --relay-ports LO-HI  UDP ports relayed addresses are bound from (default 49152-65535)
  --relay-ip ADDR      address advertised as the relayed address (default: the one the client reached)
  --relay-max-bps N    bandwidth cap per allocation, bits/s (default 50000000)
  --relay-allow-private  relay to loopback, link-local and private addresses too (LAN use)
  --data-dir DIR       SQLite database and generated secret (default ./punch-data)
  --public-host NAME   host name agents send STUN to (default: the host they reached the API at)
  --public-url URL     base URL for links and QR codes (default: from the request)
  --trust-proxy        trust X-Forwarded-For/-Proto from a reverse proxy
  --tls-cert FILE      serve HTTPS/WSS with this PEM certificate chain (with --tls-key)
  --tls-key FILE       the PEM private key for --tls-cert
  --web-dir DIR        the built dashboard to serve at / (default: packages/web/dist)
  --rate-limit N=V     override a per-IP rate limit (repeatable): create=100, read=600,
                       connect=50/60, token=120, write=240, message=200/1 (per connection)
  --max-sessions N     live sessions at most (default 10000); past it: 503 ERR_CAPACITY
  --max-sockets N      open WebSockets at most, both realms (default 20000)
  --max-sockets-per-ip N  open WebSockets from one IP at most (default 200)
  --max-ttl D          longest session lifetime (default 24h): a longer create is refused (400),
                       an extension ends at the cap
  --turn-url URL       a TURN URL project peers get in welcome (repeatable), e.g.
                       turn:turn.example.com:3478?transport=udp; needs the TURN secret
  --turn-secret S      coturn's static-auth-secret (prefer PUNCH_TURN_SECRET: argv is visible)
  --max-token-ttl D    longest project peer token lifetime accepted (default 24h)
  --audit-retention D  how long project audit events are kept (default 7d)
  --log-level LEVEL    debug, info (default), warn, error, silent

Environment: PUNCH_SECRET (signing secret, ≥ 32 bytes; generated into the data dir if unset),
PUNCH_SECRET_PREVIOUS (still verifies during a rotation, never signs), PUNCH_TURN_SECRET (the
relay's TURN REST secret; derived from the signing secret if unset).`;

export async function serve(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string', default: '0.0.0.0' },
      port: { type: 'string', default: '8787' },
      'stun-port': { type: 'string', default: '3478' },
      'no-stun': { type: 'boolean', default: false },
      'no-relay': { type: 'boolean', default: false },
      'relay-ports': { type: 'string' },
      'relay-ip': { type: 'string' },
      'relay-max-bps': { type: 'string' },
      'relay-allow-private': { type: 'boolean', default: false },
      'data-dir': { type: 'string', default: process.env.PUNCH_DATA_DIR ?? './punch-data' },
      'public-host': { type: 'string' },
      'public-url': { type: 'string' },
      'trust-proxy': { type: 'boolean', default: false },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'rate-limit': { type: 'string', multiple: true, default: [] },
      'web-dir': { type: 'string' },
      'turn-url': { type: 'string', multiple: true, default: [] },
      'turn-secret': { type: 'string' },
      'max-token-ttl': { type: 'string' },
      'audit-retention': { type: 'string' },
      'max-sessions': { type: 'string' },
      'max-sockets': { type: 'string' },
      'max-sockets-per-ip': { type: 'string' },
      'max-ttl': { type: 'string' },
      'log-level': { type: 'string', default: 'info' },
    },
    strict: true,
  });
  const rateLimits: Partial<Record<keyof LimitConfig, LimitSpec>> = {};
  for (const text of values['rate-limit']) {
    try {
      const [name, spec] = parseLimitOverride(text);
      rateLimits[name] = spec;
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  const level = values['log-level'];
  if (!['debug', 'info', 'warn', 'error', 'silent'].includes(level))
    throw new UsageError(`unknown log level "${level}"`);
  const cert = values['tls-cert'];
  const key = values['tls-key'];
  if ((cert === undefined) !== (key === undefined))
    throw new UsageError('--tls-cert and --tls-key go together');
  const turnSecret = values['turn-secret'] ?? process.env.PUNCH_TURN_SECRET;
  const turnUrls = values['turn-url'];
  if (turnUrls.length > 0 && (turnSecret === undefined || turnSecret === ''))
    throw new UsageError(
      '--turn-url needs the TURN secret: set PUNCH_TURN_SECRET or --turn-secret',
    );
  for (const u of turnUrls) {
    if (!/^turns?:[^\s]+$/.test(u))
      throw new UsageError(`--turn-url must start with turn: or turns: (got "${u}")`);
  }
  const relayPorts =
    values['relay-ports'] === undefined ? undefined : parsePortRange(values['relay-ports']);
  if (values['relay-ports'] !== undefined && relayPorts === undefined)
    throw new UsageError('--relay-ports must be LOW-HIGH, ports 1-65535 (e.g. 49152-65535)');
  const relayIp = values['relay-ip'];
  if (relayIp !== undefined && isIP(relayIp) === 0)
    throw new UsageError('--relay-ip must be an IP address');
  const maxBps = Number(values['relay-max-bps'] ?? RELAY_DEFAULTS.maxBps);
  if (!Number.isSafeInteger(maxBps) || maxBps < 8000)
    throw new UsageError('--relay-max-bps must be a whole number of bits/s, at least 8000');
  const maxTtl =
    values['max-ttl'] === undefined ? undefined : seconds(values['max-ttl'], '--max-ttl');
  if (maxTtl !== undefined && (maxTtl < TTL_MIN || maxTtl > TTL_MAX))
    throw new UsageError(`--max-ttl must be between ${TTL_MIN}s and 7d`);
  const capacity = {
    maxSessions: count(values['max-sessions'], '--max-sessions', CAPACITY_DEFAULTS.sessions),
    maxSockets: count(values['max-sockets'], '--max-sockets', CAPACITY_DEFAULTS.sockets),
    maxSocketsPerIp: count(
      values['max-sockets-per-ip'],
      '--max-sockets-per-ip',
      CAPACITY_DEFAULTS.socketsPerIp,
    ),
    ...(maxTtl === undefined ? {} : { maxTtl }),
  };
  const server = await startServer({
    capacity,
    relay: values['no-relay']
      ? null
      : {
          maxBps,
          allowPrivate: values['relay-allow-private'],
          ...(turnSecret === undefined || turnSecret === '' ? {} : { secret: turnSecret }),
          ...(relayPorts === undefined ? {} : { ports: relayPorts }),
          ...(relayIp === undefined ? {} : { ip: relayIp }),
        },
    ...(cert === undefined || key === undefined ? {} : { tls: { cert, key } }),
    host: values.host,
    port: port(values.port, '--port'),
    stunPort: values['no-stun'] ? null : port(values['stun-port'], '--stun-port'),
    dataDir: values['data-dir'],
    trustProxy: values['trust-proxy'],
    rateLimits,
    logLevel: level as LogLevel,
    ...(values['public-host'] === undefined ? {} : { publicHost: values['public-host'] }),
    ...(values['public-url'] === undefined ? {} : { publicUrl: values['public-url'] }),
    ...(values['web-dir'] === undefined ? {} : { webRoot: values['web-dir'] }),
    ...(turnUrls.length === 0 || turnSecret === undefined
      ? {}
      : { turn: { secret: turnSecret, urls: turnUrls } }),
    ...(values['max-token-ttl'] === undefined
      ? {}
      : { maxTokenTtl: seconds(values['max-token-ttl'], '--max-token-ttl') }),
    ...(values['audit-retention'] === undefined
      ? {}
      : { auditRetention: seconds(values['audit-retention'], '--audit-retention') }),
  }).catch((err: unknown) => {
    throw err instanceof ListenError ? new Error(listenFailure(err), { cause: err }) : err;
  });
  // One human line on stderr: stdout carries only the JSON logs, so `punch serve | jq` works.
  const base = values['public-url']?.replace(/\/+$/, '') ?? server.url;
  process.stderr.write(`Dashboard: ${base}/\n`);
  if (process.stderr.isTTY) {
    process.stderr.write(
      `  API ${server.url}  ${values['no-relay'] ? 'STUN' : 'STUN+TURN'} ${server.stunPort === null ? 'off' : `udp/${server.stunPort}`}  data ${values['data-dir']}\n` +
        `  Create a session:  curl -s -X POST ${server.url}/api/session\n\n`,
    );
  }
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await server.close();
  return 0;
}

/** What to tell the operator when a socket could not listen: which one, and what to do. */
export function listenFailure(err: ListenError): string {
  const where = `${err.host}:${err.port}`;
  const fix =
    err.listener === 'http'
      ? 'choose another with --port'
      : err.listener === 'stun'
        ? 'choose another with --stun-port, or run without STUN (--no-stun)'
        : 'free it, choose another --stun-port, or run without the relay (--no-relay)';
  const what =
    err.listener === 'http'
      ? `HTTP port ${err.port}`
      : err.listener === 'stun'
        ? `STUN port ${err.port} (UDP)`
        : `port ${err.port} (TCP, the relay's TURN over TCP beside STUN)`;
  switch (err.code) {
    case 'EADDRINUSE':
      return `${what} is already in use on ${err.host} (is another Punch running?): ${fix}`;
    case 'EACCES':
      return `not allowed to listen on ${what}: ports below 1024 need privileges; ${fix}`;
    case 'EADDRNOTAVAIL':
      return `cannot listen on ${where}: no interface of this machine has that address (--host)`;
    default:
      return `cannot listen on ${what} at ${where} (${err.code}): ${fix}`;
  }
}

/** A capacity flag: a whole number, at least 1 (0 would refuse everything). */
function count(text: string | undefined, flag: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1)
    throw new UsageError(`${flag} must be a whole number, at least 1 (got "${text}")`);
  return n;
}

function port(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new UsageError(`${flag} must be a port number (0-65535)`);
  return n;
}
