#!/usr/bin/env node
// In the repository, the TypeScript build (dist/main.js) runs over the workspace's packages,
// `punch serve` included. The packed CLI (`npm pack`) ships only the self-contained bundle
// dist/punch.mjs (scripts/bundle-agent.mjs), which runs itself when imported.
import { existsSync } from 'node:fs';

const full = new URL('../dist/main.js', import.meta.url);
if (existsSync(full)) {
  const { main } = await import(full.href);
  process.exitCode = await main(process.argv.slice(2));
} else {
  await import(new URL('../dist/punch.mjs', import.meta.url).href);
}
