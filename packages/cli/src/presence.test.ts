import { describe, expect, it } from 'vitest';
import { presence } from './presence.js';

describe('presence', () => {
  it('says in plain words whether a side is connected and whether its path is up', () => {
    expect(presence({ present: false, path: null })).toBe('not connected');
    expect(presence({ present: true, path: 'none' })).toBe('connected, no path yet');
    expect(presence({ present: true, path: null })).toBe('connected, no path yet');
    expect(presence({ present: true, path: 'direct' })).toBe('direct');
    expect(presence({ present: true, path: 'relay' })).toBe('relay');
  });
});
