import { describe, it, expect } from 'vitest';
import { StatsSchema } from '@punch/core';
import { parseStats } from './exec.js';

/** One line of `srt-live-transmit -pf:json` (1.5), as written to its -statsout file. */
const LINE =
  '{"sid":403521185,"timepoint":"2026-11-23T08:02:23.249317+0000","time":812,"window":{"flow":8183,"congestion":8192,"flight":0},"link":{"rtt":0.047,"bandwidth":2.808,"maxBandwidth":1000},"send":{"packets":8,"packetsUnique":8,"packetsLost":0,"packetsDropped":0,"packetsRetransmitted":0,"packetsFilterExtra":0,"bytes":9940,"bytesUnique":9940,"bytesDropped":0,"byteAvailBuf":12286500,"msBuf":1,"mbitRate":0.0979281,"sendPeriod":11},"recv":{"packets":0,"packetsUnique":0,"packetsLost":0,"packetsDropped":0,"packetsRetransmitted":0,"packetsBelated":0,"packetsFilterExtra":0,"packetsFilterSupply":0,"packetsFilterLoss":0,"bytes":0,"bytesUnique":0,"bytesLost":0,"bytesDropped":0,"byteAvailBuf":12286500,"msBuf":0,"mbitRate":0}}';

const EXPECTED = {
  'link.rtt': 0.047,
  'link.bandwidth': 2.808,
  'send.packets': 8,
  'send.packetsLost': 0,
  'send.packetsDropped': 0,
  'send.packetsRetransmitted': 0,
  'send.bytes': 9940,
  'send.mbitRate': 0.0979281,
  'send.msBuf': 1,
  'recv.packets': 0,
  'recv.packetsLost': 0,
  'recv.packetsDropped': 0,
  'recv.packetsRetransmitted': 0,
  'recv.packetsBelated': 0,
  'recv.bytes': 0,
  'recv.mbitRate': 0,
  'recv.msBuf': 0,
};

describe('parseStats', () => {
  it('keeps the dashboard fields of a real srt-live-transmit 1.5 JSON line', () => {
    expect(parseStats(LINE)).toEqual(EXPECTED);
  });

  it('stays under the 32-key cap and drops identifiers, times and strings', () => {
    const stats = parseStats(LINE)!;
    expect(Object.keys(stats).length).toBeLessThanOrEqual(32);
    for (const dropped of ['sid', 'timepoint', 'time', 'window.flow', 'link.maxBandwidth'])
      expect(stats).not.toHaveProperty([dropped]);
    for (const value of Object.values(stats)) expect(typeof value).toBe('number');
  });

  it('passes core StatsSchema as the `srt` field of a health report', () => {
    const stats = parseStats(LINE);
    const parsed = StatsSchema.safeParse({ srt: stats });
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
    expect(parsed.data?.srt).toEqual(EXPECTED);
  });

  it('accepts a line with a trailing comma (a JSON-array style stats file)', () => {
    expect(parseStats(`${LINE},`)).toEqual(EXPECTED);
  });

  it('keeps what a line has and skips what it lacks or holds as non-numbers', () => {
    expect(
      parseStats('{"link":{"rtt":1.5,"bandwidth":"fast"},"send":{"packets":null,"bytes":3}}'),
    ).toEqual({ 'link.rtt': 1.5, 'send.bytes': 3 });
  });

  it('returns undefined for non-JSON, partial and field-less lines', () => {
    const partial = LINE.slice(0, Math.floor(LINE.length / 2));
    for (const line of [
      '',
      'SRT parameters specified:',
      "Media path: 'srt://:9000' --> 'udp://127.0.0.1:5000'",
      '[',
      partial,
      LINE.slice(0, -1),
      LINE.slice(1),
      '{}',
      '{"sid":403521185,"time":812}',
      '{"link":{"rtt":"0.047"}}',
      '{"link":null}',
      '{"link.rtt":0.047}',
    ]) {
      expect(parseStats(line), line.slice(0, 60)).toBeUndefined();
    }
  });
});
