import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addPhoto, expect, generate, makePhoto, openApp, setSlider, test, waitForResult } from './harness';
import { serveStatic } from './static-server';

// The only specs that let the app register its service worker (playwright.config.ts blocks it).
test.use({ serviceWorkers: 'allow' });

test('installable: a manifest with generated icons, and a service worker that precaches the shell and the WASM runtime but no model', async ({ page, request }) => {
  await openApp(page);
  const manifestHref = await page.locator('link[rel=manifest]').getAttribute('href');
  const manifest = await (await request.get(manifestHref!)).json();
  expect(manifest).toMatchObject({ name: expect.stringContaining('CADLift'), display: 'standalone', start_url: '/' });
  for (const icon of manifest.icons as { src: string; sizes: string; purpose: string }[]) {
    const png = await (await request.get(icon.src)).body();
    // PNG header: width and height at bytes 16 and 20.
    const side = Number(icon.sizes.split('x')[0]);
    expect([png.readUInt32BE(16), png.readUInt32BE(20)], icon.src).toEqual([side, side]);
  }
  expect(manifest.icons.some((i: { purpose: string }) => i.purpose === 'maskable')).toBe(true);

  await page.evaluate(() => navigator.serviceWorker.ready);
  const cached = await page.evaluate(async () => {
    const urls: string[] = [];
    for (const name of await caches.keys()) for (const r of await (await caches.open(name)).keys()) urls.push(new URL(r.url).pathname);
    return urls;
  });
  expect(cached).toContain('/index.html');
  expect(cached.some((u) => /\/assets\/ort-wasm-simd-threaded.*\.wasm$/.test(u)), 'the ONNX Runtime wasm is precached').toBe(true);
  expect(cached.some((u) => u.includes('/models/') || u.endsWith('.onnx') || u.endsWith('.onnx.data')), 'no model file in the precache').toBe(false);
  expect(cached).not.toContain('/embed.html');

  // Under the service worker the page is still cross-origin isolated (WASM threads).
  await page.reload();
  expect(await page.evaluate(() => [Boolean(navigator.serviceWorker.controller), crossOriginIsolated])).toEqual([true, true]);
});

test('the embed widget registers no service worker and keeps no history', async ({ page }) => {
  await page.goto('/embed.html');
  await expect(page.getByTestId('embed')).toBeVisible();
  await page.waitForTimeout(1000);
  const state = await page.evaluate(async () => ({
    workers: (await navigator.serviceWorker.getRegistrations()).length,
    databases: (await indexedDB.databases()).map((d) => d.name),
  }));
  expect(state.workers).toBe(0);
  expect(state.databases).not.toContain('cadlift-history');
});

test('offline: after one generation the app starts, says it is offline, generates again from another photo, and the history lists both', async ({ page, context }) => {
  await openApp(page);
  await page.evaluate(() => navigator.serviceWorker.ready);
  await addPhoto(page, await makePhoto(page, { colour: '#3080d0' }));
  await setSlider(page, 'resolution', 32);
  await generate(page);
  const first = await waitForResult(page);
  expect(first.triangles).toBeGreaterThan(100);

  await context.setOffline(true);
  await page.reload();
  await expect(page.getByTestId('offline')).toBeVisible();
  await expect(page.getByTestId('backend')).not.toHaveText('Starting…');
  await expect(page.getByTestId('app-version')).toContainText('works offline');
  // Another photo, taller than wide, so the result must come from a new run.
  await addPhoto(page, await makePhoto(page, { colour: '#d04030', width: 200, height: 320 }));
  await setSlider(page, 'resolution', 32);
  await generate(page, { accept: false });
  const second = await waitForResult(page);
  expect(second.triangles).toBeGreaterThan(100);
  await expect(page.getByTestId('error')).toHaveCount(0);
  // Both generations are in the history, which survived the offline reload.
  await expect(page.getByTestId('history-entry')).toHaveCount(2);

  // The Text tab says it needs the network instead of failing.
  await page.getByTestId('tab-text').click();
  await expect(page.getByTestId('text-offline')).toBeVisible();
  await context.setOffline(false);
  await expect(page.getByTestId('offline')).toHaveCount(0);
});

test('a new version waits for the visitor: an update prompt, and Update switches to it', async ({ page }) => {
  // Two builds: the one the tests run (dist-e2e), and a newer one that differs only in its label.
  const next = mkdtempSync(join(tmpdir(), 'cadlift-next-'));
  execFileSync('npx', ['vite', 'build', '--mode', 'e2e', '--outDir', next, '--emptyOutDir', '--logLevel', 'error'], {
    env: { ...process.env, VITE_BUILD_LABEL: 'next' },
    stdio: 'inherit',
    timeout: 240_000,
  });
  const site = await serveStatic('dist-e2e');
  try {
    await page.goto(site.url);
    await expect(page.getByTestId('backend')).not.toHaveText('Starting…');
    await page.evaluate(() => navigator.serviceWorker.ready);
    // A returning visitor: the page is now served (and controlled) by the service worker.
    await page.reload();
    await expect(page.getByTestId('app-version')).toContainText('works offline');
    expect(await page.evaluate(() => Boolean(navigator.serviceWorker.controller))).toBe(true);
    await expect(page.getByTestId('app-version')).not.toContainText('(next)');

    site.root = next;
    // What the app also does hourly, and the browser on navigations: ask for a new service worker.
    await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())!.update());
    await expect(page.getByTestId('update-ready')).toContainText('A new version of CADLift is ready');
    // Nothing switched under the visitor: the page still runs the old build until they say so.
    await expect(page.getByTestId('app-version')).not.toContainText('(next)');
    await page.getByTestId('update-app').click();
    await expect(page.getByTestId('app-version')).toContainText('(next)');
    await expect(page.getByTestId('update-ready')).toHaveCount(0);
  } finally {
    await site.close();
    rmSync(next, { recursive: true, force: true });
  }
});
