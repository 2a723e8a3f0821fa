import { describe, expect, it } from 'vitest';
import { isValidName, nameFromPath } from './names.js';

describe('names', () => {
  it('accepts DESIGN.md names only', () => {
    for (const ok of ['nab-floor', 'cam-1', 'a1', '0a'.padEnd(63, 'x')])
      expect(isValidName(ok)).toBe(true);
    for (const bad of ['a', '-a', 'A1', 'cam_1', 'a'.repeat(64), 'ü1', ''])
      expect(isValidName(bad)).toBe(false);
  });

  it('reads a session name from a path segment, percent-decoded, or nothing', () => {
    expect(nameFromPath('nab-floor')).toBe('nab-floor');
    expect(nameFromPath('nab%2Dfloor')).toBe('nab-floor');
    for (const bad of ['%E0%A4%A', '%ZZ', '%', 'UPPER', 'a%2Fb', ''])
      expect(nameFromPath(bad)).toBeUndefined();
  });
});
