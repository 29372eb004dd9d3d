import { expectedRadius } from '../../scripts/make-test-models';
import { srgbToLinear } from '../../src/lib/colour';
import { addPhoto, expect, generate, makePhoto, openApp, setSlider, test, waitForResult } from './harness';
import { downloadGlb, modelInputBrightness } from './glb';

/** One marching-cubes cell at resolution 64 over the ±0.87 box. */
const CELL_64 = 1.74 / 63;

test('photo → progress → mesh in the viewer → a valid GLB of the expected size; the next visit loads from cache', async ({ page, network }) => {
  await openApp(page);
  await expect(page.getByTestId('backend')).toContainText('WebGPU');
  await addPhoto(page, await makePhoto(page, { colour: '#e8d070' }));
  await expect(page.getByTestId('model-input')).toBeVisible();
  await expect(page.getByTestId('alpha-warning')).toHaveCount(0);
  await setSlider(page, 'resolution', 64);
  const { brightness, rgb } = await modelInputBrightness(page);

  await page.getByTestId('generate').click();
  await expect(page.getByTestId('consent')).toContainText('TripoSR');
  await page.getByTestId('consent-accept').click();
  await expect(page.locator('[data-stage=encoder][data-state=done]')).toBeVisible({ timeout: 200_000 });
  const result = await waitForResult(page);
  expect(result.backend).toContain('WebGPU');
  await expect(page.getByTestId('stat-triplane')).toHaveText('stayed on GPU');
  expect(result.triangles).toBeGreaterThan(1000);
  await expect(page.getByTestId('viewer')).toHaveAttribute('data-vertices', String(result.vertices));
  expect(network.modelRequests.some((url) => url.includes('triplane_q8.onnx.data'))).toBe(true);

  const glb = await downloadGlb(page);
  expect(glb.errors).toBe(0);
  expect(glb.vertices).toBe(result.vertices);
  const radius = expectedRadius(brightness);
  for (let axis = 0; axis < 3; axis++) {
    expect(Math.abs(glb.max[axis]! - radius)).toBeLessThan(CELL_64);
    expect(Math.abs(-glb.min[axis]! - radius)).toBeLessThan(CELL_64);
  }
  // COLOR_0 is linear: the test model paints the sphere in the input's mean sRGB colour.
  for (let k = 0; k < 3; k++) expect(glb.meanColour[k]!).toBeCloseTo(srgbToLinear(rgb[k]!), 2);

  // Second visit: the model comes from Cache Storage, with no request for any model file.
  network.modelRequests.length = 0;
  await page.reload();
  await expect(page.getByTestId('backend')).toContainText('WebGPU');
  await addPhoto(page, await makePhoto(page, { colour: '#000000' }));
  await setSlider(page, 'resolution', 64);
  const dark = await modelInputBrightness(page);
  await generate(page, { accept: false });
  await waitForResult(page);
  await expect(page.locator('[data-stage=download]')).toContainText('loaded from cache');
  expect(network.modelRequests).toEqual([]);
  const darkGlb = await downloadGlb(page);
  const darkRadius = expectedRadius(dark.brightness);
  expect(radius - darkRadius).toBeGreaterThan(3 * CELL_64);
  expect(Math.abs(darkGlb.max[1]! - darkRadius)).toBeLessThan(CELL_64);
});
