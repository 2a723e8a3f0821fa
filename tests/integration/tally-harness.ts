/**
 * For the tally bridge tests: a session with two streams, an operator's WebSocket (peer token
 * for cam-wide) and the producer's (admin) one, and `punch tally bridge --json` run as the
 * producer would, its events read line by line.
 */
import { spawn } from 'node:child_process';
import {
  call,
  createSession,
  peerToken,
  WsClient,
  type Created,
  type Msg,
} from '../conformance/client.js';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startHost, type Host } from '../conformance/host.js';
import { AgentProc, CLI, Children, type Event } from './agents.js';

export interface Show {
  readonly created: Created;
  /** The operator of cam-wide: sees tally for cam-wide only. */
  readonly operator: WsClient;
  /** The producer's dashboard socket: sees every tally message the session sends. */
  readonly producer: WsClient;
}

/**
 * The hooks every bridge test file shares: one Punch for the file (handed to `onHost`), and
 * after each test its bridges stopped, its shows closed and `cleanup` run (the file's fakes).
 */
export function bridgeSuite(
  onHost: (host: Host) => void,
  cleanup: () => Promise<void> = () => Promise.resolve(),
): { readonly children: Children; readonly shows: Show[] } {
  const children = new Children();
  const shows: Show[] = [];
  let host: Host | undefined;
  beforeAll(async () => {
    host = await startHost();
    onHost(host);
  });
  afterEach(async () => {
    await children.stopAll();
    for (const s of shows.splice(0)) closeShow(s);
    await cleanup();
  });
  afterAll(async () => {
    await host?.stop();
  });
  return { children, shows };
}

export async function openShow(host: Host): Promise<Show> {
  const created = await createSession(host.url, { streams: ['cam-wide', 'cam-close'] });
  const operator = await WsClient.connect(
    host.url,
    created.session,
    await peerToken(host.url, created, 'cam-wide'),
  );
  const producer = await WsClient.connect(host.url, created.session, created.token);
  await operator.next('welcome');
  await producer.next('welcome');
  return { created, operator, producer };
}

export function closeShow(show: Show): void {
  show.operator.close();
  show.producer.close();
}

/** `punch tally bridge SOURCE …args --json` with the session's admin token. */
export function startBridge(
  host: Host,
  show: Show,
  args: readonly string[],
  children: Children,
  env: Record<string, string> = {},
): AgentProc {
  const child = children.track(
    spawn(process.execPath, [CLI, 'tally', 'bridge', ...args, '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PUNCH_SERVER: host.url, PUNCH_TOKEN: show.created.token, ...env },
    }),
  );
  return new AgentProc(child, { waitMs: 10_000, onlyEvents: true });
}

/** The `n`th (1-based) event named `name`, waited for. */
export function nth(bridge: AgentProc, name: string, n: number): Promise<Event> {
  return bridge.waitFor(
    (e) => e.event === name && bridge.events.filter((x) => x.event === name).indexOf(e) === n - 1,
    `${name} #${n}`,
  );
}

/** The next `tally` the operator's socket gets that shows cam-wide in `mark`. */
export function operatorSees(show: Show, mark: 'program' | 'preview' | 'none'): Promise<Msg> {
  return show.operator.next('tally', (m) => {
    const program = m.program as string[];
    const preview = m.preview as string[];
    const now = program.includes('cam-wide')
      ? 'program'
      : preview.includes('cam-wide')
        ? 'preview'
        : 'none';
    return now === mark;
  });
}

/** Every tally message the producer's socket got so far, as `program|preview` strings. */
export function tallies(show: Show): string[] {
  return show.producer
    .all('tally')
    .map((m) => `${(m.program as string[]).join('+')}|${(m.preview as string[]).join('+')}`);
}

/** Sets tally by hand, as the dashboard's PGM/PVW buttons do. */
export async function pressTally(
  host: Host,
  show: Show,
  program: string[],
  preview: string[],
): Promise<void> {
  const r = await call(host.url, 'PUT', `/api/session/${show.created.session}/tally`, {
    token: show.created.token,
    body: { program, preview },
  });
  if (r.status !== 200) throw new Error(`tally PUT: ${r.status} ${r.text}`);
}
