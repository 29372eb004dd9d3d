import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Download, Page } from '@playwright/test';
import { unzipSync, strFromU8 } from 'fflate';
import { STLLoader } from 'three/addons/loaders/STLLoader.js';
import { bounds } from '../helpers/export-fixtures';
import { isClosed } from '../helpers/mesh-metrics';
import { addPhoto, expect, generate, makePhoto, openApp, setSlider, test, waitForResult } from './harness';

/** Welds positions that are equal to 1e-4 (exports write each triangle's corners apart) into an indexed mesh. */
function weld(positions: ArrayLike<number>, indices?: ArrayLike<number>): { positions: Float32Array; normals: Float32Array; indices: Uint32Array } {
  const corners = indices ? Array.from(indices) : Array.from({ length: positions.length / 3 }, (_, i) => i);
  const ids = new Map<string, number>();
  const out: number[] = [];
  const remap = corners.map((c) => {
    const key = [0, 1, 2].map((k) => Math.round(positions[3 * c + k]! * 1e4)).join(',');
    let id = ids.get(key);
    if (id === undefined) {
      id = ids.size;
      ids.set(key, id);
      out.push(positions[3 * c]!, positions[3 * c + 1]!, positions[3 * c + 2]!);
    }
    return id;
  });
  return { positions: Float32Array.from(out), normals: new Float32Array(out.length), indices: Uint32Array.from(remap) };
}

async function download(page: Page, format: string): Promise<{ name: string; bytes: Uint8Array }> {
  await page.getByTestId('export-format').selectOption(format);
  const [file] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-download').click()]);
  return { name: file.suggestedFilename(), bytes: new Uint8Array(readFileSync(await (file as Download).path())) };
}

test('generate → make printable at 50 mm → STL, 3MF and STEP downloads that parse, closed, Z up on the bed', async ({ page }) => {
  await openApp(page);
  await addPhoto(page, await makePhoto(page, { colour: '#3080d0' }), 'mug.png');
  await setSlider(page, 'resolution', 48);
  await generate(page);
  const generated = await waitForResult(page);
  const prepare = page.getByTestId('prepare');
  await expect(prepare).toBeVisible();
  // The generated mesh's report comes first, in metres.
  await expect(page.getByTestId('score-generated')).toContainText('/ 10');

  await page.getByTestId('post-printable').check();
  await page.getByTestId('post-size').fill('50');
  await page.getByTestId('post-run').click();
  await expect(page.getByTestId('score-prepared')).toBeVisible({ timeout: 120_000 });
  const quality = page.getByTestId('quality');
  await expect(quality.locator('tr', { hasText: 'Watertight' }).locator('td').last()).toHaveText('yes');
  await expect(quality.locator('tr', { hasText: 'Open edges' }).locator('td').last()).toHaveText('0');
  await expect(page.getByTestId('viewer')).toHaveAttribute('data-open-edges', '0');
  const score = Number((await page.getByTestId('score-prepared').textContent())!.split('/')[0]);
  expect(score).toBeGreaterThanOrEqual(7);
  await expect(page.getByTestId('before-after')).toBeVisible();
  const afterTriangles = Number(await page.getByTestId('viewer').getAttribute('data-shown-triangles'));
  await page.getByTestId('before-after').getByRole('radio', { name: 'Before' }).click();
  await expect(page.getByTestId('viewer')).toHaveAttribute('data-shown-triangles', String(generated.triangles));
  await page.getByTestId('before-after').getByRole('radio', { name: 'After' }).click();
  await expect(page.getByTestId('viewer')).toHaveAttribute('data-shown-triangles', String(afterTriangles));

  // STL: binary, Z up, resting on z = 0, longest side 50 mm, closed once corners are welded.
  const stl = await download(page, 'stl');
  expect(stl.name).toBe('mug-printable-50k.stl');
  const geometry = new STLLoader().parse(stl.bytes.buffer.slice(stl.bytes.byteOffset, stl.bytes.byteOffset + stl.bytes.byteLength) as ArrayBuffer);
  const stlMesh = weld(geometry.getAttribute('position').array);
  expect(stlMesh.indices.length / 3).toBe(afterTriangles);
  expect(isClosed(stlMesh)).toBe(true);
  const box = bounds(stlMesh.positions);
  expect(box.min[2]).toBeCloseTo(0, 3);
  expect(Math.max(...box.max.map((v, k) => v - box.min[k]!))).toBeCloseTo(50, 1);

  // 3MF: a zip with the model in millimetres, a closed object of type "model".
  const threeMf = await download(page, '3mf');
  expect(threeMf.name).toBe('mug-printable-50k.3mf');
  const files = unzipSync(threeMf.bytes);
  const model = strFromU8(files['3D/3dmodel.model']!);
  expect(model).toMatch(/unit="millimeter"/);
  expect(model).toMatch(/type="model"/);
  const vertices = [...model.matchAll(/<vertex x="([^"]+)" y="([^"]+)" z="([^"]+)"/g)].flatMap((m) => [Number(m[1]), Number(m[2]), Number(m[3])]);
  const triangles = [...model.matchAll(/<triangle v1="(\d+)" v2="(\d+)" v3="(\d+)"/g)].flatMap((m) => [Number(m[1]), Number(m[2]), Number(m[3])]);
  expect(triangles.length / 3).toBe(afterTriangles);
  expect(isClosed(weld(vertices, triangles))).toBe(true);
  expect(bounds(vertices).min[2]).toBeCloseTo(0, 3);

  // STEP: OpenCascade reads it back with every face, within the same bounds.
  const step = await download(page, 'step');
  expect(step.name).toBe('mug-printable-50k.step');
  const require = createRequire(import.meta.url);
  const occt = await (require('occt-import-js') as () => Promise<{ ReadStepFile: (b: Uint8Array, p: null) => { success: boolean; meshes: { index: { array: number[] }; attributes: { position: { array: number[] } } }[] } }>)();
  const read = occt.ReadStepFile(step.bytes, null);
  expect(read.success).toBe(true);
  const stepTriangles = read.meshes.reduce((n, m) => n + m.index.array.length / 3, 0);
  expect(stepTriangles).toBe(afterTriangles);
  const stepBox = bounds(read.meshes.flatMap((m) => m.attributes.position.array));
  expect(stepBox.min[2]).toBeCloseTo(0, 2);
  expect(Math.max(...stepBox.max.map((v, k) => v - stepBox.min[k]!))).toBeCloseTo(50, 1);
});
