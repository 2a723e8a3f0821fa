import { describe, expect, it } from 'vitest';
import { selectedCandidatePair } from './stats.js';

const pcWith = (stats: Record<string, unknown>[]) => ({
  getStats: () => {
    const report = new Map(stats.map((s) => [String(s.id), s]));
    return Promise.resolve(report as unknown as RTCStatsReport);
  },
});

const local = {
  id: 'L',
  type: 'local-candidate',
  candidateType: 'relay',
  address: '203.0.113.5',
  port: 50000,
  protocol: 'udp',
  relayProtocol: 'udp',
};
const remote = {
  id: 'R',
  type: 'remote-candidate',
  candidateType: 'srflx',
  ip: '198.51.100.7',
  port: 40000,
  protocol: 'udp',
};

describe('selectedCandidatePair', () => {
  it("follows the transport's selectedCandidatePairId (Chromium, Safari, werift)", async () => {
    const pc = pcWith([
      { id: 'T', type: 'transport', selectedCandidatePairId: 'P2' },
      {
        id: 'P1',
        type: 'candidate-pair',
        localCandidateId: 'X',
        remoteCandidateId: 'Y',
        nominated: true,
        state: 'succeeded',
      },
      {
        id: 'P2',
        type: 'candidate-pair',
        localCandidateId: 'L',
        remoteCandidateId: 'R',
        currentRoundTripTime: 0.02,
      },
      local,
      remote,
    ]);
    expect(await selectedCandidatePair(pc)).toEqual({
      local: {
        candidateType: 'relay',
        address: '203.0.113.5',
        port: 50000,
        protocol: 'udp',
        relayProtocol: 'udp',
      },
      remote: { candidateType: 'srflx', address: '198.51.100.7', port: 40000, protocol: 'udp' },
      currentRoundTripTime: 0.02,
    });
  });

  it('falls back to the pair flagged selected (Firefox)', async () => {
    const pc = pcWith([
      {
        id: 'P1',
        type: 'candidate-pair',
        localCandidateId: 'L',
        remoteCandidateId: 'R',
        selected: true,
      },
      local,
      remote,
    ]);
    expect((await selectedCandidatePair(pc))?.local.candidateType).toBe('relay');
  });

  it('is undefined while nothing is selected', async () => {
    expect(await selectedCandidatePair(pcWith([]))).toBeUndefined();
    const pending = pcWith([
      {
        id: 'P1',
        type: 'candidate-pair',
        localCandidateId: 'L',
        remoteCandidateId: 'R',
        state: 'in-progress',
      },
      local,
      remote,
    ]);
    expect(await selectedCandidatePair(pending)).toBeUndefined();
  });
});
