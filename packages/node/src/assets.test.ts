import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { diskAssets } from './assets.js';

const root = mkdtempSync(join(tmpdir(), 'punch-assets-'));
mkdirSync(join(root, 'web', 'assets'), { recursive: true });
writeFileSync(join(root, 'web', 'index.html'), '<p>hi</p>');
writeFileSync(join(root, 'web', 'assets', 'a.js'), 'x()');
writeFileSync(join(root, 'secret.txt'), 'no');
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('diskAssets', () => {
  const read = diskAssets(join(root, 'web'));
  const text = async (p: string): Promise<string | null> => {
    const b = await read(p);
    return b === null ? null : new TextDecoder().decode(b);
  };

  it('reads files under its root', async () => {
    expect(await text('index.html')).toBe('<p>hi</p>');
    expect(await text('assets/a.js')).toBe('x()');
  });
  it('answers null for missing files and directories', async () => {
    expect(await read('nope.html')).toBeNull();
    expect(await read('assets')).toBeNull();
  });
  it('never leaves its root', async () => {
    expect(await read('../secret.txt')).toBeNull();
    expect(await read('assets/../../secret.txt')).toBeNull();
  });
  it('rereads HTML (a rebuild changes it) and keeps hashed assets', async () => {
    expect(await text('index.html')).toBe('<p>hi</p>');
    writeFileSync(join(root, 'web', 'index.html'), '<p>rebuilt</p>');
    expect(await text('index.html')).toBe('<p>rebuilt</p>');
  });
  it('rereads the agent file (its name stays the same on every build)', async () => {
    mkdirSync(join(root, 'web', 'agent'), { recursive: true });
    writeFileSync(join(root, 'web', 'agent', 'punch.mjs'), 'one()');
    expect(await text('agent/punch.mjs')).toBe('one()');
    writeFileSync(join(root, 'web', 'agent', 'punch.mjs'), 'two()');
    expect(await text('agent/punch.mjs')).toBe('two()');
  });
  it('serves a file that appears after a miss (built while running)', async () => {
    expect(await read('late.html')).toBeNull();
    writeFileSync(join(root, 'web', 'late.html'), 'late');
    expect(await text('late.html')).toBe('late');
  });
});
