import { describe, expect, it } from 'vitest';
import { nextTally } from './tally.js';

describe('nextTally', () => {
  it('PGM puts a stream on program and takes it off preview', () => {
    expect(nextTally({ program: [], preview: ['cam-1'] }, 'cam-1', 'program')).toEqual({
      program: ['cam-1'],
      preview: [],
    });
  });
  it('pressing PGM again takes it off air; other streams stay where they are', () => {
    expect(
      nextTally({ program: ['cam-1', 'cam-2'], preview: ['cam-3'] }, 'cam-1', 'program'),
    ).toEqual({ program: ['cam-2'], preview: ['cam-3'] });
  });
  it('PVW moves a program stream to preview', () => {
    expect(nextTally({ program: ['cam-1'], preview: [] }, 'cam-1', 'preview')).toEqual({
      program: [],
      preview: ['cam-1'],
    });
  });
});
