import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { KeyRing } from '@punch/core';
import { loadSecrets } from './secret.js';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'punch-secret-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const LONG = 'x'.repeat(40);
const OLD = 'o'.repeat(48);

describe('loadSecrets', () => {
  it('uses PUNCH_SECRET from the environment and writes no file', () => {
    const s = loadSecrets(dir, { PUNCH_SECRET: LONG });
    expect(s).toEqual({ current: LONG, previous: [], source: 'env' });
    expect(existsSync(join(dir, 'secret'))).toBe(false);
  });

  it('refuses a PUNCH_SECRET shorter than 32 bytes, counting UTF-8 bytes', () => {
    expect(() => loadSecrets(dir, { PUNCH_SECRET: 'x'.repeat(31) })).toThrow(/at least 32 bytes/);
    expect(loadSecrets(dir, { PUNCH_SECRET: 'x'.repeat(32) }).current).toBe('x'.repeat(32));
    // 16 characters, 32 bytes.
    expect(loadSecrets(dir, { PUNCH_SECRET: 'é'.repeat(16) }).source).toBe('env');
    expect(existsSync(join(dir, 'secret'))).toBe(false);
  });

  it('without PUNCH_SECRET, generates a secret file with mode 0600', () => {
    const s = loadSecrets(dir, {});
    const file = join(dir, 'secret');
    expect(s.source).toBe('generated');
    expect(s.file).toBe(file);
    expect(Buffer.byteLength(s.current, 'utf8')).toBeGreaterThanOrEqual(32);
    expect(readFileSync(file, 'utf8').trim()).toBe(s.current);
    if (process.platform !== 'win32') {
      expect(statSync(file).mode & 0o777).toBe(0o600);
    }
  });

  it('narrows an existing secret file with a wider mode to 0600', () => {
    const file = join(dir, 'secret');
    writeFileSync(file, `${LONG}\n`, { mode: 0o644 });
    chmodSync(file, 0o644);
    expect(loadSecrets(dir, {}).current).toBe(LONG);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('an empty PUNCH_SECRET counts as unset', () => {
    expect(loadSecrets(dir, { PUNCH_SECRET: '' }).source).toBe('generated');
  });

  it('reuses the generated file on the next start', async () => {
    const first = loadSecrets(dir, {});
    const second = loadSecrets(dir, {});
    expect(second.source).toBe('file');
    expect(second.current).toBe(first.current);
    // Usable as a signing key.
    await expect(KeyRing.fromSecrets(second.current)).resolves.toBeInstanceOf(KeyRing);
  });

  it('generates a different secret in another data directory', () => {
    const other = mkdtempSync(join(tmpdir(), 'punch-secret-'));
    try {
      expect(loadSecrets(other, {}).current).not.toBe(loadSecrets(dir, {}).current);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('PUNCH_SECRET wins over an existing file', () => {
    loadSecrets(dir, {});
    const s = loadSecrets(dir, { PUNCH_SECRET: LONG });
    expect(s.source).toBe('env');
    expect(s.current).toBe(LONG);
  });

  it('refuses a secret file that is too short', () => {
    writeFileSync(join(dir, 'secret'), 'short\n', { mode: 0o600 });
    expect(() => loadSecrets(dir, {})).toThrow(/at least 32 bytes/);
  });

  it('PUNCH_SECRET_PREVIOUS is passed on for verifying only, and must be long enough', () => {
    const s = loadSecrets(dir, { PUNCH_SECRET: LONG, PUNCH_SECRET_PREVIOUS: OLD });
    expect(s.current).toBe(LONG);
    expect(s.previous).toEqual([OLD]);
    expect(loadSecrets(dir, { PUNCH_SECRET: LONG, PUNCH_SECRET_PREVIOUS: '' }).previous).toEqual(
      [],
    );
    expect(() =>
      loadSecrets(dir, { PUNCH_SECRET: LONG, PUNCH_SECRET_PREVIOUS: 'too-short' }),
    ).toThrow(/PUNCH_SECRET_PREVIOUS/);
    // Also alongside a generated secret.
    const g = loadSecrets(dir, { PUNCH_SECRET_PREVIOUS: OLD });
    expect(g.previous).toEqual([OLD]);
    expect(g.current).not.toBe(OLD);
  });

  it('never puts the secret value in an error message', () => {
    const secret = 'short-secret-value';
    try {
      loadSecrets(dir, { PUNCH_SECRET: secret });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).not.toContain(secret);
    }
  });
});
