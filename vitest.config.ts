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
          // Hooks build tiny networks and runs too; under a loaded CI machine 10 s (the default) is not enough.
          hookTimeout: 60_000,
          pool: 'forks',
        },
      },
    ],
  },
});
