import { describe, expect, it } from 'vitest';
import { parseStreams } from './streams.js';

describe('parseStreams', () => {
  it('splits at commas only and keeps names as typed', () => {
    expect(parseStreams('cam-wide, cam-close,mcr')).toEqual({
      streams: ['cam-wide', 'cam-close', 'mcr'],
    });
    expect(parseStreams('  ')).toEqual({ streams: [] });
  });

  it("refuses what the API refuses, in the API's words, naming the slot", () => {
    expect(parseStreams('Cam Wide, cam-close')).toEqual({
      error:
        'Stream slots: "Cam Wide": lowercase letters, digits and "-", 2 to 63 characters, starting with a letter or digit',
    });
    expect(parseStreams('cam-1, cam-1')).toEqual({
      error: 'Stream slots: stream names must be unique',
    });
  });
});
