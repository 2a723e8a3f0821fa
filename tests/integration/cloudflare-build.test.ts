/** `wrangler deploy --dry-run` builds the Workers host as it would deploy it: no account, no network. */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';

const pkg = fileURLToPath(new URL('../../packages/cloudflare/', import.meta.url));
const wrangler = fileURLToPath(
  new URL('../../node_modules/wrangler/bin/wrangler.js', import.meta.url),
);
const out = mkdtempSync(join(tmpdir(), 'punch-wrangler-'));
afterAll(() => {
  rmSync(out, { recursive: true, force: true });
});

it('wrangler deploy --dry-run bundles the Worker with its session Durable Object and the web app', async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [wrangler, 'deploy', '--dry-run', '--outdir', out],
    {
      cwd: pkg,
      timeout: 120_000,
      env: {
        ...process.env,
        WRANGLER_SEND_METRICS: 'false',
        CLOUDFLARE_CF_FETCH_ENABLED: 'false',
        CLOUDFLARE_API_TOKEN: '',
      },
    },
  );
  expect(stdout).toMatch(/env\.SESSIONS \(SessionObject\)\s+Durable Object/);
  expect(stdout).toMatch(/env\.DIRECTORY \(DirectoryObject\)\s+Durable Object/);
  expect(stdout).toMatch(/env\.SIGNALS \(SignalObject\)\s+Durable Object/);
  expect(stdout).toMatch(/env\.ASSETS\s+Assets/);
  expect(stdout).toContain('--dry-run: exiting now.');
  const bundle = join(out, 'worker.js');
  expect(statSync(bundle).size).toBeGreaterThan(10_000);
  const text = readFileSync(bundle, 'utf8');
  expect(text).toMatch(/SessionObject = class extends DurableObject/);
  expect(text).toMatch(/export \{[^}]*SessionObject[^}]*\}/);
  // Within the Workers size limit (3 MiB compressed on the free plan): far within, uncompressed.
  expect(statSync(bundle).size).toBeLessThan(3 * 1024 * 1024);
});

it('wrangler.jsonc declares every object as a SQLite Durable Object', () => {
  const config = readFileSync(join(pkg, 'wrangler.jsonc'), 'utf8');
  expect(config).toMatch(
    /"new_sqlite_classes":\s*\["SessionObject", "DirectoryObject", "SignalObject"\]/,
  );
  for (const [binding, cls] of [
    ['SESSIONS', 'SessionObject'],
    ['DIRECTORY', 'DirectoryObject'],
    ['SIGNALS', 'SignalObject'],
  ])
    expect(config).toMatch(new RegExp(`"name": "${binding}", "class_name": "${cls}"`));
});
