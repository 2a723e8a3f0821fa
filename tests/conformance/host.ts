/**
 * Host factories for the conformance suite. The suite is black-box: it talks HTTP, WebSocket and
 * UDP to a base URL. Which host runs is chosen by PUNCH_CONFORMANCE_HOST (default `node`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

export interface HostOptions {
  /** Rate limits to apply; default: raised so that only the rate-limit tests meet them. */
  readonly rateLimits?: 'default' | 'raised';
  readonly secret?: string;
  readonly previousSecret?: string;
  /** Extra `punch serve` flags (host-specific tests only). */
  readonly extraArgs?: readonly string[];
}

export interface Host {
  readonly url: string;
  readonly stunPort: number | null;
  readonly secret: string;
  /** Every line the host printed (stdout and stderr), for the log audit. */
  readonly logs: string[];
  /** Restarts on the same ports and data, optionally with other secrets. */
  restart(options?: { secret?: string; previousSecret?: string }): Promise<void>;
  /** Creates a projects-realm account the host's own way; resolves to its `pa_` key. */
  createAccount(name: string): Promise<string>;
  /** Rows the host still stores for a session, where the host can tell (Node: SQLite). */
  rowCounts?(session: string): { sessions: number; health: number };
  stop(): Promise<void>;
}

export const DEFAULT_SECRET = 'conformance-secret-0123456789-abcdefghijklmnop';

const CLI = fileURLToPath(new URL('../../packages/cli/bin/punch.js', import.meta.url));

const RAISED = ['create=100000', 'read=100000', 'connect=100000', 'message=100000/1'];

export async function startHost(options: HostOptions = {}): Promise<Host> {
  const kind = process.env.PUNCH_CONFORMANCE_HOST ?? 'node';
  if (kind !== 'node') throw new Error(`unknown PUNCH_CONFORMANCE_HOST "${kind}" (known: node)`);
  return startNodeHost(options);
}

async function startNodeHost(options: HostOptions): Promise<Host> {
  const dataDir = mkdtempSync(join(tmpdir(), 'punch-conf-'));
  const logs: string[] = [];
  let secret = options.secret ?? DEFAULT_SECRET;
  let previous = options.previousSecret;
  let proc: ChildProcess | undefined;
  let port = 0;
  let stunPort = 0;

  const launch = async (): Promise<void> => {
    const limits =
      options.rateLimits === 'default' ? [] : RAISED.flatMap((l) => ['--rate-limit', l]);
    const env: NodeJS.ProcessEnv = { ...process.env, PUNCH_SECRET: secret };
    delete env.PUNCH_SECRET_PREVIOUS;
    if (previous !== undefined) env.PUNCH_SECRET_PREVIOUS = previous;
    const child = spawn(
      process.execPath,
      [
        CLI,
        'serve',
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--stun-port',
        String(stunPort),
        '--data-dir',
        dataDir,
        ...limits,
        ...(options.extraArgs ?? []),
      ],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    proc = child;
    const ready = new Promise<void>((resolve, reject) => {
      let buffer = '';
      const onData = (chunk: Buffer): void => {
        buffer += chunk.toString('utf8');
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          logs.push(line);
          if (line.includes('"msg":"listening"')) {
            const parsed = JSON.parse(line) as { port: number; stunPort: number };
            port = parsed.port;
            stunPort = parsed.stunPort;
            resolve();
          }
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', (c: Buffer) =>
        logs.push(
          ...c
            .toString('utf8')
            .split('\n')
            .filter((l) => l !== ''),
        ),
      );
      child.once('exit', (code) => {
        reject(new Error(`punch serve exited with ${code}:\n${logs.slice(-20).join('\n')}`));
      });
    });
    await ready;
  };

  const kill = async (): Promise<void> => {
    const p = proc;
    if (p === undefined || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => {
        resolve();
      });
      p.kill('SIGTERM');
      setTimeout(() => p.kill('SIGKILL'), 5000).unref();
    });
  };

  await launch();
  return {
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    get stunPort() {
      return stunPort;
    },
    get secret() {
      return secret;
    },
    logs,
    async restart(o) {
      await kill();
      if (o?.secret !== undefined) secret = o.secret;
      previous = o?.previousSecret;
      await launch();
    },
    async createAccount(name) {
      const out = await new Promise<string>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          [CLI, 'account', 'create', name, '--data-dir', dataDir, '--json'],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let text = '';
        let err = '';
        child.stdout.on('data', (c: Buffer) => (text += c.toString('utf8')));
        child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
        child.once('exit', (code) => {
          if (code === 0) resolve(text);
          else reject(new Error(`punch account create exited with ${code}: ${err}`));
        });
      });
      return (JSON.parse(out) as { key: string }).key;
    },
    rowCounts(session) {
      const db = new Database(join(dataDir, 'punch.sqlite'), {
        readonly: true,
        fileMustExist: true,
      });
      try {
        const s = db.prepare('SELECT COUNT(*) AS n FROM sessions WHERE id = ?').get(session) as {
          n: number;
        };
        const h = db.prepare('SELECT COUNT(*) AS n FROM health WHERE session = ?').get(session) as {
          n: number;
        };
        return { sessions: s.n, health: h.n };
      } finally {
        db.close();
      }
    },
    async stop() {
      await kill();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
