/**
 * Bundles the `punch` command (the `punch peer` agent and the admin commands) into one
 * self-contained ES module for Node 20: no native module, nothing to compile, nothing to install.
 * Run by `npm run build` after the web build (which empties packages/web/dist), it writes
 *
 *   packages/web/dist/agent/punch.mjs   what every host serves at GET /agent/punch.mjs
 *   packages/cli/dist/punch.mjs         what the packed CLI (`npm pack` of packages/cli) runs
 *
 * `punch serve` and `punch account` need the Node host (@punch/node, over better-sqlite3, which
 * compiles at install): the CLI loads it only with `import()` inside those commands, and here it
 * is replaced by a module that says so, so the bundle never carries it.
 *
 * `punch tally bridge atem://…` needs atem-connection (which loads a native font library): it is
 * left out (external) and loaded with `import()` from beside punch.mjs, only for an ATEM source.
 */
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const at = (p) => fileURLToPath(new URL(`../${p}`, import.meta.url));
const CLI_OUT = at('packages/cli/dist/punch.mjs');
const WEB_OUT = at('packages/web/dist/agent/punch.mjs');

const NEEDS_FULL_INSTALL =
  'this command needs the full Punch install (git clone, npm ci, npm run build: see the README): ' +
  'the single-file punch.mjs and the packed CLI carry `punch peer` and the admin commands, ' +
  'not the server or its SQLite database';

/** Modules the bundle must not carry, each answered by a stand-in (see `onLoad` below). */
const STAND_INS = /^(@punch\/node|better-sqlite3|bufferutil|utf-8-validate)$/;

/** @type {import('esbuild').Plugin} */
const standIns = {
  name: 'punch-stand-ins',
  setup(b) {
    b.onResolve({ filter: STAND_INS }, (args) => ({ path: args.path, namespace: 'stand-in' }));
    b.onLoad({ filter: /.*/, namespace: 'stand-in' }, (args) => ({
      // @punch/node: loaded only by `import()` in serve and account, which then reject with
      // this sentence. bufferutil and utf-8-validate: ws's optional native speed-ups, required
      // inside a try; ws falls back to its JavaScript code when they throw.
      contents:
        args.path === '@punch/node' || args.path === 'better-sqlite3'
          ? `throw new Error(${JSON.stringify(NEEDS_FULL_INSTALL)});`
          : `throw new Error('${args.path} is not bundled');`,
      loader: 'js',
    }));
  },
};

await build({
  stdin: {
    contents:
      "import { main } from './dist/main.js';\nprocess.exitCode = await main(process.argv.slice(2));\n",
    resolveDir: at('packages/cli'),
    sourcefile: 'punch-entry.mjs',
  },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile: CLI_OUT,
  plugins: [standIns],
  external: ['atem-connection'],
  // ws is CommonJS and requires Node's modules; an ES module has no `require` of its own.
  banner: {
    js: [
      '#!/usr/bin/env node',
      '// punch: the Punch agent (`punch peer`) and admin commands, one file for Node 20.',
      "import { createRequire as __punchRequire } from 'node:module';",
      'const require = __punchRequire(import.meta.url);',
    ].join('\n'),
  },
  // serve.ts imports names from the @punch/node stand-in, which has none: it throws on load.
  logOverride: { 'import-is-undefined': 'silent' },
  legalComments: 'eof',
  logLevel: 'warning',
});
mkdirSync(dirname(WEB_OUT), { recursive: true });
copyFileSync(CLI_OUT, WEB_OUT);
