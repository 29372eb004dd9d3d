import { addPhoto, expect, generate, makePhoto, openApp, setSlider, test, waitForPreview, waitForResult } from './harness';

test('a corrupt image and an unsupported format each give their message and keep the photo already loaded', async ({ page }) => {
  await openApp(page);
  await addPhoto(page, await makePhoto(page, { colour: '#c04040' }));
  await waitForPreview(page);
  await addPhoto(page, Buffer.from('this is not an image, just text with a .png name'), 'broken.png');
  await expect(page.getByTestId('error')).toHaveAttribute('data-code', 'image-unreadable');
  await expect(page.getByTestId('error')).toContainText('could not be read');
  // ISO-BMFF header of a HEIC photo: sniffed before decoding, as most browsers cannot open it.
  const heic = Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypheic'), Buffer.alloc(64)]);
  await addPhoto(page, heic, 'IMG_0001.HEIC', 'image/heic');
  await expect(page.getByTestId('error')).toHaveAttribute('data-code', 'image-unsupported');
  await expect(page.getByTestId('error')).toContainText(/JPEG|PNG/);
  await expect(page.getByRole('figure', { name: /photo\.png/ })).toBeVisible();
  await expect(page.getByTestId('generate')).toBeEnabled();
});

test('a truncated model file gives its message, and Generate then retries and succeeds', async ({ page, network }) => {
  const data = 'triplane_q8.onnx.data';
  const { readFileSync } = await import('node:fs');
  const full = readFileSync(`tests/fixtures/models/triposr-test/${data}`);
  network.override.set(data, new Uint8Array(full.subarray(0, Math.floor(full.length / 3))));
  await openApp(page, '?model=/test-models/test-gemm.manifest.json');
  await addPhoto(page, await makePhoto(page, { colour: '#40a040' }));
  // The file fails before meshing; the retry's mesh is counted, not measured, so 40³ is enough.
  await setSlider(page, 'resolution', 40);
  await generate(page);
  await expect(page.getByTestId('error')).toHaveAttribute('data-code', 'model-truncated');
  await expect(page.getByTestId('error')).toContainText(data);
  network.override.clear();
  await generate(page);
  const result = await waitForResult(page);
  expect(result.triangles).toBeGreaterThan(1000);
  await expect(page.getByTestId('error')).toHaveCount(0);
});

for (const fault of ['device-lost', 'oom'] as const) {
  test(`fault hook ${fault}: a clear notice, a retry at a lower resolution on the kept triplane, and the next job works`, async ({ page }) => {
    await openApp(page, `?fault=${fault}`);
    await addPhoto(page, await makePhoto(page, { colour: '#4060c0' }));
    // 48³ halves to the 32³ floor, as 64³ would; no shape is measured here.
    await setSlider(page, 'resolution', 48);
    await generate(page);
    await expect(page.getByTestId('notice')).toContainText(fault === 'oom' ? 'ran out of memory' : 'GPU was lost');
    await expect(page.getByTestId('notice')).toContainText('resolution 32');
    const retried = await waitForResult(page);
    expect(retried.triangles).toBeGreaterThan(100);
    await expect(page.getByTestId('stats')).toContainText('retried from 48');
    await expect(page.getByTestId('stat-triplane')).toHaveText('CPU copy');
    // The fault fires once; the next job runs at the chosen resolution (on a new session after a loss).
    await generate(page, { accept: false });
    const next = await waitForResult(page);
    expect(next.vertices).toBeGreaterThan(retried.vertices);
    await expect(page.getByTestId('stats')).not.toContainText('retried');
  });
}

test('Cancel during the download and during meshing: no progress after it, the pipeline idle, the next Generate succeeds', async ({ page, network }) => {
  await openApp(page);
  await addPhoto(page, await makePhoto(page, { colour: '#a0a0a0' }));
  // 48³ still decodes for seconds on SwiftShader, long enough to cancel in the middle.
  await setSlider(page, 'resolution', 48);
  network.delayMs = 4000;
  await generate(page);
  await expect(page.locator('[data-stage=download][data-state=running]')).toBeVisible();
  await page.getByTestId('cancel').click();
  await expect(page.getByTestId('generate')).toBeVisible();
  await expect(page.getByTestId('progress')).toHaveCount(0);
  await page.waitForTimeout(5000);
  await expect(page.getByTestId('progress')).toHaveCount(0);
  await expect(page.getByTestId('error')).toHaveCount(0);

  network.delayMs = 0;
  await generate(page);
  await waitForResult(page);

  // Another resolution: the same settings again would come from the history's result cache.
  await setSlider(page, 'resolution', 40);
  await generate(page, { accept: false });
  await expect(page.locator('[data-stage=decode][data-state=running]')).toBeVisible();
  await page.getByTestId('cancel').click();
  await expect(page.getByTestId('generate')).toBeVisible();
  await page.waitForTimeout(3000);
  await expect(page.getByTestId('progress')).toHaveCount(0);
  const before = network.modelRequests.length;
  await generate(page, { accept: false });
  const result = await waitForResult(page);
  expect(result.triangles).toBeGreaterThan(1000);
  // The session was kept: nothing was fetched again.
  expect(network.modelRequests.length).toBe(before);
});

for (const fault of ['encoder-validation', 'encoder-zero'] as const) {
  test(`fault hook ${fault}: a GPU failure while the model runs moves the job to the CPU path, keeping the photo and settings`, async ({ page }) => {
    await openApp(page, `?fault=${fault}`);
    await addPhoto(page, await makePhoto(page, { colour: '#4060c0' }));
    await setSlider(page, 'resolution', 40);
    await generate(page);
    const result = await waitForResult(page);
    expect(result.backend).toContain('CPU');
    expect(result.triangles).toBeGreaterThan(200);
    await expect(page.getByTestId('notice')).toContainText(fault === 'encoder-zero' ? 'unusable result' : 'refused');
    await expect(page.getByTestId('cpu-notice')).toBeVisible();
    await expect(page.getByRole('figure', { name: /photo\.png/ })).toBeVisible();
    await expect(page.getByTestId('resolution-value')).toHaveText('40');
    await expect(page.getByTestId('error')).toHaveCount(0);
  });
}
