/**
 * What proves a WebRTC call went through Punch's own TURN relay, read the same way for every
 * stack (Chromium, werift): the selected candidate pair from a `getStats()` report (passed as a
 * plain array of its entries, so a page can hand it over as JSON), and the relay's counters
 * from `/metrics`; plus bounded waits on SDK data channels in Node. Shared by
 * tests/integration/werift-relay.test.ts and tests/e2e/webrtc-own-turn.test.ts.
 */
import type { Session } from '@punch/sdk';

/**
 * The transports of Punch's own TURN relay that the relay tests run over, one case each. A case
 * with `missing` set is written but skipped, loudly: enabling it is deleting that line.
 */
export const PUNCH_TURN_TRANSPORTS: readonly {
  readonly transport: 'udp' | 'tcp';
  readonly missing?: string;
}[] = [{ transport: 'udp' }, { transport: 'tcp' }];

/** One candidate of a pair, as getStats reports it. */
export interface CandidateEvidence {
  readonly candidateType: string;
  readonly address: string | undefined;
  readonly port: number | undefined;
  /** For a local relay candidate: how this side reaches the TURN server (Chromium only). */
  readonly relayProtocol: string | undefined;
  /** For a local candidate: the ICE server it came from (Chromium only). */
  readonly url: string | undefined;
}

export interface PairEvidence {
  readonly state: string | undefined;
  readonly nominated: boolean | undefined;
  readonly local: CandidateEvidence;
  readonly remote: CandidateEvidence;
  /** The types of every local candidate gathered: only `relay` under a relay-only policy. */
  readonly localTypes: readonly string[];
}

type Stat = Record<string, unknown>;

const isStat = (v: unknown): v is Stat => typeof v === 'object' && v !== null;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function candidate(s: Stat | undefined): CandidateEvidence | undefined {
  if (s === undefined || typeof s.candidateType !== 'string') return undefined;
  return {
    candidateType: s.candidateType,
    // `address` in the current spec, `ip` in older Chromium stats.
    address: str(s.address) ?? str(s.ip),
    port: typeof s.port === 'number' ? s.port : undefined,
    relayProtocol: str(s.relayProtocol),
    url: str(s.url),
  };
}

/**
 * The selected candidate pair of a getStats report: the one the transport names
 * (`selectedCandidatePairId`, Chromium and werift), else the nominated pair that succeeded.
 * Undefined while there is none. Deliberately not the SDK's `selectedCandidatePair()`, so the
 * test does not trust the code it checks.
 */
export function selectedPair(report: readonly unknown[]): PairEvidence | undefined {
  const byId = new Map<string, Stat>();
  for (const s of report) if (isStat(s) && typeof s.id === 'string') byId.set(s.id, s);
  const stats = [...byId.values()];
  const named = stats
    .filter((s) => s.type === 'transport')
    .map((s) => byId.get(str(s.selectedCandidatePairId) ?? ''))
    .find((p) => p !== undefined);
  const pair =
    named ??
    stats.find(
      (s) => s.type === 'candidate-pair' && s.nominated === true && s.state === 'succeeded',
    );
  if (pair === undefined) return undefined;
  const local = candidate(byId.get(str(pair.localCandidateId) ?? ''));
  const remote = candidate(byId.get(str(pair.remoteCandidateId) ?? ''));
  if (local === undefined || remote === undefined) return undefined;
  return {
    state: str(pair.state),
    nominated: typeof pair.nominated === 'boolean' ? pair.nominated : undefined,
    local,
    remote,
    localTypes: [
      ...new Set(
        stats.filter((s) => s.type === 'local-candidate').map((s) => str(s.candidateType) ?? '?'),
      ),
    ].sort(),
  };
}

/** The relay's counters that a relayed call moves. */
export interface TurnCounters {
  readonly allocations: number;
  readonly bytesToPeer: number;
  readonly bytesToClient: number;
}

/** Reads one sample (`name{labels} value`) from Prometheus text; 0 when it is absent. */
function sample(text: string, series: string): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${series} `)) continue;
    const value = Number(line.slice(series.length + 1).trim());
    if (Number.isFinite(value)) return value;
  }
  return 0;
}

/** Punch's `punch_turn_*` counters, scraped from `<base>/metrics`. */
export async function turnCounters(base: string): Promise<TurnCounters> {
  const res = await fetch(`${base}/metrics`);
  if (!res.ok) throw new Error(`GET /metrics → ${res.status}`);
  const text = await res.text();
  return {
    allocations: sample(text, 'punch_turn_allocations_total'),
    bytesToPeer: sample(text, 'punch_turn_relayed_bytes_total{direction="to_peer"}'),
    bytesToClient: sample(text, 'punch_turn_relayed_bytes_total{direction="to_client"}'),
  };
}

/** What moved between two scrapes. */
export function counterDelta(before: TurnCounters, after: TurnCounters): TurnCounters {
  return {
    allocations: after.allocations - before.allocations,
    bytesToPeer: after.bytesToPeer - before.bytesToPeer,
    bytesToClient: after.bytesToClient - before.bytesToClient,
  };
}

/**
 * The `iceServers` option of `createPeer()` that keeps, of Punch's `welcome` servers, only its
 * TURN URLs over `transport` (credentials as Punch gave them): no STUN, no other transport, so
 * one relay path is under test. `seen` receives Punch's list as it came.
 */
export function onlyPunchTurn(
  transport: 'udp' | 'tcp',
  seen?: (fromPunch: RTCIceServer[]) => void,
): (fromPunch: RTCIceServer[]) => RTCIceServer[] {
  return (fromPunch) => {
    seen?.(fromPunch);
    return fromPunch
      .map((s) => ({
        ...s,
        urls: (typeof s.urls === 'string' ? [s.urls] : s.urls).filter(
          (u) => u.startsWith('turn:') && u.endsWith(`?transport=${transport}`),
        ),
      }))
      .filter((s) => s.urls.length > 0);
  };
}

/** ICE servers with the credentials replaced by their type, to compare without secrets. */
export function iceShape(
  servers: readonly { urls: string | string[]; username?: string; credential?: unknown }[],
): { urls: string | string[]; username: string; credential: string }[] {
  return servers.map((s) => ({
    urls: s.urls,
    username: typeof s.username,
    credential: typeof s.credential,
  }));
}

/** Rejects after `ms` naming `what`, so no wait of the relay tests is unbounded. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`no ${what} within ${ms} ms`));
    }, ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

/** `channel` once it is open. */
export async function opened(channel: RTCDataChannel): Promise<RTCDataChannel> {
  if (channel.readyState !== 'open') {
    await within(
      new Promise((resolve) => {
        channel.addEventListener('open', resolve, { once: true });
      }),
      15_000,
      `open of data channel ${channel.label}`,
    );
  }
  return channel;
}

/** The next message on `channel`, as text. */
export function nextMessage(channel: RTCDataChannel): Promise<string> {
  return within(
    new Promise<string>((resolve) => {
      channel.addEventListener(
        'message',
        (e) => {
          resolve(String(e.data));
        },
        { once: true },
      );
    }),
    15_000,
    `message on ${channel.label}`,
  );
}

/** The selected pair of a session's current connection (werift's, or a DOM one in Node). */
export async function sessionPair(session: Session): Promise<PairEvidence | undefined> {
  const report = await session.pc.getStats();
  const stats: unknown[] = [];
  report.forEach((s: unknown) => stats.push(s));
  return selectedPair(stats);
}
