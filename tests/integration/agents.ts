/**
 * Driving real processes on loopback in integration tests: `punch peer --json` agents with
 * their NDJSON events (the e2e harness's `AgentProc`, spawned here without a NatLab), every
 * child a test started stopped after it, UDP ports on 127.0.0.1 found free for them, and
 * whether a tool they need is installed.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { AgentProc, CLI } from '../e2e/harness.js';

export { AgentProc, CLI, type Event } from '../e2e/harness.js';

/** How long a child has after its stop signal before SIGKILL, as a backstop. */
const GRACE_MS = 3000;

/**
 * Stops `child` with `signal` (SIGTERM: an agent stops what it started, srt-live-transmit; SIGINT:
 * a tool flushes what it writes) and resolves once it exited, SIGKILLing it after 3 s.
 */
export function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve();
      return;
    }
    const t = setTimeout(() => child.kill('SIGKILL'), GRACE_MS);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill(signal);
  });
}

/** The processes a test file started, stopped together (in `afterEach` or `afterAll`). */
export class Children {
  readonly #all: ChildProcess[] = [];

  /** Keeps `child` for `stopAll`, and returns it. */
  track<C extends ChildProcess>(child: C): C {
    this.#all.push(child);
    return child;
  }

  /** Stops (see `stop`) and forgets every child tracked so far. */
  async stopAll(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await Promise.all(this.#all.splice(0).map((c) => stop(c, signal)));
  }
}

/**
 * A `punch peer --json --no-lan --bind 127.0.0.1 …args` tracked by `children`. Every line it
 * prints on stdout must be an event (anything else fails the run); its `waitFor` gives up after
 * `waitMs`.
 */
export function spawnAgent(
  args: readonly string[],
  options: { children: Children; waitMs: number },
): AgentProc {
  const child = options.children.track(
    spawn(
      process.execPath,
      [CLI, 'peer', '--json', '--no-lan', '--bind', '127.0.0.1', ...args],
      // The agent reads nothing from stdin.
      { stdio: ['ignore', 'pipe', 'pipe'] },
    ),
  );
  return new AgentProc(child, { waitMs: options.waitMs, onlyEvents: true });
}

/** Binds 127.0.0.1:`port` (0: any), or undefined when it is taken. */
export function bindUdp(port: number): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => {
      s.close();
      resolve(undefined);
    });
    s.bind(port, '127.0.0.1', () => {
      resolve(s);
    });
  });
}

/**
 * A UDP port P on 127.0.0.1 the OS has just handed out, with P + each of `offsets` free too:
 * bound, read, and released for the processes under test (so parallel runs on this machine do
 * not collide). An offset of 0 is P itself.
 */
export async function freePorts(offsets: readonly number[]): Promise<number> {
  const others = offsets.filter((o) => o !== 0);
  for (let attempt = 0; attempt < 20; attempt++) {
    const first = await bindUdp(0);
    if (first === undefined) continue;
    const port = first.address().port;
    const held = [first];
    for (const off of others) {
      const s = port + off > 65535 ? undefined : await bindUdp(port + off);
      if (s !== undefined) held.push(s);
    }
    await Promise.all(held.map((s) => new Promise<void>((r) => s.close(r))));
    if (held.length === others.length + 1) return port;
  }
  throw new Error(`no free UDP ports at P + ${offsets.join(', ')} on 127.0.0.1 in 20 attempts`);
}

/**
 * A free UDP port P on 127.0.0.1 with P + 1 … P + span - 1 free too (`--receive` binds
 * --srt-target's port + 1).
 */
export function freeUdpPort(span = 1): Promise<number> {
  return freePorts(Array.from({ length: span }, (_, i) => i));
}

/** True when `tool` is on the PATH (a test that needs it says so loudly when it is not). */
export function installed(tool: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    // `command -v` exits non-zero: not installed.
    return false;
  }
}
