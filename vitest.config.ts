import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import { playwright } from '@vitest/browser-playwright';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { CHROMIUM_PATH, chromiumArgs } from './scripts/chromium.ts';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts'],
          environment: 'node',
          // Vitest leaves one core to itself by default, which on a 2-core runner is a single worker;
          // these files are CPU-bound, so use every core, with timeouts that allow for sharing them.
          maxWorkers: availableParallelism(),
          testTimeout: 30_000,
        },
      },
      {
        // Svelte components mounted in real Chromium (no WebGPU needed): props in, callbacks out, axe.
        plugins: [svelte()],
        test: {
          name: 'components',
          include: ['tests/components/**/*.test.ts'],
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            provider: playwright({ launchOptions: { executablePath: CHROMIUM_PATH, args: chromiumArgs({ webgpu: false }) } }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
      {
        test: {
          name: 'gpu',
          include: ['tests/gpu/**/*.test.ts'],
          // SwiftShader runs WebGPU on the CPU: one file at a time, generous timeouts.
          fileParallelism: false,
          testTimeout: 240_000,
          hookTimeout: 120_000,
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            provider: playwright({
              launchOptions: { executablePath: CHROMIUM_PATH, args: chromiumArgs() },
            }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
    ],
  },
});
