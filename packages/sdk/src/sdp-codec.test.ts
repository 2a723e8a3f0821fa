import { describe, expect, it } from 'vitest';
import { decodeDescription, encodeDescription, MAX_SDP, PLAIN_SDP_LIMIT } from './sdp-codec.js';

function fakeSdp(bytes: number): string {
  const lines = ['v=0', 'o=- 4611731400430051336 2 IN IP4 127.0.0.1', 's=-', 't=0 0'];
  let i = 0;
  while (lines.join('\r\n').length < bytes) lines.push(`a=rtpmap:${96 + (i++ % 30)} VP9/90000`);
  return `${lines.join('\r\n')}\r\n`;
}

describe('SDP codec', () => {
  it('sends a small SDP as is', async () => {
    const sdp = fakeSdp(2000);
    expect(await encodeDescription({ type: 'offer', sdp })).toEqual({ type: 'offer', sdp });
  });

  it('deflates a large SDP under the payload limit and restores it exactly', async () => {
    const sdp = fakeSdp(30_000);
    const wire = await encodeDescription({ type: 'answer', sdp });
    expect('sdpz' in wire).toBe(true);
    expect(JSON.stringify(wire).length).toBeLessThan(PLAIN_SDP_LIMIT);
    expect(await decodeDescription(wire)).toEqual({ type: 'answer', sdp });
  });

  it('refuses a corrupt or oversized deflated SDP', async () => {
    await expect(decodeDescription({ type: 'offer', sdpz: 'bm90IGRlZmxhdGU=' })).rejects.toThrow();
    const bomb = await encodeDescription({ type: 'offer', sdp: 'a'.repeat(MAX_SDP + 10) });
    await expect(decodeDescription(bomb)).rejects.toThrow(RangeError);
  });
});
