import { describe, expect, it } from 'vitest';
import { isPolite } from './polite.js';

describe('isPolite', () => {
  const ids = [
    { group: 'g', peer: 'alice' },
    { group: 'g', peer: 'bob' },
    { group: 'g', peer: 'Bob' },
    { group: 'h', peer: 'alice' },
    { group: 'g.x', peer: 'a' },
    { group: 'g', peer: 'alice-2' },
  ];

  it('picks exactly one polite side for every pair, the same on both sides', () => {
    for (const a of ids) {
      for (const b of ids) {
        if (a === b) continue;
        expect(isPolite(a, b)).toBe(!isPolite(b, a));
      }
    }
  });

  it('is the side whose group/peer sorts after the other (code units, not locale)', () => {
    expect(isPolite({ group: 'g', peer: 'bob' }, { group: 'g', peer: 'alice' })).toBe(true);
    expect(isPolite({ group: 'g', peer: 'alice' }, { group: 'g', peer: 'bob' })).toBe(false);
    // 'B' (0x42) sorts before 'a' (0x61): uppercase first, whatever the locale says.
    expect(isPolite({ group: 'g', peer: 'alice' }, { group: 'g', peer: 'Bob' })).toBe(true);
    // The group decides first: 'g/zed' < 'h/alice'.
    expect(isPolite({ group: 'h', peer: 'alice' }, { group: 'g', peer: 'zed' })).toBe(true);
  });
});
