import { readFileSync } from 'node:fs';
import { NodeIO } from '@gltf-transform/core';
import type { Download, Page } from '@playwright/test';
import { decode } from 'fast-png';
import { strFromU8, unzipSync } from 'fflate';
import { expectedColour } from '../../scripts/lib/test-body';
import { gltfValidator } from '../helpers/gltf-validator';
import { modelInputBody } from './body';
import { addPhoto, expect, generate, makePhoto, openApp, setSlider, test, waitForResult } from './harness';

async function download(page: Page, format: string): Promise<{ name: string; bytes: Uint8Array }> {
  await page.getByTestId('export-format').selectOption(format);
  const [file] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-download').click()]);
  return { name: file.suggestedFilename(), bytes: new Uint8Array(readFileSync(await (file as Download).path())) };
}

/** The PNG's texels as [r, g, b] per texel (8-bit). */
function texels(png: Uint8Array): { width: number; height: number; rgb: number[][] } {
  const image = decode(png);
  expect(image.depth).toBe(8);
  const rgb: number[][] = [];
  for (let i = 0; i < image.width * image.height; i++) {
    rgb.push([0, 1, 2].map((k) => image.data[i * image.channels + k]!));
  }
  return { width: image.width, height: image.height, rgb };
}

test('generate → reduce triangles → bake a 512 texture → textured GLB, OBJ zip and USDZ downloads', async ({ page }) => {
  // SwiftShader bakes on the CPU: 66 s of this test's 2.1 min at 512² (cf34e13), after 45 s of generation.
  test.setTimeout(420_000);
  await openApp(page);
  await addPhoto(page, await makePhoto(page, { colour: '#c04030' }), 'pot.png');
  await setSlider(page, 'resolution', 48);
  const body = await modelInputBody(page);
  await generate(page);
  const generated = await waitForResult(page);

  await page.getByTestId('post-decimate').check();
  const target = Math.max(1000, Math.round(generated.triangles / 4 / 100) * 100);
  await page.getByTestId('post-target').fill(String(target));
  await page.getByTestId('texture-mode').selectOption('texture');
  await page.getByTestId('texture-size').selectOption('512');
  await page.getByTestId('post-run').click();
  // The bake starts by itself after processing, with progress and a Cancel.
  await expect(page.getByTestId('texture-progress')).toBeVisible({ timeout: 180_000 });
  await expect(page.getByTestId('texture-cancel')).toBeVisible();
  await expect(page.getByTestId('texture-done')).toBeVisible({ timeout: 300_000 });
  // The menu's format was STL (its default): a texture was asked for, so it is GLB now.
  await expect(page.getByTestId('export-format')).toHaveValue('glb');
  await expect(page.getByTestId('texture-error')).toHaveCount(0);

  // The viewer shows the baked mesh: the processed triangle count, with its texture; the toggle
  // shows the same triangles in vertex colours.
  const viewer = page.getByTestId('viewer');
  await expect(viewer).toHaveAttribute('data-textured', 'true');
  const triangles = Number(await viewer.getAttribute('data-shown-triangles'));
  expect(triangles).toBeLessThanOrEqual(target);
  expect(triangles).toBeLessThan(generated.triangles);
  await page.getByTestId('colour-view').getByRole('radio', { name: 'Vertex colours' }).click();
  await expect(viewer).toHaveAttribute('data-textured', 'false');
  await expect(viewer).toHaveAttribute('data-shown-triangles', String(triangles));
  await page.getByTestId('colour-view').getByRole('radio', { name: 'Texture' }).click();
  await expect(viewer).toHaveAttribute('data-textured', 'true');

  // GLB: valid, TEXCOORD_0 on every vertex, a 512² PNG baseColorTexture in the test model's colour.
  const glb = await download(page, 'glb');
  expect(glb.name).toMatch(/^pot-.*-texture-512\.glb$/);
  const report = await gltfValidator.validateBytes(glb.bytes);
  expect(report.issues.messages.filter((m) => m.severity === 0)).toEqual([]);
  const document = await new NodeIO().readBinary(glb.bytes);
  const primitive = document.getRoot().listMeshes()[0]!.listPrimitives()[0]!;
  const vertices = primitive.getAttribute('POSITION')!.getCount();
  expect(primitive.getAttribute('TEXCOORD_0')!.getCount()).toBe(vertices);
  expect(primitive.getIndices()!.getCount() / 3).toBe(triangles);
  const texture = primitive.getMaterial()!.getBaseColorTexture()!;
  expect(texture.getMimeType()).toBe('image/png');
  const image = texels(texture.getImage()!);
  expect([image.width, image.height]).toEqual([512, 512]);
  // The test model's colour field is one colour (the photo's mean, scripts/lib/test-body.ts), so
  // every texel the UVs reach must hold it; the texels under each vertex's UV are checked.
  const expected = expectedColour(body).map((v) => Math.round(v * 255));
  const uv = primitive.getAttribute('TEXCOORD_0')!;
  let worst = 0;
  for (let v = 0; v < vertices; v++) {
    const [u, t] = uv.getElement(v, [0, 0]);
    const x = Math.min(511, Math.floor(u! * 512));
    const y = Math.min(511, Math.floor(t! * 512));
    const texel = image.rgb[y * 512 + x]!;
    worst = Math.max(worst, ...texel.map((c, k) => Math.abs(c - expected[k]!)));
  }
  expect(worst).toBeLessThanOrEqual(3);

  // OBJ: a zip of OBJ, MTL and PNG that name each other; USDZ: the PNG inside, read by the usda.
  const obj = await download(page, 'obj');
  expect(obj.name).toMatch(/^pot-.*-texture-512\.zip$/);
  const parts = unzipSync(obj.bytes);
  const objName = Object.keys(parts).find((n) => n.endsWith('.obj'))!;
  const base = objName.slice(0, -4);
  expect(Object.keys(parts).sort()).toEqual([`${base}.mtl`, `${base}.obj`, `${base}.png`]);
  expect(strFromU8(parts[objName]!)).toContain(`mtllib ${base}.mtl`);
  expect(strFromU8(parts[`${base}.mtl`]!)).toContain(`map_Kd ${base}.png`);
  expect(texels(parts[`${base}.png`]!).width).toBe(512);

  const usdz = await download(page, 'usdz');
  const usd = unzipSync(usdz.bytes);
  const png = Object.keys(usd).find((n) => n.endsWith('.png'))!;
  expect(strFromU8(usd['model.usda']!)).toContain(`@${png}@`);

  // Formats without textures say so.
  await page.getByTestId('export-format').selectOption('stl');
  await expect(page.getByTestId('export-texture-note')).toBeVisible();
});
