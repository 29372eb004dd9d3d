import type { Page } from '@playwright/test';
import { seriousViolations } from './axe';
import { addPhoto, expect, generate, makePhoto, openApp, setSlider, test, waitForPreview, waitForResult } from './harness';

const SEGMENTER = '?segmenter=/test-models/segmenter-test.manifest.json';

/** A photo as people take them: no transparency, the test segmenter's blue backdrop, an orange disc. */
function photoOnBackdrop(page: Page): Promise<Buffer> {
  return makePhoto(page, { colour: 'rgb(240 140 40)', background: 'rgb(51 102 204)', width: 360, height: 240 });
}

/** Pixels of the 512² model input, for comparing states. */
async function modelInput(page: Page): Promise<number[]> {
  await waitForPreview(page);
  return page.getByTestId('model-input').evaluate((c: HTMLCanvasElement) => [...c.getContext('2d')!.getImageData(0, 0, 512, 512).data]);
}

/** Share of the model input that is the blue backdrop. */
function backdropShare(pixels: number[]): number {
  let blue = 0;
  for (let i = 0; i < pixels.length; i += 4) if (pixels[i]! < 90 && pixels[i + 2]! > 170) blue++;
  return blue / (pixels.length / 4);
}

test('a photo without alpha: on-device background removal → framed cut-out → mesh; the brush edits the mask and undo restores it', async ({ page, network }) => {
  await openApp(page, SEGMENTER);
  await addPhoto(page, await photoOnBackdrop(page), 'backdrop.png');
  const before = await modelInput(page);
  expect(backdropShare(before)).toBeGreaterThan(0.3); // the backdrop would become geometry
  await expect(page.getByTestId('alpha-warning')).toBeVisible();
  await page.getByTestId('remove-background').click();
  await expect(page.getByTestId('background')).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
  await expect(page.getByTestId('removal-done')).toContainText('Background removed');
  await expect.poll(async () => backdropShare(await modelInput(page))).toBeLessThan(0.01); // only the soft rim of the disc is left
  expect(network.modelRequests.some((u) => u.includes('segmenter-test/onnx/model.onnx'))).toBe(true);
  const cutout = await modelInput(page);
  // The disc now fills the frame at the foreground ratio: its centre is orange, the corners grey.
  const at = (x: number, y: number): number[] => cutout.slice((y * 512 + x) * 4, (y * 512 + x) * 4 + 3);
  expect(at(256, 256)[0]).toBeGreaterThan(200);
  expect(at(5, 5)).toEqual([128, 128, 128]);

  expect(await seriousViolations(page), 'background removal panel').toEqual([]);

  // Erase a band through the middle, then undo.
  await page.getByTestId('brush-erase').click();
  const box = (await page.getByTestId('photo-view').boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.62, box.y + box.height * 0.45, { steps: 8 });
  await page.mouse.up();
  await expect(page.getByTestId('photo-view')).toHaveAttribute('data-strokes', '1');
  await expect.poll(async () => (await modelInput(page)).join(',') !== cutout.join(',')).toBe(true);
  await page.getByTestId('undo').click();
  await expect(page.getByTestId('photo-view')).toHaveAttribute('data-strokes', '0');
  await expect.poll(async () => (await modelInput(page)).join(',') === cutout.join(',')).toBe(true);

  // The cut-out is what this test checks; the mesh is only counted, so 40³ is enough.
  await setSlider(page, 'resolution', 40);
  await generate(page);
  const result = await waitForResult(page);
  expect(result.triangles).toBeGreaterThan(1000);
});

test('a PNG with alpha skips removal; Off keeps the background with its warning', async ({ page, network }) => {
  await openApp(page, SEGMENTER);
  await addPhoto(page, await makePhoto(page, { colour: '#20a060' }));
  await waitForPreview(page);
  await expect(page.getByTestId('background')).toHaveAttribute('data-status', 'idle');
  await expect(page.getByTestId('alpha-warning')).toHaveCount(0);
  expect(network.modelRequests.some((u) => u.includes('segmenter-test/'))).toBe(false);
  await page.getByRole('radio', { name: 'Off' }).click();
  await addPhoto(page, await photoOnBackdrop(page), 'backdrop.png');
  await expect(page.getByTestId('alpha-warning')).toContainText('background will become geometry');
});
