import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { HostPort } from './options.js';
import type { StreamOptions } from './stream-options.js';
import { execEnds } from './tool-commands.js';

/** A local UDP address srt-live-transmit binds under `--exec`, and the flag that moves it. */
export interface ExecBind extends HostPort {
  readonly flag: string;
}

/**
 * The local UDP address an srt-live-transmit URI binds by a fixed port, or undefined when it
 * binds none (an SRT caller without `port=`, a UDP output, a file, a pipe). `host` is '' for
 * every interface. Read as srt-live-transmit reads it (its `srt://` and `udp://` media), so a
 * port another program holds is found before srt-live-transmit fails on it and is restarted
 * again and again.
 *
 * @example
 * uriBind('srt://:9000?mode=listener', 'input'); // { host: '', port: 9000 }
 * uriBind('udp://127.0.0.1:5000', 'input'); // { host: '127.0.0.1', port: 5000 }
 * uriBind('srt://10.0.0.2:9000', 'output'); // undefined (a caller)
 */
export function uriBind(uri: string, end: 'input' | 'output'): HostPort | undefined {
  const m = /^(srt|udp):\/\/@?(\[[^\]]*\]|[^:/?@[]*):(\d{1,5})\/?(?:\?(.*))?$/i.exec(uri.trim());
  if (m === null) return undefined;
  const scheme = m[1]?.toLowerCase();
  const host = (m[2] ?? '').replace(/^\[|\]$/g, '');
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  const q = new URLSearchParams(m[4] ?? '');
  const adapter = q.get('adapter') ?? undefined;
  const localPort = Number(q.get('port') ?? NaN);
  if (scheme === 'udp') {
    if (end === 'output') return undefined;
    // An input joins a multicast group on every interface (or the adapter) at that port.
    return { host: adapter ?? (isMulticast(host) ? '' : host), port };
  }
  const mode = (q.get('mode') ?? (host === '' ? 'listener' : 'caller')).toLowerCase();
  if (mode === 'listener' || mode === 'server') return { host: adapter ?? host, port };
  if (mode === 'rendezvous')
    return {
      host: adapter ?? '',
      port: Number.isInteger(localPort) && localPort <= 65535 ? localPort : port,
    };
  return Number.isInteger(localPort) && localPort > 0 && localPort <= 65535
    ? { host: adapter ?? '', port: localPort }
    : undefined;
}

/**
 * What srt-live-transmit binds under `--exec`: the user's URI (moved with `--exec`) and, when
 * receiving, its listener at `--srt-target`.
 */
export function execBinds(o: StreamOptions): ExecBind[] {
  if (o.exec === undefined) return [];
  // The ports do not depend on the stream's key: any parameters will do here.
  const [input, output] = execEnds(o, o.exec, { passphrase: '', pbkeylen: 16, latencyMs: 0 });
  const ends: [string, 'input' | 'output', string][] =
    o.role === 'sender'
      ? [
          [input, 'input', '--exec'],
          [output, 'output', '--srt-listen'],
        ]
      : [
          [input, 'input', '--srt-target'],
          [output, 'output', '--exec'],
        ];
  return ends.flatMap(([uri, end, flag]) => {
    const b = uriBind(uri, end);
    return b === undefined || b.port === 0 ? [] : [{ ...b, flag }];
  });
}

/** A port srt-live-transmit needs is held by another program. */
export class ExecPortBusy extends Error {
  readonly code = 'EADDRINUSE';
  readonly bind: ExecBind;
  constructor(bind: ExecBind, options: { cause: unknown }) {
    super(
      `${where(bind)} is already in use, and srt-live-transmit (--exec) must bind it: another ` +
        `agent or SRT tool holds it; stop it, or choose another port with ${bind.flag}`,
      options,
    );
    this.name = 'ExecPortBusy';
    this.bind = bind;
  }
}

/** `host:port` as the operator wrote it ('' is every interface). */
export function where(b: HostPort): string {
  const host = b.host === '' ? '0.0.0.0' : b.host;
  return isIPv6(host) ? `[${host}]:${b.port}` : `${host}:${b.port}`;
}

/**
 * Throws ExecPortBusy for the first of `binds` another program holds, by binding each for a
 * moment (without SO_REUSEADDR, so even another SRT tool, which sets it, is seen). Other bind
 * errors (an address not on this machine) are srt-live-transmit's to report.
 */
export async function assertExecPortsFree(binds: readonly ExecBind[]): Promise<void> {
  for (const b of binds) {
    const err = await tryBind(b);
    if (err?.code === 'EADDRINUSE') throw new ExecPortBusy(b, { cause: err });
  }
}

function tryBind(b: HostPort): Promise<NodeJS.ErrnoException | undefined> {
  const host = b.host === '' ? '0.0.0.0' : b.host;
  const socket = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
  return new Promise((resolve) => {
    socket.once('error', (err: NodeJS.ErrnoException) => {
      try {
        socket.close();
      } catch {
        // Already closed by the failed bind: nothing is held either way.
      }
      resolve(err);
    });
    socket.bind(b.port, host, () => {
      socket.close(() => {
        resolve(undefined);
      });
    });
  });
}

function isMulticast(host: string): boolean {
  const first = Number(host.split('.')[0]);
  return (/^\d+\.\d+\.\d+\.\d+$/.test(host) && first >= 224 && first <= 239) || /^ff/i.test(host);
}
