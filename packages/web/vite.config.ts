import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

/**
 * Two pages, each its own entry so the phone-sized operator page loads only what it needs.
 * `npm run dev -w @punch/web` proxies the API to a `punch serve` on PUNCH_URL (default :8787).
 */
export default defineConfig({
  root: here('.'),
  base: '/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: here('dist'),
    emptyOutDir: true,
    target: 'es2022',
    reportCompressedSize: false,
    rollupOptions: {
      input: { index: here('index.html'), operator: here('operator.html') },
    },
  },
  server: {
    proxy: {
      '/api': { target: process.env.PUNCH_URL ?? 'http://127.0.0.1:8787', ws: true },
    },
  },
});
