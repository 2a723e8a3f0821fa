/**
 * The relay red-team reproductions (tests/redteam-relay): integration tests against a real
 * `punch serve` on loopback. Run: npm run build --silent && npx vitest run -c tests/redteam-relay/vitest.config.ts
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  resolve: {
    alias: {
      '@punch/core': src('../../packages/core/src/index.ts'),
      '@punch/node': src('../../packages/node/src/index.ts'),
    },
  },
  test: {
    root: src('../..'),
    include: ['tests/redteam-relay/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
