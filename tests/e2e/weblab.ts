/**
 * A small lab for WebRTC tests: one network namespace joined to the test's own namespace by a
 * veth pair, with an address and a default route (Chromium finds no ICE candidates without
 * one). Punch, coturn and the page server listen on the veth's outer address; Chromium runs
 * inside the namespace through a wrapper (`ip netns exec`), so its host candidates are the
 * inner address. Only the two addresses of this pair are ever used; `destroy()` removes it all.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCoturn, type Coturn } from '../coturn.js';
import { CHROMIUM } from './browser.js';

function sh(args: string[]): void {
  execFileSync(args[0]!, args.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * True when this machine can build the lab and run coturn (`coturn: false`: the lab and
 * Chromium only, for tests whose TURN server is Punch's own relay).
 */
export function webLabSupport(
  options: { coturn?: boolean } = {},
): { ok: true } | { ok: false; why: string } {
  if (process.getuid?.() !== 0)
    return { ok: false, why: 'the WebRTC lab needs root (network namespaces)' };
  const tools = options.coturn === false ? ['ip', CHROMIUM] : ['ip', 'turnserver', CHROMIUM];
  for (const tool of tools) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return {
        ok: false,
        why: `${tool} is not installed (apt-get install iproute2 coturn chromium)`,
      };
    }
  }
  return { ok: true };
}

export class WebLab {
  readonly ns: string;
  /** The test side of the veth: Punch, coturn and the page server listen here. */
  readonly outer: string;
  /** Chromium's side. */
  readonly inner: string;
  readonly #dir: string;
  readonly #children = new Set<ChildProcess>();
  #coturn: Coturn | undefined;
  readonly #link: string;

  private constructor(id: string, net: number) {
    this.ns = `pw${id}`;
    this.#link = `pw${id}o`;
    this.outer = `10.213.${net}.1`;
    this.inner = `10.213.${net}.2`;
    this.#dir = mkdtempSync(join(tmpdir(), 'punch-weblab-'));
  }

  static create(): WebLab {
    const id = `${process.pid % 100000}${Math.floor(Math.random() * 36).toString(36)}`;
    const lab = new WebLab(id, 1 + (process.pid % 250));
    try {
      sh(['ip', 'netns', 'add', lab.ns]);
      sh(['ip', '-n', lab.ns, 'link', 'set', 'lo', 'up']);
      sh(['ip', 'link', 'add', lab.#link, 'type', 'veth', 'peer', 'name', `${lab.#link}i`]);
      sh(['ip', 'link', 'set', `${lab.#link}i`, 'netns', lab.ns]);
      sh(['ip', 'addr', 'add', `${lab.outer}/24`, 'dev', lab.#link]);
      sh(['ip', 'link', 'set', lab.#link, 'up']);
      sh(['ip', '-n', lab.ns, 'link', 'set', `${lab.#link}i`, 'name', 'eth0']);
      sh(['ip', '-n', lab.ns, 'addr', 'add', `${lab.inner}/24`, 'dev', 'eth0']);
      sh(['ip', '-n', lab.ns, 'link', 'set', 'eth0', 'up']);
      sh(['ip', '-n', lab.ns, 'route', 'add', 'default', 'via', lab.outer]);
    } catch (err) {
      lab.destroy();
      throw err;
    }
    return lab;
  }

  /** An executable that runs Chromium inside the namespace (for playwright's executablePath). */
  chromiumWrapper(): string {
    const file = join(this.#dir, 'chromium-in-ns');
    writeFileSync(file, `#!/bin/sh\nexec ip netns exec ${this.ns} ${CHROMIUM} "$@"\n`);
    chmodSync(file, 0o755);
    return file;
  }

  /**
   * coturn on the outer address with TURN REST credentials (`use-auth-secret`), as
   * docs/turn.md configures it. Resolves once it listens.
   */
  async startCoturn(secret: string, port: number): Promise<void> {
    // Peers in this lab are on private addresses: loopback peers allowed (the default); a public
    // deployment keeps coturn's defaults and denies private ranges (docs/turn.md).
    const coturn = await startCoturn(secret, {
      ip: this.outer,
      port,
      relayPorts: [49160, 49200],
      spawn: (command, args) => {
        const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
        this.#children.add(child);
        return child;
      },
    });
    this.#coturn = coturn;
  }

  /** A static server for the test pages and the SDK bundle, on the outer address. */
  async serve(
    files: Record<string, { type: string; body: string | Buffer }>,
  ): Promise<{ url: string; close(): Promise<void> }> {
    const server: Server = createServer((req, res) => {
      const f = files[(req.url ?? '/').split('?')[0]!];
      if (f === undefined) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': f.type, 'cache-control': 'no-store' }).end(f.body);
    });
    await new Promise<void>((resolve) => server.listen(0, this.outer, resolve));
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    return {
      url: `http://${this.outer}:${port}`,
      close: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => {
            resolve();
          });
        }),
    };
  }

  destroy(): void {
    this.#coturn?.stop();
    for (const c of this.#children) c.kill('SIGKILL');
    this.#children.clear();
    try {
      sh(['ip', 'link', 'del', this.#link]);
    } catch {
      // Gone with the namespace already.
    }
    try {
      sh(['ip', 'netns', 'del', this.ns]);
    } catch {
      // Never created.
    }
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
