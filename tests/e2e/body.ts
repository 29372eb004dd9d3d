import { readFileSync } from 'node:fs';
import { NodeIO } from '@gltf-transform/core';
import type { Page } from '@playwright/test';
import { rgbaToChw, testBody, type TestBody } from '../../scripts/lib/test-body';
import { waitForPreview } from './harness';

/** The test model's body for the exact 512² image the model sees, read from the preview canvas. */
export async function modelInputBody(page: Page): Promise<TestBody> {
  await waitForPreview(page);
  const pixels = await page.getByTestId('model-input').evaluate((canvas: HTMLCanvasElement) => [
    ...canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data,
  ]);
  return testBody(rgbaToChw(pixels));
}

/** Clicks Download GLB and returns the mesh's positions (glTF frame), read by glTF-Transform. */
export async function downloadGlbPositions(page: Page): Promise<Float32Array> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-glb').click()]);
  const bytes = new Uint8Array(readFileSync(await download.path()));
  const document = await new NodeIO().readBinary(bytes);
  const position = document.getRoot().listMeshes()[0]!.listPrimitives()[0]!.getAttribute('POSITION')!;
  return position.getArray() as Float32Array;
}

/** Bounds, centre of the bounds, and the long axis's angle in the XY plane (from +X toward +Y). */
export function glbShape(positions: Float32Array): { min: number[]; max: number[]; centre: number[]; angleXY: number } {
  const min = [Infinity, Infinity, Infinity];
  const max = [-Infinity, -Infinity, -Infinity];
  const n = positions.length / 3;
  const mean = [0, 0, 0];
  for (let i = 0; i < positions.length; i += 3) {
    for (let a = 0; a < 3; a++) {
      const v = positions[i + a]!;
      min[a] = Math.min(min[a]!, v);
      max[a] = Math.max(max[a]!, v);
      mean[a]! += v / n;
    }
  }
  let xx = 0;
  let yy = 0;
  let xy = 0;
  for (let i = 0; i < positions.length; i += 3) {
    const dx = positions[i]! - mean[0]!;
    const dy = positions[i + 1]! - mean[1]!;
    xx += dx * dx;
    yy += dy * dy;
    xy += dx * dy;
  }
  return { min, max, centre: min.map((v, a) => (v + max[a]!) / 2), angleXY: 0.5 * Math.atan2(2 * xy, xx - yy) };
}
