import { expectedRadius } from '../../scripts/make-test-models';
import { addPhoto, expect, generate, makePhoto, openApp, setSlider, test, waitForResult } from './harness';
import { downloadGlb, modelInputBrightness } from './glb';

const CELL_64 = 1.74 / 63;

for (const variant of ['matmul', 'folded'] as const) {
  test(`a self-hosted manifest (?model=) with the ${variant} decoder layout gives the documented sphere`, async ({ page, network }) => {
    await openApp(page, `?model=/test-models/test-${variant}.manifest.json`);
    await addPhoto(page, await makePhoto(page, { colour: '#f0f0f0' }));
    await setSlider(page, 'resolution', 64);
    const { brightness } = await modelInputBrightness(page);
    await generate(page);
    await waitForResult(page);
    const glb = await downloadGlb(page);
    expect(glb.errors).toBe(0);
    for (let axis = 0; axis < 3; axis++) expect(Math.abs(glb.max[axis]! - expectedRadius(brightness))).toBeLessThan(CELL_64);
    expect(network.modelRequests.some((url) => url.includes(`test-${variant}.manifest.json`))).toBe(true);
    expect(network.modelRequests.some((url) => url.includes('huggingface.co'))).toBe(false);
  });
}
