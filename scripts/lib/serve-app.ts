/// <reference types="node" />
/**
 * The app as the end-to-end tests see it, for scripts (benchmark, screenshots): a `--mode e2e` build
 * in dist-e2e served by `vite preview` (COOP/COEP from vite.config.ts), Debian's Chromium, and the
 * tests' routed network, so the default manifest's Hugging Face URLs load the committed test model
 * and nothing leaves the machine.
 */
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { build, preview, type PreviewServer } from 'vite';
import type { PipelineStats } from '../../src/shared/pipeline.ts';
import { startModelHost, type Network } from '../../tests/e2e/harness.ts';
import { CHROMIUM_PATH, chromiumArgs } from '../chromium.ts';

/** Where playwright.config.ts builds the e2e app; the scripts share it. */
export const E2E_OUT_DIR = 'dist-e2e';

/** Options for `serveApp`. */
export interface ServeAppOptions {
  /** Build dist-e2e first; false reuses the last build (quicker when iterating on a script). */
  build: boolean;
}

/** Defaults for `ServeAppOptions`. */
export const SERVE_APP_DEFAULTS: ServeAppOptions = { build: true };

/** Options for `AppServer.open`. */
export interface OpenOptions {
  /** Launch Chromium with WebGPU; false gives the WASM fallback path. */
  webgpu: boolean;
  viewport: { width: number; height: number };
}

/** Defaults for `OpenOptions` (the viewport playwright.config.ts uses). */
export const OPEN_DEFAULTS: OpenOptions = { webgpu: true, viewport: { width: 1280, height: 860 } };

/** A browser page on the served app, with its network routed to the test model host. */
export interface AppPage {
  browser: Browser;
  context: BrowserContext;
  page: Page;
}

/** The served app; `close` ends every browser it opened, the model host and the preview server. */
export interface AppServer {
  url: string;
  network: Network;
  /** Launches a Chromium with a routed context whose `baseURL` is the app (for the harness's openApp). */
  open(options?: Partial<OpenOptions>): Promise<AppPage>;
  close(): Promise<void>;
}

/**
 * Builds (unless told not to) and serves the e2e app on a free loopback port.
 *
 * @example
 * const app = await serveApp();
 * try {
 *   const { page } = await app.open({ webgpu: false });
 *   await openApp(page);
 * } finally {
 *   await app.close();
 * }
 */
export async function serveApp(options: Partial<ServeAppOptions> = {}): Promise<AppServer> {
  const { build: rebuild } = { ...SERVE_APP_DEFAULTS, ...options };
  if (rebuild) {
    await build({ mode: 'e2e', logLevel: 'warn', build: { outDir: E2E_OUT_DIR, emptyOutDir: true } });
  }
  const server: PreviewServer = await preview({
    logLevel: 'warn',
    build: { outDir: E2E_OUT_DIR },
    preview: { port: 0, host: '127.0.0.1', strictPort: true, open: false },
  });
  const address = server.httpServer.address() as AddressInfo;
  const url = `http://127.0.0.1:${address.port}`;
  const host = await startModelHost();
  const browsers: Browser[] = [];

  return {
    url,
    network: host.network,
    async open(openOptions = {}) {
      const { webgpu, viewport } = { ...OPEN_DEFAULTS, ...openOptions };
      const args = chromiumArgs({ webgpu });
      const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args });
      browsers.push(browser);
      const context = await browser.newContext({ baseURL: url, viewport, acceptDownloads: true });
      await host.network.route(context);
      return { browser, context, page: await context.newPage() };
    },
    async close() {
      await Promise.all(browsers.map((b) => b.close()));
      host.close();
      await server.close();
      const foreign = host.network.foreign;
      if (foreign.length) console.warn(`Blocked requests off the machine: ${foreign.join(', ')}`);
    },
  };
}

/** The slice of the e2e build's `globalThis.__cadlift` (an AppState) that scripts read. */
export interface AppHandle {
  phase: string;
  error: { code: string; message: string } | null;
  result: { stats: PipelineStats } | null;
}

/**
 * Waits for a page's first job to finish and returns its stats; throws the app's error if it fails.
 * Not the harness's waitForResult: outside the test runner its expectations time out after
 * Playwright's default 5 s, and a job on SwiftShader or the CPU takes far longer.
 */
export async function waitForJob(page: Page, timeoutMs = 15 * 60_000): Promise<PipelineStats> {
  await page.waitForFunction(
    () => {
      const app = (globalThis as unknown as { __cadlift: AppHandle }).__cadlift;
      return app.result !== null || app.phase === 'error';
    },
    undefined,
    { timeout: timeoutMs, polling: 50 },
  );
  return page.evaluate(() => {
    const { result, error } = (globalThis as unknown as { __cadlift: AppHandle }).__cadlift;
    if (!result) throw new Error(`The job failed: ${error?.code}: ${error?.message}`);
    // $state.raw holds a plain object; the JSON round trip drops anything that would not clone.
    return JSON.parse(JSON.stringify(result.stats)) as PipelineStats;
  });
}
