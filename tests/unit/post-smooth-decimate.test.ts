import { describe, expect, it } from 'vitest';
import { decimate } from '../../src/post/decimate';
import { taubinSmooth } from '../../src/post/smooth';
import { buildEdges, edgeStats } from '../../src/post/topology';
import { toWorkMesh, type WorkMesh } from '../../src/post/work-mesh';
import { addRadialNoise, colourAt, icosphere, noisyTorus, signedVolume, withoutTriangles } from '../helpers/post-meshes';
import { weldVertices } from '../../src/post/weld';

/** Standard deviation of the distance to the origin. */
function radialSpread(mesh: WorkMesh): number {
  const p = mesh.positions;
  const radii: number[] = [];
  for (let v = 0; v < p.length; v += 3) radii.push(Math.hypot(p[v]!, p[v + 1]!, p[v + 2]!));
  const mean = radii.reduce((a, b) => a + b, 0) / radii.length;
  return Math.sqrt(radii.reduce((a, r) => a + (r - mean) ** 2, 0) / radii.length);
}

describe('Taubin smoothing', () => {
  const clean = icosphere(4);
  const noisy = toWorkMesh(addRadialNoise(clean, 0.03, 7));

  it('removes noise and keeps the volume within 1.5 %', async () => {
    const smoothed = await taubinSmooth(noisy, { iterations: 10, lambda: 0.5, mu: -0.53 });
    expect(radialSpread(smoothed)).toBeLessThan(radialSpread(noisy) / 2);
    const reference = signedVolume(clean);
    expect(Math.abs(signedVolume(smoothed) / reference - 1)).toBeLessThan(0.015);
    // Plain Laplacian smoothing (μ = 0) shrinks the same sphere by far more: the test can tell.
    const shrunk = await taubinSmooth(noisy, { iterations: 10, lambda: 0.5, mu: 0 });
    expect(signedVolume(shrunk) / reference).toBeLessThan(0.97);
  });

  it('keeps boundary vertices in place and does nothing at 0 iterations', async () => {
    const holed = toWorkMesh(withoutTriangles(addRadialNoise(clean, 0.03, 7), [10]));
    const smoothed = await taubinSmooth(holed, { iterations: 5 });
    for (let k = 0; k < 3; k++) {
      const v = clean.indices[10 * 3 + k]!;
      expect(Array.from(smoothed.positions.subarray(v * 3, v * 3 + 3))).toEqual(Array.from(holed.positions.subarray(v * 3, v * 3 + 3)));
    }
    expect(await taubinSmooth(holed, { iterations: 0 })).toBe(holed);
  });

  it('stops with an AbortError when cancelled', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(taubinSmooth(noisy, { iterations: 50, signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('decimation', () => {
  const dense = toWorkMesh(icosphere(6)); // 81,920 triangles

  it('reaches the target within 5 %, keeps the sphere closed and colours on their vertices', async () => {
    const result = await decimate(dense, { targetTriangles: 5_000 });
    expect(result.before).toBe(81_920);
    expect(result.after).toBe(result.mesh.indices.length / 3);
    expect(Math.abs(result.after - 5_000) / 5_000).toBeLessThanOrEqual(0.05);
    expect(edgeStats(buildEdges(result.mesh.indices, result.mesh.positions.length / 3))).toEqual({ boundary: 0, nonManifold: 0 });
    expect(Math.abs(signedVolume(result.mesh) / signedVolume(dense) - 1)).toBeLessThan(0.02);
    let worst = 0;
    for (let i = 0; i < result.mesh.positions.length; i++) {
      worst = Math.max(worst, Math.abs(result.mesh.colours[i]! - colourAt(result.mesh.positions[i]!)));
    }
    expect(worst).toBeLessThan(1e-6);
  });

  it('keeps the border of a hole where it was', async () => {
    const holed = toWorkMesh(withoutTriangles(icosphere(5), [0, 1, 2, 3]));
    const result = await decimate(holed, { targetTriangles: 2_000 });
    expect(Math.abs(result.after - 2_000) / 2_000).toBeLessThanOrEqual(0.05);
    const before = edgeStats(buildEdges(holed.indices, holed.positions.length / 3)).boundary;
    expect(edgeStats(buildEdges(result.mesh.indices, result.mesh.positions.length / 3)).boundary).toBe(before);
  });

  it('leaves no folded flaps on a noisy torus (meshoptimizer alone leaves 17 non-manifold edges here)', async () => {
    const torus = weldVertices(toWorkMesh(noisyTorus(100_000))).mesh;
    const result = await decimate(torus, { targetTriangles: 20_000 });
    expect(Math.abs(result.after - 20_000) / 20_000).toBeLessThanOrEqual(0.05);
    expect(edgeStats(buildEdges(result.mesh.indices, result.mesh.positions.length / 3))).toEqual({ boundary: 6, nonManifold: 0 });
  });

  it('leaves a mesh under the target alone', async () => {
    const small = toWorkMesh(icosphere(2));
    const result = await decimate(small, { targetTriangles: 1_000 });
    expect(result.mesh).toBe(small);
    expect(result.after).toBe(320);
  });
});
