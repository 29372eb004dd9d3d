import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/lib/errors';
import { POST_DEFAULTS, processMesh } from '../../src/post/process';
import { POST_STEPS, type PostStep } from '../../src/post/types';
import { usedBounds } from '../../src/post/work-mesh';
import { addRadialNoise, box, combine, icosphere, meshOf, withoutTriangles } from '../helpers/post-meshes';

/** A noisy open sphere (two holes) with a floater, in the pipeline's frame (metres, within ±0.87). */
function rawMesh() {
  const sphere = withoutTriangles(addRadialNoise(icosphere(5, 0.4, [0.05, 0.1, 0]), 0.01, 3), [0, 500]);
  return combine(sphere, box([0.7, 0.7, 0.7], [0.72, 0.72, 0.72]));
}

describe('processMesh', () => {
  it('runs every step in order and returns a closed, scaled, flat-bottomed mesh with its report', async () => {
    const seen: PostStep[] = [];
    const result = await processMesh(
      rawMesh(),
      { smoothing: { iterations: 4, lambda: 0.5, mu: -0.53 }, targetTriangles: 5_000, printable: true, flatBottom: 0.05, size: { dimension: 'height', value: 50, unit: 'mm' } },
      { onProgress: (step, fraction) => fraction === 0 && seen.push(step) },
    );
    const order = result.steps.map((s) => s.step);
    expect(order).toEqual(['weld', 'cleanup', 'smooth', 'decimate', 'fill-holes', 'manifold', 'scale', 'flatten', 'report']);
    expect(seen).toEqual(order);
    expect(order.every((step, i) => i === 0 || POST_STEPS.indexOf(step) > POST_STEPS.indexOf(order[i - 1]!))).toBe(true);
    expect(result.steps.some((s) => s.failed)).toBe(false);
    expect(result.steps.find((s) => s.step === 'cleanup')?.message).toBe('Removed 1 floating piece (12 triangles).');
    expect(result.steps.find((s) => s.step === 'fill-holes')?.message).toMatch(/^Closed 2 holes \(\d+ triangles added\)\.$/);
    const { report, mesh } = result;
    expect(report).toMatchObject({ watertight: true, components: 1, boundaryEdges: 0, nonManifoldEdges: 0, unit: 'mm' });
    expect(Math.abs(report.triangles - 5_000)).toBeLessThan(400);
    expect(report.score).toBeGreaterThanOrEqual(9);
    const { min, max } = usedBounds(mesh);
    expect(min[1]).toBe(0);
    expect(max[1]).toBeCloseTo(50, 3);
    expect((min[0] + max[0]) / 2).toBeCloseTo(0, 3);
    expect((min[2] + max[2]) / 2).toBeCloseTo(0, 3);
    expect(report.size[1]).toBeCloseTo(50, 3);
    expect(mesh.normals.length).toBe(mesh.positions.length);
    expect(mesh.colours.length).toBe(mesh.positions.length);
    expect(result.settings.size.unit).toBe('mm');
    expect(result.settings.cleanup).toEqual(POST_DEFAULTS.cleanup);
  });

  it('uses the defaults: 100 mm longest side, no repair, report of the open mesh', async () => {
    const result = await processMesh(rawMesh());
    expect(result.settings).toEqual(POST_DEFAULTS);
    expect(result.steps.map((s) => s.step)).toEqual(['weld', 'cleanup', 'scale', 'report']);
    const { min, max } = usedBounds(result.mesh);
    expect(Math.max(max[0] - min[0], max[1] - min[1], max[2] - min[2])).toBeCloseTo(100, 3);
    expect(result.report.watertight).toBe(false);
    expect(result.report.score).toBeLessThan(7);
    expect(result.steps.at(-1)?.message).toMatch(/Below the minimum of 7/);
  });

  it('keeps the unrepaired mesh and marks the step failed when repair cannot make a solid', async () => {
    const result = await processMesh(meshOf([0, 0, 0, 1, 0, 0, 0, 1, 0], [0, 1, 2]), { printable: true });
    const manifold = result.steps.find((s) => s.step === 'manifold');
    expect(manifold?.failed).toBe(true);
    expect(manifold?.message).toMatch(/Kept the unrepaired mesh/);
    expect(result.report.triangles).toBe(1);
    expect(result.report.watertight).toBe(false);
  });

  it('turns empty and all-NaN meshes into a clear AppError and ignores NaN vertices otherwise', async () => {
    await expect(processMesh(meshOf([], []))).rejects.toBeInstanceOf(AppError);
    await expect(processMesh(meshOf([NaN, 0, 0, 1, NaN, 0, 0, 1, 0], [0, 1, 2]))).rejects.toMatchObject({ code: 'no-surface' });
    const sphere = icosphere(2, 0.5);
    const positions = [...sphere.positions, NaN, NaN, NaN];
    const indices = [...sphere.indices, 0, 1, 642];
    const result = await processMesh(meshOf(positions, indices));
    expect(result.report.triangles).toBe(320);
    expect(result.report.watertight).toBe(true);
    expect(result.steps[0]!.message).toMatch(/ignored 1 vertex with invalid coordinates/);
  });

  it('cancels with an AbortError before starting and between steps', async () => {
    const aborted = new AbortController();
    aborted.abort();
    await expect(processMesh(rawMesh(), {}, { signal: aborted.signal })).rejects.toMatchObject({ name: 'AbortError' });
    const controller = new AbortController();
    const seen: PostStep[] = [];
    const run = processMesh(rawMesh(), { printable: true }, {
      signal: controller.signal,
      onProgress: (step) => {
        seen.push(step);
        if (step === 'cleanup') controller.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen).not.toContain('fill-holes');
  });
});
