import { describe, expect, it } from 'vitest';
import { PunchError } from '../errors.js';
import { REVOKED_MEMORY_MS, Revocations } from './revocations.js';

const refusal = (r: Revocations, kid: string, now: number): string | undefined => {
  try {
    r.assertAdmissible({ kid }, now);
    return undefined;
  } catch (err) {
    return err instanceof PunchError ? err.code : 'other';
  }
};

describe('Revocations', () => {
  it('refuses a deleted kid within the window, and only that kid', () => {
    const r = new Revocations();
    r.add('k1', 1000);
    expect(refusal(r, 'k1', 1000)).toBe('ERR_KEY_REVOKED');
    expect(refusal(r, 'k1', 1000 + REVOKED_MEMORY_MS - 1)).toBe('ERR_KEY_REVOKED');
    expect(refusal(r, 'k2', 1000)).toBeUndefined();
  });

  it('forgets deletions after the window, so memory stays bounded', () => {
    const r = new Revocations();
    r.add('old', 0);
    r.add('newer', REVOKED_MEMORY_MS / 2);
    expect(refusal(r, 'old', REVOKED_MEMORY_MS)).toBeUndefined();
    r.prune(REVOKED_MEMORY_MS);
    expect(r.size).toBe(1);
    r.add('again', 10 * REVOKED_MEMORY_MS);
    expect(r.size).toBe(1);
  });

  it('a kid deleted twice counts from the last deletion', () => {
    const r = new Revocations();
    r.add('k', 0);
    r.add('x', 10);
    r.add('k', REVOKED_MEMORY_MS - 5);
    r.prune(REVOKED_MEMORY_MS + 20);
    expect(refusal(r, 'k', REVOKED_MEMORY_MS + 20)).toBe('ERR_KEY_REVOKED');
  });
});
