import type { Hono } from 'hono';

/**
 * Reads one file of the built web app (`packages/web/dist`), by a path relative to its root:
 * `index.html`, `operator.html`, `assets/<name>` or `agent/punch.mjs`. Returns null when there is
 * no such file.
 * The Node host reads its disk; the Workers host asks its static-assets binding.
 */
export type AssetReader = (path: string) => Promise<Uint8Array | null>;

/** Asset names the build produces: one flat folder, no dot-files, no traversal. */
const ASSET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  mjs: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  ico: 'image/x-icon',
  woff2: 'font/woff2',
  json: 'application/json',
  txt: 'text/plain; charset=utf-8',
};

/** The content type for a file name, by its extension. */
export function contentTypeOf(name: string): string {
  const ext = name.slice(name.lastIndexOf('.') + 1).toLowerCase();
  return TYPES[ext] ?? 'application/octet-stream';
}

/**
 * Headers on every page. The operator page's URL carries a token (the QR link), so no
 * Referer ever leaves it; scripts and styles come from this origin only; the pages cannot be
 * framed. `img-src data:` is for the QR code (an SVG the API returns).
 */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'self'; img-src 'self' data:; connect-src 'self'; style-src 'self'; " +
    "script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
};

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Punch</title>
<p>The dashboard is not built on this server. Run <code>npm run build</code> and restart
<code>punch serve</code>. The API at <code>/api</code> works without it.</p>`;

function page(body: Uint8Array | string, type: string, cache: string, status = 200): Response {
  return new Response(body as BodyInit, {
    status,
    headers: { ...PAGE_HEADERS, 'content-type': type, 'cache-control': cache },
  });
}

/**
 * Mounts the producer dashboard (`/`, `/session/:id`) and the operator page (`/s/:id`, the
 * QR target) with their hashed assets, and the single-file agent (`/agent/punch.mjs`). HTML is
 * never cached (a new build takes effect at once); assets have content hashes in their names
 * and are cached for a year; the agent's name has no hash, so it is revalidated.
 *
 * @example
 * mountPages(app, async (path) => readFile(join(webRoot, path)).catch(() => null));
 */
export function mountPages(app: Hono, read: AssetReader): void {
  const html = async (name: string): Promise<Response> => {
    const body = await read(name);
    if (body === null) return page(NOT_BUILT, contentTypeOf(name), 'no-store', 503);
    return page(body, contentTypeOf(name), 'no-store');
  };
  app.get('/', () => html('index.html'));
  app.get('/session/:id', () => html('index.html'));
  app.get('/s/:id', () => html('operator.html'));
  app.get('/assets/:name', async (c) => {
    const name = c.req.param('name');
    const body = ASSET_NAME.test(name) ? await read(`assets/${name}`) : null;
    if (body === null) return c.notFound();
    return page(body, contentTypeOf(name), 'public, max-age=31536000, immutable');
  });
  // The agent as one file for Node (`curl -fsSO …/agent/punch.mjs`): not hashed, so revalidated.
  app.get('/agent/punch.mjs', async (c) => {
    const body = await read('agent/punch.mjs');
    return body === null ? c.notFound() : page(body, contentTypeOf('punch.mjs'), 'no-cache');
  });
  app.get('/favicon.svg', async (c) => {
    const body = await read('favicon.svg');
    return body === null
      ? c.notFound()
      : page(body, contentTypeOf('x.svg'), 'public, max-age=86400');
  });
}
