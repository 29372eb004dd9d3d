import { chromium } from '@playwright/test';
import { CHROMIUM_PATH, chromiumArgs } from '../../scripts/chromium';
import { addPhoto, expect, generate, makePhoto, openApp, setSlider, test, waitForResult } from './harness';
import { downloadGlb } from './glb';

const CELL_64 = 1.74 / 63;

test('without WebGPU the WASM path runs with a visible notice and gives the same shape as the GPU path', async ({ page, network }) => {
  await openApp(page);
  await addPhoto(page, await makePhoto(page, { colour: '#d08040' }));
  await setSlider(page, 'resolution', 64);
  await generate(page);
  const gpu = await waitForResult(page);
  const gpuGlb = await downloadGlb(page);
  expect(gpu.backend).toContain('WebGPU');

  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: chromiumArgs({ webgpu: false }) });
  try {
    const context = await browser.newContext({ baseURL: test.info().project.use.baseURL, acceptDownloads: true });
    await network.route(context);
    const cpuPage = await context.newPage();
    await openApp(cpuPage);
    await expect(cpuPage.getByTestId('backend')).toContainText('CPU');
    await expect(cpuPage.getByTestId('cpu-notice')).toContainText('Running on CPU, slower');
    await expect(cpuPage.getByTestId('resolution-value')).toHaveText('128');
    await addPhoto(cpuPage, await makePhoto(cpuPage, { colour: '#d08040' }));
    await setSlider(cpuPage, 'resolution', 64);
    await generate(cpuPage);
    const cpu = await waitForResult(cpuPage);
    expect(cpu.backend).toContain('CPU');
    const cpuGlb = await downloadGlb(cpuPage);
    expect(cpuGlb.errors).toBe(0);
    expect(Math.abs(cpu.vertices - gpu.vertices) / gpu.vertices).toBeLessThan(0.01);
    for (let axis = 0; axis < 3; axis++) {
      expect(Math.abs(cpuGlb.min[axis]! - gpuGlb.min[axis]!)).toBeLessThan(CELL_64);
      expect(Math.abs(cpuGlb.max[axis]! - gpuGlb.max[axis]!)).toBeLessThan(CELL_64);
    }
  } finally {
    await browser.close();
  }
});
