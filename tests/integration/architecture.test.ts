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

const packages = fileURLToPath(new URL('../../packages/', import.meta.url));

/** Every non-test source file of every package, with its path relative to packages/. */
function allSources(): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [];
  for (const pkg of readdirSync(packages)) {
    const src = join(packages, pkg, 'src');
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) {
          if (e.name !== 'test') walk(p);
        } else if (/\.tsx?$/.test(e.name) && !/\.test\.tsx?$/.test(e.name)) {
          out.push({ path: p.slice(packages.length), text: readFileSync(p, 'utf8') });
        }
      }
    };
    try {
      walk(src);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // a package with no src/
    }
  }
  return out;
}

it('no source file is a god file (at most 450 lines: split by concern before adding more)', () => {
  const files = allSources();
  expect(files.length).toBeGreaterThan(50);
  const big = files
    .map((f) => ({ path: f.path, lines: f.text.split('\n').length }))
    .filter((f) => f.lines > 450);
  expect(big).toEqual([]);
});

it('every SQL schema lives in core: hosts supply a driver, not SQL', () => {
  const outside = allSources().filter(
    (f) => !f.path.startsWith('core/') && /CREATE\s+(TABLE|INDEX)/i.test(f.text),
  );
  expect(outside.map((f) => f.path)).toEqual([]);
});

it('close codes come from the error table: no literal close code anywhere else', () => {
  // A close with a number, a comparison with a close code, or a map keyed by one.
  const literal =
    /\.close\(\s*\d{4}|[=!]==\s*(?:1\d{3}|4\d{3})\b|\b(?:1\d{3}|4\d{3})\s*[=!]==|^\s*(?:1\d{3}|4\d{3}):/m;
  const found = allSources()
    .filter((f) => f.path !== 'core/src/errors.ts' && literal.test(f.text))
    .map((f) => `${f.path}: ${literal.exec(f.text)?.[0] ?? ''}`);
  expect(found).toEqual([]);
});
