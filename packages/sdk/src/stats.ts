import { isNumber, isRecord } from './parse.js';

/**
 * The candidate pair a connection is using, read from `getStats()`: which kind of path it took
 * (`host`, `srflx`, `prflx` or `relay`), handy to check that TURN is really used under
 * `forceRelay`, or that two peers behind NATs went direct.
 */

export interface CandidateInfo {
  /** `host`, `srflx`, `prflx` or `relay`. */
  readonly candidateType: string;
  readonly address?: string;
  readonly port?: number;
  /** `udp` or `tcp`. */
  readonly protocol?: string;
  /** For a relay candidate: how this side reaches the TURN server. */
  readonly relayProtocol?: string;
}

export interface SelectedCandidatePair {
  readonly local: CandidateInfo;
  readonly remote: CandidateInfo;
  /** Seconds, when the runtime reports it. */
  readonly currentRoundTripTime?: number;
}

type Stat = Record<string, unknown>;

function candidateInfo(s: Stat | undefined): CandidateInfo | undefined {
  if (s === undefined || typeof s.candidateType !== 'string') return undefined;
  const address =
    typeof s.address === 'string' ? s.address : typeof s.ip === 'string' ? s.ip : undefined;
  return {
    candidateType: s.candidateType,
    ...(address === undefined ? {} : { address }),
    ...(isNumber(s.port) ? { port: s.port } : {}),
    ...(typeof s.protocol === 'string' ? { protocol: s.protocol } : {}),
    ...(typeof s.relayProtocol === 'string' ? { relayProtocol: s.relayProtocol } : {}),
  };
}

/**
 * The selected candidate pair of `pc`, or undefined while there is none. Follows the
 * transport's `selectedCandidatePairId` (Chromium, Safari, werift), falling back to the pair
 * flagged `selected` (Firefox) or the nominated, succeeded one.
 *
 * @example
 * const pair = await selectedCandidatePair(session.pc);
 * console.log(pair?.local.candidateType); // 'relay' under forceRelay
 */
export async function selectedCandidatePair(
  pc: Pick<RTCPeerConnection, 'getStats'>,
): Promise<SelectedCandidatePair | undefined> {
  const report = await pc.getStats();
  const byId = new Map<string, Stat>();
  report.forEach((value: unknown, key: string) => {
    if (isRecord(value)) byId.set(key, value);
  });
  let pair: Stat | undefined;
  for (const s of byId.values()) {
    if (s.type === 'transport' && typeof s.selectedCandidatePairId === 'string') {
      pair = byId.get(s.selectedCandidatePairId);
      if (pair !== undefined) break;
    }
  }
  if (pair === undefined) {
    const pairs = [...byId.values()].filter((s) => s.type === 'candidate-pair');
    pair =
      pairs.find((s) => s.selected === true) ??
      pairs.find((s) => s.nominated === true && s.state === 'succeeded');
  }
  if (pair === undefined) return undefined;
  const local = candidateInfo(
    typeof pair.localCandidateId === 'string' ? byId.get(pair.localCandidateId) : undefined,
  );
  const remote = candidateInfo(
    typeof pair.remoteCandidateId === 'string' ? byId.get(pair.remoteCandidateId) : undefined,
  );
  if (local === undefined || remote === undefined) return undefined;
  return {
    local,
    remote,
    ...(isNumber(pair.currentRoundTripTime)
      ? { currentRoundTripTime: pair.currentRoundTripTime }
      : {}),
  };
}
