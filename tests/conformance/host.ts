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
  /** TURN for project peers: coturn's shared secret and the URLs handed out. */
  readonly turn?: { readonly secret: string; readonly urls: readonly string[] };
  /** The address to listen on (default 127.0.0.1): a lab's veth address for the e2e tests. */
  readonly bind?: string;
  /** STUN URLs for project peers, on a host without STUN of its own (Workers). */
  readonly stunUrls?: readonly string[];
  /** Extra Worker variables (workerd only), e.g. PUNCH_CF_TURN_KEY_ID. */
  readonly bindings?: Readonly<Record<string, string>>;
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
  /** Rows the host still stores for a session (Node: its SQLite file; workerd: the object's). */
  rowCounts(session: string): Promise<{ sessions: number; health: number }>;
  stop(): Promise<void>;
}

export const DEFAULT_SECRET = 'conformance-secret-0123456789-abcdefghijklmnop';

const CLI = fileURLToPath(new URL('../../packages/cli/bin/punch.js', import.meta.url));

const RAISED = [
  'create=100000',
  'read=100000',
  'connect=100000',
  'token=100000',
  'write=100000',
  'message=100000/1',
];

/** Which host this run of the suite talks to (PUNCH_CONFORMANCE_HOST, default `node`). */
export const HOST_KIND = hostKind();

function hostKind(): 'node' | 'workerd' {
  const kind = process.env.PUNCH_CONFORMANCE_HOST ?? 'node';
  if (kind !== 'node' && kind !== 'workerd')
    throw new Error(`unknown PUNCH_CONFORMANCE_HOST "${kind}" (known: node, workerd)`);
  return kind;
}

/**
 * What differs between hosts, each for a reason docs/hosts.md gives. Tests of a feature a host
 * does not have are skipped on that host by name (`it.skipIf(!CAN.stun)`), never silently.
 */
export const CAN = {
  /** Punch's own STUN on UDP (Workers has no UDP: agents send `endpoint`). */
  stun: HOST_KIND === 'node',
  /** Prometheus `/metrics` (Workers: Workers Analytics and Logs instead). */
  metrics: HOST_KIND === 'node',
  /** Punch's own TURN relay on the STUN port (Workers: an external TURN server, if configured). */
  relay: HOST_KIND === 'node',
  /**
   * Process-wide caps on live sessions and open sockets (Workers: each session is its own
   * Durable Object and sockets live in objects, so no one place sees them all).
   */
  capacity: HOST_KIND === 'node',
} as const;

export async function startHost(
  options: HostOptions = {},
  kind: 'node' | 'workerd' = HOST_KIND,
): Promise<Host> {
  return kind === 'workerd' ? startWorkerdHost(options) : startNodeHost(options);
}

const RAISED_WORKERD = RAISED.join(',');
/** The workerd host's operator key (PUNCH_OPERATOR_KEY), for creating accounts. */
export const OPERATOR_KEY = 'conformance-operator-key-0123456789abcdef';

/**
 * The Cloudflare host on a local workerd through Miniflare: the Worker bundled with esbuild
 * from packages/cloudflare, its session Durable Objects on SQLite kept in a temp directory (so a
 * restart keeps them), no network and no Cloudflare account. Miniflare sets CF-Connecting-IP
 * from the socket, as the edge does.
 */
export async function startWorkerdHost(options: HostOptions = {}): Promise<Host> {
  const { Miniflare, Log, LogLevel } = await import('miniflare');
  const dir = mkdtempSync(join(tmpdir(), 'punch-workerd-'));
  const script = await bundleWorker(dir);
  const address = options.bind ?? '127.0.0.1';
  let port = address === '127.0.0.1' ? 0 : await freePort(address);
  const logs: string[] = [];
  let secret = options.secret ?? DEFAULT_SECRET;
  let previous = options.previousSecret;
  let mf: InstanceType<typeof Miniflare> | undefined;

  const capture = (stream: NodeJS.ReadableStream): void => {
    let buffer = '';
    stream.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        logs.push(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
      }
    });
  };
  const launch = async (): Promise<void> => {
    const bindings: Record<string, string> = {
      PUNCH_SECRET: secret,
      PUNCH_OPERATOR_KEY: OPERATOR_KEY,
    };
    if (options.turn !== undefined) {
      bindings.PUNCH_TURN_SECRET = options.turn.secret;
      bindings.PUNCH_TURN_URLS = options.turn.urls.join(',');
    }
    if (options.stunUrls !== undefined) bindings.PUNCH_STUN_URLS = options.stunUrls.join(',');
    if (previous !== undefined) bindings.PUNCH_SECRET_PREVIOUS = previous;
    if (options.rateLimits !== 'default') bindings.PUNCH_RATE_LIMITS = RAISED_WORKERD;
    Object.assign(bindings, options.bindings);
    mf = new Miniflare({
      host: address,
      port,
      cf: false,
      modules: true,
      scriptPath: script,
      modulesRoot: dir,
      compatibilityDate: '2026-04-20',
      durableObjects: {
        SESSIONS: { className: 'SessionObject', useSQLite: true },
        DIRECTORY: { className: 'DirectoryObject', useSQLite: true },
        SIGNALS: { className: 'SignalObject', useSQLite: true },
      },
      durableObjectsPersist: join(dir, 'state'),
      // The built web app, as wrangler.jsonc binds it: the Worker runs first and serves it.
      assets: {
        directory: WEB_DIST,
        binding: 'ASSETS',
        routerConfig: { has_user_worker: true, invoke_user_worker_ahead_of_assets: true },
      },
      bindings,
      log: new Log(LogLevel.WARN),
      handleRuntimeStdio(stdout: NodeJS.ReadableStream, stderr: NodeJS.ReadableStream) {
        capture(stdout);
        capture(stderr);
      },
    });
    try {
      const url = await mf.ready;
      // Miniflare answers with its loopback socket; on another address workerd listens on the
      // port it was given, which is why that port is chosen up front there.
      if (port === 0) port = Number(url.port);
    } catch (err) {
      throw new Error(`workerd did not start:\n${logs.slice(-30).join('\n')}`, { cause: err });
    }
  };

  /** The session's Durable Object over RPC (what HTTP never exposes). */
  const object = async (session: string) => {
    if (mf === undefined) throw new Error('workerd is not running');
    const ns = await mf.getDurableObjectNamespace('SESSIONS');
    return ns.get(ns.idFromName(session)) as unknown as {
      rowCounts(): Promise<{ sessions: number; health: number }>;
    };
  };

  await launch();
  return {
    get url() {
      return `http://${address}:${port}`;
    },
    stunPort: null,
    get secret() {
      return secret;
    },
    logs,
    async restart(o) {
      await mf?.dispose();
      if (o?.secret !== undefined) secret = o.secret;
      previous = o?.previousSecret;
      await launch();
    },
    async createAccount(name) {
      // The operator's route (`punch account create` has no data directory to open here).
      const res = await fetch(`http://${address}:${port}/api/accounts`, {
        method: 'POST',
        headers: { authorization: `Bearer ${OPERATOR_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name }),
      });
      const text = await res.text();
      if (res.status !== 201) throw new Error(`POST /api/accounts → ${res.status}: ${text}`);
      return (JSON.parse(text) as { key: string }).key;
    },
    async rowCounts(session) {
      return (await object(session)).rowCounts();
    },
    async stop() {
      await mf?.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const WORKER_ENTRY = fileURLToPath(
  new URL('../../packages/cloudflare/src/worker.ts', import.meta.url),
);
/** A TCP port free on `address` right now. */
async function freePort(address: string): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, address, () => {
      const a = srv.address();
      srv.close(() => {
        resolve(typeof a === 'object' && a !== null ? a.port : 0);
      });
    });
  });
}

const WEB_DIST = fileURLToPath(new URL('../../packages/web/dist', import.meta.url));
const CORE_ENTRY = fileURLToPath(new URL('../../packages/core/src/index.ts', import.meta.url));

/** The Worker as one ES module, the way wrangler bundles it (core from its source). */
async function bundleWorker(dir: string): Promise<string> {
  const { build } = await import('esbuild');
  const outfile = join(dir, 'worker.mjs');
  await build({
    entryPoints: [WORKER_ENTRY],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    external: ['cloudflare:*'],
    alias: { '@punch/core': CORE_ENTRY },
    logLevel: 'warning',
  });
  return outfile;
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
        options.bind ?? '127.0.0.1',
        '--port',
        String(port),
        '--stun-port',
        String(stunPort),
        '--data-dir',
        dataDir,
        ...limits,
        ...(options.turn === undefined
          ? []
          : [
              ...options.turn.urls.flatMap((u) => ['--turn-url', u]),
              '--turn-secret',
              options.turn.secret,
            ]),
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
      return Promise.resolve(nodeRowCounts(dataDir, session));
    },
    async stop() {
      await kill();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function nodeRowCounts(dataDir: string, session: string): { sessions: number; health: number } {
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
}
