import { bodyBounds, expectedColour, type TestBody } from '../../scripts/lib/test-body';
import { srgbToLinear } from '../../src/lib/colour';
import { modelInputBody } from './body';
import { addPhoto, expect, generate, makePhoto, openApp, setSlider, test, waitForResult } from './harness';
import { downloadGlb, type GlbSummary } from './glb';

/** One marching-cubes cell at resolution 64 over the ±0.87 box. */
const CELL_64 = 1.74 / 63;

/** The GLB's bounds are the test model's body for the model input, in glTF's frame (y, z, x). */
function expectBodyBounds(glb: GlbSummary, body: TestBody): void {
  const { min, max } = bodyBounds(body);
  const clip = (v: number) => Math.min(0.87, Math.max(-0.87, v));
  [1, 2, 0].forEach((from, axis) => {
    expect(Math.abs(glb.min[axis]! - clip(min[from]!)), `min ${axis}`).toBeLessThan(CELL_64);
    expect(Math.abs(glb.max[axis]! - clip(max[from]!)), `max ${axis}`).toBeLessThan(CELL_64);
  });
}

test('photo → progress → mesh in the viewer → a valid GLB of the expected size; the next visit loads from cache', async ({ page, network }) => {
  await openApp(page);
  await expect(page.getByTestId('backend')).toContainText('WebGPU');
  await addPhoto(page, await makePhoto(page, { colour: '#e8d070' }));
  await expect(page.getByTestId('model-input')).toBeVisible();
  await expect(page.getByTestId('alpha-warning')).toHaveCount(0);
  await setSlider(page, 'resolution', 64);
  const body = await modelInputBody(page);

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
  expectBodyBounds(glb, body);
  // COLOR_0 is linear: the test model paints the body in the foreground's mean sRGB colour.
  const colour = expectedColour(body);
  for (let k = 0; k < 3; k++) expect(glb.meanColour[k]!).toBeCloseTo(srgbToLinear(colour[k]!), 2);

  // Second visit: the model comes from Cache Storage, with no request for any model file.
  network.modelRequests.length = 0;
  await page.reload();
  await expect(page.getByTestId('backend')).toContainText('WebGPU');
  // Another photo: a dark object of another shape (taller than wide).
  await addPhoto(page, await makePhoto(page, { colour: '#000000', width: 200, height: 300 }));
  await setSlider(page, 'resolution', 64);
  const dark = await modelInputBody(page);
  await generate(page, { accept: false });
  await waitForResult(page);
  await expect(page.locator('[data-stage=download]')).toContainText('loaded from cache');
  expect(network.modelRequests).toEqual([]);
  const darkGlb = await downloadGlb(page);
  expectBodyBounds(darkGlb, dark);
  // The two shapes differ by more than the tolerance, so the result followed the new photo.
  const height = (g: GlbSummary) => g.max[1]! - g.min[1]!;
  const width = (g: GlbSummary) => g.max[0]! - g.min[0]!;
  expect(height(darkGlb) / width(darkGlb) - height(glb) / width(glb)).toBeGreaterThan(0.3);
  for (let k = 0; k < 3; k++) expect(darkGlb.meanColour[k]!).toBeCloseTo(srgbToLinear(0.01), 2);

  // The same photo with "Every point": the identical mesh, every lattice point evaluated, and the
  // stats say which search ran and with which bound. (The test model's 10-layer decoder gets the
  // measured bound, which at 64³ leaves few blocks to skip; savings are asserted in thin-features.)
  // Past half the blocks refined, the GPU walk decodes every point instead of gathering blocks.
  const adaptive = await page.getByTestId('stat-meshing').textContent();
  const search = adaptive!.match(/^adaptive \((certified|measured) bound, (\d+(?:\.\d)?) % of blocks refined\), (\d+(?:\.\d)?) % of 64³$/);
  expect(search, adaptive!).not.toBeNull();
  const [refined, evaluated] = [parseFloat(search![2]!), parseFloat(search![3]!)];
  expect(evaluated).toBeLessThanOrEqual(100);
  if (refined > 50) expect(evaluated).toBe(100);
  const group = page.getByTestId('meshing');
  await group.getByRole('radio', { name: 'Adaptive' }).focus();
  await page.keyboard.press('ArrowRight');
  await expect(group.getByRole('radio', { name: 'Every point' })).toHaveAttribute('aria-checked', 'true');
  await generate(page, { accept: false });
  // Decoding goes in bounded submits and reports how far it is.
  await expect(page.locator('[data-stage=decode]')).toContainText(/\d+ %/, { timeout: 60_000 });
  await waitForResult(page);
  await expect(page.getByTestId('stat-meshing')).toHaveText('every point, 100 % of 64³');
  await expect(page.getByTestId('stat-mesher-memory')).toContainText(/^\d+\.\d MiB peak$/);
  const denseGlb = await downloadGlb(page);
  expect(denseGlb.vertices).toBe(darkGlb.vertices);
  expect(denseGlb.triangles).toBe(darkGlb.triangles);
  expect(denseGlb.meanColour).toEqual(darkGlb.meanColour);
  expect(denseGlb.min).toEqual(darkGlb.min);
  expect(denseGlb.max).toEqual(darkGlb.max);
});
