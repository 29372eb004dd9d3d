import { describe, expect, it } from 'vitest';
import { removeFloaters } from '../../src/post/cleanup';
import { buildEdges, edgeStats, triangleComponents } from '../../src/post/topology';
import { weldVertices } from '../../src/post/weld';
import { toWorkMesh } from '../../src/post/work-mesh';
import { qualityReport } from '../../src/post/quality';
import { box, combine, icosphere, meshOf } from '../helpers/post-meshes';

/** A box whose every triangle has its own three vertices (as STL stores it). */
function unweldedBox() {
  const closed = box([0, 0, 0], [1, 1, 1]);
  const positions: number[] = [];
  for (const i of closed.indices) positions.push(...closed.positions.subarray(i * 3, i * 3 + 3));
  return meshOf(positions, positions.map((_, i) => i).filter((i) => i < positions.length / 3));
}

describe('weld', () => {
  it('merges duplicate vertices back to the 8 corners of a box split per triangle', () => {
    const split = unweldedBox();
    expect(split.positions.length / 3).toBe(36);
    expect(edgeStats(buildEdges(split.indices, 36)).boundary).toBe(36);
    const { mesh, merged, degenerate } = weldVertices(toWorkMesh(split));
    expect(mesh.positions.length / 3).toBe(8);
    expect(merged).toBe(28);
    expect(degenerate).toBe(0);
    const stats = edgeStats(buildEdges(mesh.indices, 8));
    expect(stats).toEqual({ boundary: 0, nonManifold: 0 });
  });

  it('merges vertices within the tolerance but not ones farther apart', () => {
    const mesh = meshOf([0, 0, 0, 1, 0, 0, 0, 1, 0, 1e-9, 0, 0, 0.5, 0, 0], [0, 1, 2, 3, 4, 2]);
    const welded = weldVertices(toWorkMesh(mesh));
    expect(welded.merged).toBe(1);
    expect(welded.mesh.positions.length / 3).toBe(4);
    expect(weldVertices(toWorkMesh(mesh), { tolerance: 0 }).merged).toBe(0);
  });

  it('drops triangles with a repeated corner, out-of-range indices or NaN corners', () => {
    const mesh = meshOf([0, 0, 0, 1, 0, 0, 0, 1, 0, NaN, 0, 0, 0, 0, 0], [0, 1, 2, 0, 1, 1, 0, 1, 3, 0, 1, 9, 4, 1, 0]);
    const { mesh: out, degenerate, nonFinite, merged } = weldVertices(toWorkMesh(mesh));
    expect(nonFinite).toBe(1);
    expect(merged).toBe(1);
    // (0,1,1) repeats, (0,1,3) has NaN, (0,1,9) is out of range, (4,1,0) collapses onto (0,1,0) after welding.
    expect(degenerate).toBe(4);
    expect(Array.from(out.indices)).toEqual([0, 1, 2]);
    expect(Array.from(out.positions).every(Number.isFinite)).toBe(true);
  });
});

describe('components and floaters', () => {
  it('reports two overlapping boxes exactly', () => {
    const mesh = combine(box([0, 0, 0], [1, 1, 1]), box([0.5, 0.5, 0.5], [1.5, 1.5, 1.5]));
    const report = qualityReport(mesh, 'm');
    expect(report).toMatchObject({
      vertices: 16, triangles: 24, components: 2, boundaryEdges: 0, nonManifoldEdges: 0, watertight: true,
      size: [1.5, 1.5, 1.5], unit: 'm',
    });
    expect(report.volume).toBeCloseTo(2, 6);
    expect(report.surfaceArea).toBeCloseTo(12, 6);
    // Right isosceles triangles: 4√3·½ / (1 + 1 + 2) = √3/2.
    expect(report.aspect.min).toBeCloseTo(Math.sqrt(3) / 2, 6);
    expect(report.aspect.mean).toBeCloseTo(Math.sqrt(3) / 2, 6);
    expect(report.score).toBe(9.5);
    expect(report.issues.map((i) => i.code)).toEqual(['components']);
  });

  it('keeps both boxes (equal volume) and removes a small floater next to a sphere', () => {
    const two = toWorkMesh(combine(box([0, 0, 0], [1, 1, 1]), box([2, 0, 0], [3, 1, 1])));
    expect(removeFloaters(two, 0.05).removedComponents).toBe(0);

    const sphere = icosphere(3, 0.5);
    const floater = box([0.8, 0.8, 0.8], [0.9, 0.9, 0.9]);
    const mesh = toWorkMesh(combine(sphere, floater));
    const result = removeFloaters(mesh, 0.05);
    expect(result.components).toBe(2);
    expect(result.removedComponents).toBe(1);
    expect(result.removedTriangles).toBe(12);
    expect(result.mesh.indices.length).toBe(sphere.indices.length);
    expect(result.mesh.positions.length).toBe(sphere.positions.length);
    // The same floater at a larger share than the threshold stays.
    expect(removeFloaters(mesh, 0.0001).removedComponents).toBe(0);
  });

  it('counts components over shared vertices', () => {
    const mesh = toWorkMesh(combine(box([0, 0, 0], [1, 1, 1]), box([2, 0, 0], [3, 1, 1]), box([4, 0, 0], [5, 1, 1])));
    expect(triangleComponents(mesh.indices, 24).count).toBe(3);
  });
});
