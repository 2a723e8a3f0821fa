import { readFile } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AssetReader } from '@punch/core';

/** `packages/web/dist`, seen from this package's `src` or `dist`. */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../web/dist', import.meta.url));

/**
 * Reads the built web app from `root`. Files are read once and kept: a build is immutable while
 * the server runs, and the whole app is a few hundred kilobytes. A missing file is not cached,
 * so building while the server runs makes the pages appear.
 */
export function diskAssets(root: string): AssetReader {
  const base = resolve(root);
  const cache = new Map<string, Uint8Array>();
  return async (path) => {
    const hit = cache.get(path);
    if (hit !== undefined) return hit;
    const file = resolve(join(base, path));
    // core only asks for known names, but a reader never leaves its root.
    if (!file.startsWith(base + sep)) return null;
    try {
      const body = new Uint8Array(await readFile(file));
      cache.set(path, body);
      return body;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') return null;
      throw new Error(`cannot read web asset ${path}`, { cause: err });
    }
  };
}
