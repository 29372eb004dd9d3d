import { describe, expect, it } from 'vitest';
import { processMesh } from '../../src/post/process';
import type { ResultMesh } from '../../src/shared/mesh';
import { unwrapMesh, type UnwrappedMesh } from '../../src/texture/unwrap';
import { uvOverlaps } from '../helpers/band-fixture';
import { addRadialNoise, icosphere } from '../helpers/post-meshes';

/**
 * Every claim the unwrap makes about its output, at texture size `size`. `maxFolded`: share of covered
 * texels where one island folds over itself (xatlas leaves a few on noisy decimated meshes: 744 of
 * ~900 k texels, 0.08 %, on the processed mesh below; the bake gives such a texel one of the two).
 */
function checkUnwrap(source: ResultMesh, out: UnwrappedMesh, size: number, maxFolded: number): void {
  const n = out.positions.length / 3;
  expect(out.uvs.length).toBe(2 * n);
  expect(out.xref.length).toBe(n);
  expect(out.normals.length).toBe(3 * n);
  expect(out.colours.length).toBe(3 * n);
  // Seams split vertices: never fewer, and each copies its source vertex exactly.
  expect(n).toBeGreaterThanOrEqual(source.positions.length / 3);
  for (let v = 0; v < n; v++) {
    const s = out.xref[v]!;
    expect(s).toBeLessThan(source.positions.length / 3);
    for (let k = 0; k < 3; k++) {
      if (out.positions[3 * v + k] !== source.positions[3 * s + k]) throw new Error(`vertex ${v} is not a copy of ${s}`);
      if (out.colours[3 * v + k] !== source.colours[3 * s + k]) throw new Error(`vertex ${v}'s colour is not ${s}'s`);
    }
  }
  // The same triangles, in the same order, over the split vertices.
  expect(out.indices.length).toBe(source.indices.length);
  for (let i = 0; i < out.indices.length; i++) if (out.xref[out.indices[i]!] !== source.indices[i]) throw new Error(`index ${i} changed`);
  expect(out.uvs.every((x) => x >= 0 && x <= 1)).toBe(true);
  // Positive UV area for every triangle (in texels², so the bake gives each one some texels' worth).
  let smallest = Infinity;
  for (let t = 0; t < out.indices.length / 3; t++) {
    const [a, b, c] = [0, 1, 2].map((k) => out.indices[3 * t + k]!) as [number, number, number];
    const area = Math.abs((out.uvs[2 * b]! - out.uvs[2 * a]!) * (out.uvs[2 * c + 1]! - out.uvs[2 * a + 1]!) - (out.uvs[2 * c]! - out.uvs[2 * a]!) * (out.uvs[2 * b + 1]! - out.uvs[2 * a + 1]!)) / 2;
    smallest = Math.min(smallest, area * size * size);
  }
  expect(smallest).toBeGreaterThan(0);
  const overlaps = uvOverlaps(out.uvs, out.indices, size, out.charts);
  expect(overlaps.islands).toBe(0);
  expect(overlaps.folds).toBeLessThanOrEqual(maxFolded * overlaps.covered);
  expect(out.chartCount).toBeGreaterThan(1);
  expect(out.atlas.width).toBeGreaterThan(0.5 * size);
}

describe('unwrapMesh', () => {
  it('unwraps a sphere into one atlas without overlapping islands', async () => {
    const sphere = icosphere(4, 0.5);
    const progress: number[] = [];
    const out = await unwrapMesh(sphere, { size: 512, onProgress: (f) => progress.push(f) });
    expect(progress).toEqual([0, 0.8, 1]);
    checkUnwrap(sphere, out, 512, 0);
  });

  it('unwraps a post-processed (decimated, closed, scaled) mesh', async () => {
    const processed = await processMesh(addRadialNoise(icosphere(5, 0.4), 0.02, 3), { targetTriangles: 6_000, printable: true, flatBottom: 0.05 });
    const out = await unwrapMesh(processed.mesh, { size: 1024 });
    checkUnwrap(processed.mesh, out, 1024, 0.002);
  });

  it('detects overlapping islands and folds (the check can fail)', () => {
    // Two triangles over the same UV square, in two charts and then in one.
    const uvs = Float32Array.from([0.1, 0.1, 0.9, 0.1, 0.1, 0.9, 0.2, 0.2, 0.8, 0.2, 0.2, 0.8]);
    const indices = Uint32Array.from([0, 1, 2, 3, 4, 5]);
    expect(uvOverlaps(uvs, indices, 64, Uint32Array.from([0, 1])).islands).toBeGreaterThan(100);
    expect(uvOverlaps(uvs, indices, 64, Uint32Array.from([0, 0])).folds).toBeGreaterThan(100);
  });

  it('stops on a cancelled signal', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(unwrapMesh(icosphere(2), { size: 512, signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });
});
