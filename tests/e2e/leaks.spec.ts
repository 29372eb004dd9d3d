import { addPhoto, expect, generate, makePhoto, openApp, setSlider, test, waitForResult } from './harness';

interface Census {
  live: number;
  mesher: number;
}

test('five generations in a row leave no GPU buffer behind and do not grow three.js memory', async ({ page }) => {
  await openApp(page);
  // Buffers are counted, not shapes: a 40³ grid streams through the same walk and marching stages
  // (and, like 64³, one slab) in a fraction of the decoding time.
  await setSlider(page, 'resolution', 40);
  const censuses: Census[] = [];
  const geometries: string[] = [];
  // Five photos: the same one again would come from the history's result cache, not the GPU.
  const colours = ['#60b0b0', '#b06060', '#6060b0', '#b0b060', '#60b060'];
  for (let run = 0; run < 5; run++) {
    await addPhoto(page, await makePhoto(page, { colour: colours[run]! }));
    await generate(page, { accept: run === 0 });
    await waitForResult(page);
    censuses.push(
      await page.evaluate(() => (globalThis as unknown as { __cadlift: { gpuBufferCensus(): Promise<Census> } }).__cadlift.gpuBufferCensus()),
    );
    geometries.push((await page.getByTestId('viewer').getAttribute('data-geometries')) ?? '');
  }
  // The mesher frees every buffer it made. ORT keeps its session's buffers in a pool, which takes one
  // more buffer on the second run (seen: 36, then 37) and must not grow after that.
  expect(censuses.map((c) => c.mesher)).toEqual([0, 0, 0, 0, 0]);
  expect(new Set(censuses.slice(1).map((c) => c.live)).size).toBe(1);
  expect(censuses[4]!.live - censuses[0]!.live).toBeLessThanOrEqual(1);
  expect(Number(geometries[0])).toBeGreaterThan(0);
  expect(new Set(geometries).size).toBe(1);
});
