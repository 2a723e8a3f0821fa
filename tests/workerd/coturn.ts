/**
 * Real coturn on loopback in `use-auth-secret` mode (as docs/turn.md configures it), for tests
 * that check credentials by allocating with them. Flags as in tests/integration/turn-client.test.ts.
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

/** Starts coturn with `secret` as its static-auth-secret; resolves once it listens. */
export async function startCoturn(secret: string): Promise<Coturn> {
  const dir = mkdtempSync(join(tmpdir(), 'punch-coturn-'));
  const port = await freePort();
  const relayLow = 40000 + (port % 20000);
  const conf = join(dir, 'turnserver.conf');
  writeFileSync(
    conf,
    [
      'listening-ip=127.0.0.1',
      'relay-ip=127.0.0.1',
      `listening-port=${port}`,
      `min-port=${relayLow}`,
      `max-port=${relayLow + 40}`,
      'use-auth-secret',
      `static-auth-secret=${secret}`,
      'realm=punch.test',
      'fingerprint',
      'no-tls',
      'no-dtls',
      'no-cli',
      'no-multicast-peers',
      'allow-loopback-peers',
      `pidfile=${join(dir, 'turnserver.pid')}`,
      'log-file=stdout',
      'simple-log',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('turnserver', ['-c', conf], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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
          if (/IPv4. UDP listener opened|Total General servers/i.test(l)) {
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
