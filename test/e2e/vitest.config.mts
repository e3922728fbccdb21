// End-to-end tests: the browser mode driven in Debian's Chromium (`npm run test:e2e`). They need the
// compiled main process (`npm run build`) and the built renderer (`npm run build:renderer`).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'e2e',
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/e2e/**/*.e2e.test.ts'],
    environment: 'node',
    testTimeout: 180_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
