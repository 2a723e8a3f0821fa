import { readFile } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AssetReader } from '@punch/core';

/** `packages/web/dist`, seen from this package's `src` or `dist`. */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../web/dist', import.meta.url));

/**
 * Reads the built web app from `root`. Hashed assets (`assets/`) are read once and kept (their
 * names change with their content; the whole app is a few hundred kilobytes). Everything else,
 * HTML and the agent file (`agent/punch.mjs`, same name on every build) is read on every
 * request, so a rebuild while the server runs takes effect at once.
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
      if (path.startsWith('assets/')) cache.set(path, body);
      return body;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') return null;
      throw new Error(`cannot read web asset ${path}`, { cause: err });
    }
  };
}
