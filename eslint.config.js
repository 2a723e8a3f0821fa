// @ts-check
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    // Build output, dependencies, local data, and wrangler's and Miniflare's scratch
    // (`.wrangler/`: bundles and local state wherever wrangler ran).
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      'punch-data/**',
      '**/.wrangler/**',
      'packages/cli/bin/**',
    ],
  },
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unnecessary-condition': 'off',
    },
  },
  {
    files: ['packages/core/src/**/*.ts', 'packages/cloudflare/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(node:|fs$|path$|os$|crypto$|dgram$|net$|http$|child_process$)',
              message: 'core and the Workers host use web standards only: no Node modules.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.test.ts', 'tests/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  { files: ['**/*.js', '**/*.mjs'], ...tseslint.configs.disableTypeChecked },
  { files: ['**/*.js', '**/*.mjs'], languageOptions: { globals: globals.node } },
  // Example pages run in the browser.
  {
    files: ['examples/*/app.js', 'tests/e2e/webrtc-page.js'],
    languageOptions: { globals: globals.browser },
  },
);
