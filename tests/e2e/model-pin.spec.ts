import { readFileSync } from 'node:fs';
import { FIRST_COMMIT, addPhoto, expect, generate, makePhoto, openApp, setSlider, test, waitForResult } from './harness';

const DATA = 'triplane_q8.onnx.data';
const NEXT_COMMIT = '2'.repeat(40);

test('the default model is pinned on consent: main moving mid-download and a same-size replacement never mix in, with Content-Range hidden', async ({ page, network }) => {
  network.hideContentRange = true;
  await openApp(page);
  await addPhoto(page, await makePhoto(page, { colour: '#e8d070' }));
  await setSlider(page, 'resolution', 32);
  await page.getByTestId('generate').click();
  await expect(page.getByTestId('consent')).toBeVisible();
  // Nothing reaches Hugging Face before the visitor agrees to the download.
  expect(network.apiRequests).toEqual([]);
  network.delayMs = 300;
  await page.getByTestId('consent-accept').click();
  await expect.poll(() => network.modelRequests.some((u) => u.includes(`/xet-bridge/cgb/triposr-onnx-webgpu/${FIRST_COMMIT}/`))).toBe(true);
  expect(network.apiRequests.map((u) => u.replace(/^.*triposr-onnx-webgpu\//, ''))).toEqual(['revision/main', `tree/${FIRST_COMMIT}`]);

  // Mid-download, upstream publishes a .data of the same size with other bytes, and main moves to it.
  const data = new Uint8Array(readFileSync(`tests/fixtures/models/triposr-test/${DATA}`));
  network.commits.set(NEXT_COMMIT, new Map([[DATA, data.map((b) => b ^ 0x5a)]]));
  network.commit = NEXT_COMMIT;
  network.delayMs = 0;
  const result = await waitForResult(page);
  expect(result.triangles).toBeGreaterThan(100);
  const files = network.modelRequests.filter((u) => u.includes('huggingface.co/') || u.includes('/xet-bridge/'));
  expect(files.every((u) => u.includes(FIRST_COMMIT))).toBe(true);
  expect(files.some((u) => u.includes(DATA))).toBe(true);
  expect(network.apiRequests).toHaveLength(2);
});

test('a published model without its .data file gives a clear message before any download', async ({ page, network }) => {
  network.commits.set(FIRST_COMMIT, new Map([[DATA, null]]));
  await openApp(page);
  await addPhoto(page, await makePhoto(page, { colour: '#40a040' }));
  await generate(page);
  await expect(page.getByTestId('error')).toContainText(`has no ${DATA}`);
  await expect(page.getByTestId('error')).toContainText('triplane_q8.onnx needs');
  expect(network.modelRequests.filter((u) => u.includes('/resolve/'))).toEqual([]);
});
