// Renderer component tests: Svelte components compiled for the browser, rendered in jsdom.
import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';

export default defineConfig({
  plugins: [svelte()],
  // Svelte's browser build: `mount` is not available in its server build.
  resolve: { conditions: ['browser'] },
  test: {
    name: 'renderer',
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/renderer/**/*.test.ts'],
    environment: 'jsdom',
  },
});
