import { defineConfig } from '@playwright/test';
import { CHROMIUM_PATH, E2E_PORT as PORT, chromiumArgs } from './scripts/chromium.ts';
import { E2E_EMBED_ORIGINS } from './tests/e2e/embed-host.ts';

/**
 * End-to-end tests against a production-like build (`--mode e2e` keeps the test-only fault hooks),
 * served by `vite preview` with the same COOP/COEP headers as production. Debian's Chromium with
 * WebGPU on SwiftShader; the model host is routed to the committed test models.
 */
export default defineConfig({
  testDir: 'tests/e2e',
  fullyParallel: false,
  workers: 1,
  timeout: 240_000,
  expect: { timeout: 120_000 },
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    browserName: 'chromium',
    launchOptions: { executablePath: CHROMIUM_PATH, args: chromiumArgs() },
    acceptDownloads: true,
    // Service workers answer requests Playwright cannot route; only pwa.spec.ts lets the app register one.
    serviceWorkers: 'block',
    viewport: { width: 1280, height: 860 },
  },
  webServer: {
    command: `npx vite build --mode e2e --outDir dist-e2e --logLevel warn && npx vite preview --outDir dist-e2e --port ${PORT} --strictPort --host 127.0.0.1`,
    url: `http://127.0.0.1:${PORT}/`,
    timeout: 240_000,
    reuseExistingServer: false,
    // The widget's hosts in tests/e2e/embed.spec.ts (loopback servers the tests start).
    env: { VITE_EMBED_ORIGINS: E2E_EMBED_ORIGINS },
  },
});
