import { describe, expect, it } from 'vitest';
import type { TokenClaims } from '../token/claims.js';
import { tallyFor, tallyMark } from './tally.js';

const claims = (role: 'admin' | 'peer', stream: string | null): TokenClaims => ({
  session: 'show',
  role,
  stream,
  exp: 2_000_000_000,
});
const tally = { program: ['cam-wide'], preview: ['cam-close', 'cam-3'] };

describe('tallyFor', () => {
  it('keeps only the streams a token covers', () => {
    expect(tallyFor(tally, claims('peer', 'cam-wide'))).toEqual({
      program: ['cam-wide'],
      preview: [],
    });
    expect(tallyFor(tally, claims('peer', 'cam-3'))).toEqual({ program: [], preview: ['cam-3'] });
    expect(tallyFor(tally, claims('peer', 'cam-9'))).toEqual({ program: [], preview: [] });
  });

  it('an admin token and an all-streams peer token see everything', () => {
    expect(tallyFor(tally, claims('admin', null))).toEqual(tally);
    expect(tallyFor(tally, claims('peer', null))).toEqual(tally);
  });
});

describe('tallyMark', () => {
  it('is program, preview or none; program wins when a stream is in both', () => {
    expect(tallyMark(tally, 'cam-wide')).toBe('program');
    expect(tallyMark(tally, 'cam-close')).toBe('preview');
    expect(tallyMark(tally, 'cam-9')).toBe('none');
    expect(tallyMark({ program: ['cam-wide'], preview: ['cam-wide'] }, 'cam-wide')).toBe('program');
  });
});
