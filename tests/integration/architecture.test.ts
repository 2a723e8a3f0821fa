/** The shape rules of DESIGN.md that keep `core` portable to every host. */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const core = fileURLToPath(new URL('../../packages/core/', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sources(join(dir, e.name))
      : e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')
        ? [join(dir, e.name)]
        : [],
  );
}

it('core is compiled with no ambient types (so a Node import fails the build)', () => {
  const tsconfig = JSON.parse(readFileSync(join(core, 'tsconfig.json'), 'utf8')) as {
    compilerOptions: { types: unknown };
  };
  expect(tsconfig.compilerOptions.types).toEqual([]);
});

it('no core source imports a Node module or uses Buffer', () => {
  const files = sources(join(core, 'src'));
  expect(files.length).toBeGreaterThan(10);
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    expect([
      f,
      /from ['"](node:|fs|path|os|crypto|dgram|net|http|child_process)['"]/.test(text),
    ]).toEqual([f, false]);
    expect([f, /\bBuffer\./.test(text)]).toEqual([f, false]);
  }
});
