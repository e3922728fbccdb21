import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      'test/renderer/vitest.config.mts',
      {
        test: {
          name: 'node',
          environment: 'node',
          include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
          testTimeout: 60_000,
          pool: 'forks',
        },
      },
    ],
  },
});
