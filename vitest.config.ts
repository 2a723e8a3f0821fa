import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  resolve: {
    alias: {
      '@punch/core': src('./packages/core/src/index.ts'),
      '@punch/node': src('./packages/node/src/index.ts'),
      '@punch/sdk/werift': src('./packages/sdk/src/werift.ts'),
      '@punch/sdk': src('./packages/sdk/src/index.ts'),
    },
  },
  test: {
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['packages/*/src/**/*.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'conformance',
          include: ['tests/conformance/**/*.test.ts'],
          env: { PUNCH_CONFORMANCE_HOST: 'node' },
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        // The same suite against the Cloudflare host on a local workerd (Miniflare).
        extends: true,
        test: {
          name: 'conformance-workerd',
          include: ['tests/conformance/**/*.test.ts', 'tests/workerd/**/*.test.ts'],
          env: {
            PUNCH_CONFORMANCE_HOST: 'workerd',
            WRANGLER_SEND_METRICS: 'false',
            CLOUDFLARE_CF_FETCH_ENABLED: 'false',
          },
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 60_000,
          // Network namespaces, ffmpeg and SRT: one file at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
