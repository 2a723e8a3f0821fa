/**
 * Real coturn in `use-auth-secret` mode (as docs/turn.md configures it), for every test that
 * checks TURN against it: the agent's TURN client, the Workers host's credentials, the NAT lab
 * and the WebRTC lab. One configuration, one start-up wait.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const WAIT_MS = 10_000;

/** True when `turnserver` is on the PATH. */
export function hasCoturn(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v turnserver'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A port free on loopback right now (TCP and UDP alike are free in this range here). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => {
        resolve(typeof a === 'object' && a !== null ? a.port : 0);
      });
    });
  });
}

export interface Coturn {
  readonly port: number;
  stop(): void;
}

export interface CoturnOptions {
  /** The address it listens and relays on. Default 127.0.0.1. */
  readonly ip?: string;
  /** Its TURN port. Default: a free one on loopback. */
  readonly port?: number;
  /** Its relayed ports, inclusive. Default: 41 ports picked from the listening port. */
  readonly relayPorts?: readonly [number, number];
  /**
   * Relay to loopback peers too (coturn refuses them by default, as a public deployment should):
   * for peers on loopback or private lab addresses. Default true.
   */
  readonly loopbackPeers?: boolean;
  /** Starts the process (e.g. in a network namespace). Default: a plain spawn. */
  readonly spawn?: (command: string, args: string[]) => ChildProcess;
}

/** Starts coturn with `secret` as its static-auth-secret; resolves once it listens. */
export async function startCoturn(secret: string, options: CoturnOptions = {}): Promise<Coturn> {
  const dir = mkdtempSync(join(tmpdir(), 'punch-coturn-'));
  const ip = options.ip ?? '127.0.0.1';
  const port = options.port ?? (await freePort());
  const low = 40000 + (port % 20000);
  const [min, max] = options.relayPorts ?? [low, low + 40];
  const conf = join(dir, 'turnserver.conf');
  writeFileSync(
    conf,
    [
      `listening-ip=${ip}`,
      `relay-ip=${ip}`,
      `listening-port=${port}`,
      `min-port=${min}`,
      `max-port=${max}`,
      'use-auth-secret',
      `static-auth-secret=${secret}`,
      'realm=punch.test',
      'fingerprint',
      'no-tls',
      'no-dtls',
      'no-cli',
      'no-multicast-peers',
      ...(options.loopbackPeers === false ? [] : ['allow-loopback-peers']),
      `pidfile=${join(dir, 'turnserver.pid')}`,
      'log-file=stdout',
      'simple-log',
      '',
    ].join('\n'),
  );
  const start =
    options.spawn ??
    ((command: string, args: string[]) =>
      spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
  const child: ChildProcess = start('turnserver', ['-c', conf]);
  const stop = (): void => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  const lines: string[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`coturn did not start:\n${lines.slice(-20).join('\n')}`));
      }, WAIT_MS);
      const onData = (c: Buffer): void => {
        for (const l of c.toString('utf8').split('\n')) {
          lines.push(l);
          if (/relay .*initialized|Total General servers|IPv4. UDP listener opened/i.test(l)) {
            clearTimeout(timer);
            resolve();
          }
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`coturn exited with ${code}:\n${lines.slice(-20).join('\n')}`));
      });
    });
  } catch (err) {
    stop();
    throw err;
  }
  return { port, stop };
}
