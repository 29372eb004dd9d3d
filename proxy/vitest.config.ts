import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/** The proxy's tests, in Node; run from the root with `npm run test:proxy`. */
export default defineConfig({
  test: {
    name: 'proxy',
    root: fileURLToPath(new URL('.', import.meta.url)),
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
