import { describe, expect, it } from 'vitest';
import { marchingCubesCpu } from '../../src/gpu/reference/marching-cubes-cpu';
import { processMesh } from '../../src/post/process';
import { qualityReport } from '../../src/post/quality';
import type { ResultMesh } from '../../src/shared/mesh';
import { cutSphereField, twoSpheresField } from '../helpers/analytic-fields';

// Marching-cubes output is what processing gets in the app: shared vertices, zero-area triangles
// where the surface passes a lattice corner, and holes where the surface leaves the grid.

function mc(field: Float32Array, n: number): ResultMesh {
  const mesh = marchingCubesCpu(field, [n, n, n], 0);
  const colours = new Float32Array(mesh.positions.length).fill(0.6);
  return { positions: mesh.positions, normals: mesh.normals, colours, indices: mesh.indices };
}

describe('processing marching-cubes meshes', () => {
  it('closes a sphere cut open by the grid into a solid manifold-3d accepts', async () => {
    const raw = mc(cutSphereField(32), 32);
    const before = qualityReport(raw, 'm');
    expect(before.boundaryEdges).toBeGreaterThan(20);
    expect(before.score).toBeLessThan(7);
    const result = await processMesh(raw, { printable: true, targetTriangles: null });
    expect(result.steps.find((s) => s.failed)).toBeUndefined();
    expect(result.steps.find((s) => s.step === 'fill-holes')?.message).toMatch(/^Closed 1 hole/);
    expect(result.report).toMatchObject({ watertight: true, boundaryEdges: 0, nonManifoldEdges: 0, components: 1 });
    expect(result.report.score).toBeGreaterThanOrEqual(7);
  });

  it('keeps two equal spheres (neither is a floater) and decimates them', async () => {
    const raw = mc(twoSpheresField(40), 40);
    const result = await processMesh(raw, { printable: true, targetTriangles: 1_000 });
    expect(result.report.components).toBe(2);
    expect(result.report.watertight).toBe(true);
    expect(Math.abs(result.report.triangles - 1_000)).toBeLessThanOrEqual(50);
  });
});
