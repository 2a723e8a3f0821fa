/**
 * The pages stay small: each one's HTML, scripts and styles under 200 KB gzipped (a phone on a
 * venue's Wi-Fi loads the operator page from a QR code). Reads the build `npm test` makes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

const DIST = fileURLToPath(new URL('../../packages/web/dist/', import.meta.url));
const BUDGET = 200 * 1024;

/** Every file a page loads: its HTML and the assets it references, imports included. */
function pageFiles(html: string): string[] {
  const files = new Set<string>([html]);
  const queue = [html];
  while (queue.length > 0) {
    const text = readFileSync(join(DIST, queue.pop()!), 'utf8');
    for (const m of text.matchAll(/\/?assets\/[A-Za-z0-9._-]+\.(?:js|css)/g)) {
      const name = m[0].replace(/^\//, '');
      if (!files.has(name)) {
        files.add(name);
        if (name.endsWith('.js')) queue.push(name);
      }
    }
  }
  return [...files];
}

describe('web bundle size', () => {
  for (const page of ['index.html', 'operator.html']) {
    it(`${page} loads under 200 KB gzipped`, () => {
      const files = pageFiles(page);
      expect(files.some((f) => f.endsWith('.js'))).toBe(true);
      const total = files.reduce((n, f) => n + gzipSync(readFileSync(join(DIST, f))).length, 0);
      console.log(`${page}: ${files.length} files, ${(total / 1024).toFixed(1)} KB gzipped`);
      expect(total).toBeLessThan(BUDGET);
    });
  }
});
