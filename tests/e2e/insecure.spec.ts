import { readdirSync, readFileSync } from 'node:fs';
import { CHROMIUM_PATH, E2E_PORT, chromiumArgs } from '../../scripts/chromium';
import { addPhoto, expect, generate, makePhoto, openApp, setSlider, test, waitForResult } from './harness';
import { downloadGlb } from './glb';

// A page served over plain http to a name that is not loopback is not a secure context: it has no
// WebGPU interfaces (no navigator.gpu, no GPUBufferUsage), no Cache Storage, no crypto.subtle and no
// cross-origin isolation, in the page and in its workers. Chromium's host-resolver rule maps the
// name to this machine, so the test gets exactly what a visitor on a LAN address (or a browser
// without WebGPU) gets; `--disable-blink-features=WebGPU` would leave the interfaces defined.
test.use({
  baseURL: `http://cadlift.test:${E2E_PORT}`,
  launchOptions: { executablePath: CHROMIUM_PATH, args: [...chromiumArgs(), '--host-resolver-rules=MAP cadlift.test 127.0.0.1'] },
});

test('an insecure page with no WebGPU interfaces still gives a mesh on the CPU path, with its notices', async ({ page }) => {
  await openApp(page);
  const realm = await page.evaluate(() => ({
    secure: isSecureContext,
    gpu: 'gpu' in navigator,
    usage: typeof (globalThis as { GPUBufferUsage?: unknown }).GPUBufferUsage,
    caches: typeof (globalThis as { caches?: unknown }).caches,
    isolated: crossOriginIsolated,
  }));
  expect(realm).toEqual({ secure: false, gpu: false, usage: 'undefined', caches: 'undefined', isolated: false });

  await expect(page.getByTestId('backend')).toContainText('CPU');
  await expect(page.getByTestId('cpu-notice')).toContainText('Running on CPU, slower');
  // Without Cache Storage the model is kept in IndexedDB; the panel says where it is kept.
  await expect(page.getByTestId('store-note')).toContainText('IndexedDB');
  await addPhoto(page, await makePhoto(page, { colour: '#d08040' }));
  await setSlider(page, 'resolution', 40);
  await generate(page);
  const result = await waitForResult(page);
  expect(result.backend).toContain('CPU');
  expect(result.triangles).toBeGreaterThan(200);
  const glb = await downloadGlb(page);
  expect(glb.errors).toBe(0);
  await expect(page.getByTestId('error')).toHaveCount(0);
});

test('Cancel on the CPU path stops between batches and keeps the worker and its loaded model', async ({ page }) => {
  const cpuWorkers: string[] = [];
  page.on('worker', (worker) => {
    if (worker.url().includes('fallback.worker')) cpuWorkers.push(worker.url());
  });
  await openApp(page);
  await addPhoto(page, await makePhoto(page, { colour: '#60a0d0' }));
  await setSlider(page, 'resolution', 128);
  await generate(page);
  await expect(page.locator('[data-stage=decode][data-state=running]')).toBeVisible();
  await page.getByTestId('cancel').click();
  await expect(page.getByTestId('generate')).toBeVisible();
  await page.waitForTimeout(3000);
  await expect(page.getByTestId('progress')).toHaveCount(0);
  await setSlider(page, 'resolution', 40);
  await generate(page, { accept: false });
  const result = await waitForResult(page);
  expect(result.triangles).toBeGreaterThan(200);
  // One CPU worker for the whole visit: Cancel did not terminate it (which would reload the model).
  expect(cpuWorkers).toHaveLength(1);
});

test('the CPU worker bundle carries no WGSL mesher', () => {
  // The fallback worker must load where WebGPU does not exist: it may not even contain the kernels.
  const assets = 'dist-e2e/assets/';
  const fallback = readdirSync(assets).filter((name) => /^fallback\.worker-.*\.js$/.test(name));
  expect(fallback).toHaveLength(1);
  const pipeline = readdirSync(assets).filter((name) => /^pipeline\.worker-.*\.js$/.test(name));
  expect(pipeline).toHaveLength(1);
  // A marker of the marching-cubes classify kernel: present in the GPU worker, absent from the CPU one.
  const marker = '@compute';
  expect(readFileSync(assets + pipeline[0], 'utf8').includes(marker), 'the GPU worker has the kernels').toBe(true);
  expect(readFileSync(assets + fallback[0], 'utf8').includes(marker), 'the CPU worker has no kernels').toBe(false);
});
