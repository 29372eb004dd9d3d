import { bodyBounds } from '../../scripts/lib/test-body';
import { modelInputBody } from './body';
import { addPhoto, expect, generate, makePhoto, openApp, setSlider, test, waitForResult } from './harness';
import { downloadGlb } from './glb';

const CELL_64 = 1.74 / 63;

for (const variant of ['matmul', 'folded'] as const) {
  test(`a self-hosted manifest (?model=) with the ${variant} decoder layout gives the documented body`, async ({ page, network }) => {
    await openApp(page, `?model=/test-models/test-${variant}.manifest.json`);
    await addPhoto(page, await makePhoto(page, { colour: '#f0f0f0' }));
    await setSlider(page, 'resolution', 64);
    const body = await modelInputBody(page);
    await generate(page);
    await waitForResult(page);
    const glb = await downloadGlb(page);
    expect(glb.errors).toBe(0);
    // glTF (X, Y, Z) = TripoSR (y, z, x); the front (+x) may reach the ±0.87 box.
    const { min, max } = bodyBounds(body);
    [1, 2, 0].forEach((from, axis) => {
      expect(Math.abs(glb.min[axis]! - Math.max(-0.87, min[from]!)), `min ${axis}`).toBeLessThan(CELL_64);
      expect(Math.abs(glb.max[axis]! - Math.min(0.87, max[from]!)), `max ${axis}`).toBeLessThan(CELL_64);
    });
    expect(network.modelRequests.some((url) => url.includes(`test-${variant}.manifest.json`))).toBe(true);
    expect(network.modelRequests.some((url) => url.includes('huggingface.co'))).toBe(false);
  });
}
