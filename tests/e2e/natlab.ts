/**
 * A NAT lab of Linux network namespaces: a "public" network with Punch on it, and private
 * networks each behind its own router that MASQUERADEs outbound and forwards inbound only for
 * established flows, as a home router does. `symmetric` routers use `--random-fully` (a new
 * public port per destination). Everything is created under one short prefix and removed by
 * `destroy()`. Traffic stays inside these namespaces.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';

export interface LabOptions {
  /** Hosts behind router A and router B. */
  readonly hostsA?: number;
  readonly hostsB?: number;
  readonly symmetricA?: boolean;
  readonly symmetricB?: boolean;
}

export const PUBLIC_IP = '203.0.113.1';

function sh(args: string[]): void {
  execFileSync(args[0]!, args.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** True when this machine can build the lab (root, iproute2, iptables). */
export function labSupport(): { ok: true } | { ok: false; why: string } {
  if (process.getuid?.() !== 0)
    return { ok: false, why: 'the NAT lab needs root (network namespaces, iptables)' };
  for (const tool of ['ip', 'iptables', 'srt-live-transmit', 'ffmpeg', 'ffprobe']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return {
        ok: false,
        why: `${tool} is not installed (apt-get install iproute2 iptables srt-tools ffmpeg)`,
      };
    }
  }
  return { ok: true };
}

export class NatLab {
  readonly prefix: string;
  readonly namespaces: string[] = [];
  readonly #children = new Set<ChildProcess>();

  private constructor(prefix: string) {
    this.prefix = prefix;
  }

  /** Host namespace names: `a1`, `a2`, … behind router A; `b1`, … behind router B. */
  ns(name: string): string {
    return `${this.prefix}${name}`;
  }

  static create(options: LabOptions = {}): NatLab {
    const lab = new NatLab(
      `pl${process.pid % 100000}${Math.floor(Math.random() * 36).toString(36)}`,
    );
    try {
      lab.#build(options);
    } catch (err) {
      lab.destroy();
      throw err;
    }
    return lab;
  }

  #addNs(name: string): string {
    const ns = this.ns(name);
    sh(['ip', 'netns', 'add', ns]);
    this.namespaces.push(ns);
    sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    return ns;
  }

  #build(o: LabOptions): void {
    const p = this.prefix;
    const pub = this.#addNs('pub');
    sh(['ip', '-n', pub, 'link', 'add', 'br0', 'type', 'bridge']);
    sh(['ip', '-n', pub, 'addr', 'add', `${PUBLIC_IP}/24`, 'dev', 'br0']);
    sh(['ip', '-n', pub, 'link', 'set', 'br0', 'up']);

    const routers: [string, number, number, boolean][] = [
      ['A', 1, o.hostsA ?? 1, o.symmetricA ?? false],
      ['B', 2, o.hostsB ?? 1, o.symmetricB ?? false],
    ];
    for (const [name, net, hosts, symmetric] of routers) {
      if (hosts === 0) continue;
      const r = this.#addNs(`r${name}`);
      // WAN: a veth from the router to the public bridge.
      sh(['ip', 'link', 'add', `${p}w${name}`, 'type', 'veth', 'peer', 'name', `${p}W${name}`]);
      sh(['ip', 'link', 'set', `${p}w${name}`, 'netns', r]);
      sh(['ip', '-n', r, 'link', 'set', `${p}w${name}`, 'name', 'wan']);
      sh(['ip', 'link', 'set', `${p}W${name}`, 'netns', pub]);
      sh(['ip', '-n', pub, 'link', 'set', `${p}W${name}`, 'master', 'br0']);
      sh(['ip', '-n', pub, 'link', 'set', `${p}W${name}`, 'up']);
      sh(['ip', '-n', r, 'addr', 'add', `203.0.113.${net * 10}/24`, 'dev', 'wan']);
      sh(['ip', '-n', r, 'link', 'set', 'wan', 'up']);
      // LAN: a bridge with the router's address.
      sh(['ip', '-n', r, 'link', 'add', 'lan', 'type', 'bridge']);
      sh(['ip', '-n', r, 'addr', 'add', `10.0.${net}.1/24`, 'dev', 'lan']);
      sh(['ip', '-n', r, 'link', 'set', 'lan', 'up']);
      sh(['ip', 'netns', 'exec', r, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
      const nat = ['ip', 'netns', 'exec', r, 'iptables'];
      sh([
        ...nat,
        '-t',
        'nat',
        '-A',
        'POSTROUTING',
        '-o',
        'wan',
        '-j',
        'MASQUERADE',
        ...(symmetric ? ['--random-fully'] : []),
      ]);
      // Inbound only for established flows, both through the router and to it: a home
      // router's firewall drops unsolicited packets to itself too, and accepting them would
      // leave conntrack entries that steal the mapping's port.
      for (const chain of ['FORWARD', 'INPUT']) {
        sh([
          ...nat,
          '-A',
          chain,
          '-i',
          'wan',
          '-m',
          'conntrack',
          '--ctstate',
          'ESTABLISHED,RELATED',
          '-j',
          'ACCEPT',
        ]);
        sh([...nat, '-A', chain, '-i', 'wan', '-j', 'DROP']);
      }
      for (let i = 1; i <= hosts; i++) {
        const h = this.#addNs(`${name.toLowerCase()}${i}`);
        sh([
          'ip',
          'link',
          'add',
          `${p}h${name}${i}`,
          'type',
          'veth',
          'peer',
          'name',
          `${p}H${name}${i}`,
        ]);
        sh(['ip', 'link', 'set', `${p}h${name}${i}`, 'netns', h]);
        sh(['ip', '-n', h, 'link', 'set', `${p}h${name}${i}`, 'name', 'eth0']);
        sh(['ip', '-n', h, 'addr', 'add', `10.0.${net}.${i + 1}/24`, 'dev', 'eth0']);
        sh(['ip', '-n', h, 'link', 'set', 'eth0', 'up']);
        sh(['ip', '-n', h, 'route', 'add', 'default', 'via', `10.0.${net}.1`]);
        sh(['ip', 'link', 'set', `${p}H${name}${i}`, 'netns', r]);
        sh(['ip', '-n', r, 'link', 'set', `${p}H${name}${i}`, 'master', 'lan']);
        sh(['ip', '-n', r, 'link', 'set', `${p}H${name}${i}`, 'up']);
      }
    }
  }

  /** Starts a process inside a namespace; it is killed by `destroy()` if still running. */
  spawn(
    ns: string,
    command: string,
    args: string[],
    env: NodeJS.ProcessEnv = process.env,
  ): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.ns(ns), command, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#children.add(child);
    child.once('exit', () => this.#children.delete(child));
    return child;
  }

  destroy(): void {
    for (const c of this.#children) c.kill('SIGKILL');
    // Deleting a namespace removes its interfaces and their veth peers.
    for (const ns of [...this.namespaces].reverse()) {
      try {
        execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' })
          .split('\n')
          .filter((x) => x !== '')
          .forEach((pid) => {
            try {
              process.kill(Number(pid), 'SIGKILL');
            } catch {
              // already gone
            }
          });
        sh(['ip', 'netns', 'del', ns]);
      } catch {
        // already gone
      }
    }
    this.namespaces.length = 0;
  }
}
