import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

/**
 * The browser bundle: one ES module with jose inside, for pages that load the SDK without a
 * bundler (`<script type="module">import { createPeer } from '/punch-sdk.js'`).
 * `npm run build` runs it after `tsc -b`; it lands in dist/browser/punch-sdk.js.
 */
export default defineConfig({
  root: here('.'),
  logLevel: 'warn',
  build: {
    lib: {
      entry: here('src/index.ts'),
      formats: ['es'],
      fileName: () => 'punch-sdk.js',
    },
    outDir: here('dist/browser'),
    emptyOutDir: true,
    target: 'es2022',
    minify: true,
    sourcemap: true,
    reportCompressedSize: false,
  },
});
