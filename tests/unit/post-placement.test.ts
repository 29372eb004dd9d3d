import { describe, expect, it } from 'vitest';
import { loadManifold, toManifold } from '../../src/post/manifold';
import { flattenBottom, placeAndScale } from '../../src/post/placement';
import { qualityReport } from '../../src/post/quality';
import { usedBounds, toWorkMesh } from '../../src/post/work-mesh';
import { box, icosphere } from '../helpers/post-meshes';

describe('scale and pivot', () => {
  const slab = toWorkMesh(box([-0.2, 0.1, -0.1], [0.3, 0.5, 0.1]));

  it('scales the longest side to the size and puts the pivot at the bottom centre', () => {
    const { mesh, factor } = placeAndScale(slab, { dimension: 'longest', value: 100, unit: 'mm' });
    expect(factor).toBeCloseTo(200, 4);
    const { min, max } = usedBounds(mesh);
    [-50, 0, -20].forEach((x, a) => expect(min[a]).toBeCloseTo(x, 3));
    [50, 80, 20].forEach((x, a) => expect(max[a]).toBeCloseTo(x, 3));
  });

  it('scales the height when asked', () => {
    const { mesh } = placeAndScale(slab, { dimension: 'height', value: 2, unit: 'in' });
    const { min, max } = usedBounds(mesh);
    expect(max[1] - min[1]).toBeCloseTo(2, 5);
    expect(min[1]).toBe(0);
    expect(max[0] - min[0]).toBeCloseTo(2.5, 5);
  });
});

describe('flat bottom', () => {
  it('cuts a sphere flat at 10 % of its height, caps it and stays watertight', async () => {
    const wasm = await loadManifold();
    const sphere = placeAndScale(toWorkMesh(icosphere(4)), { dimension: 'height', value: 100, unit: 'mm' }).mesh;
    const { mesh, cutHeight, capTriangles } = flattenBottom(sphere, 0.1, wasm);
    expect(cutHeight).toBeCloseTo(10, 4);
    expect(capTriangles).toBeGreaterThan(0);
    const { min, max } = usedBounds(mesh);
    expect(min[1]).toBe(0);
    expect(max[1]).toBeCloseTo(90, 3);
    // Every vertex at the bottom lies exactly in the plane: a flat face to stand on.
    let onPlane = 0;
    let nearPlane = 0;
    for (let v = 1; v < mesh.positions.length; v += 3) {
      if (mesh.positions[v] === 0) onPlane++;
      if (mesh.positions[v]! < 1e-3) nearPlane++;
    }
    expect(onPlane).toBeGreaterThan(10);
    expect(nearPlane).toBe(onPlane);
    const report = qualityReport(mesh, 'mm');
    expect(report).toMatchObject({ watertight: true, boundaryEdges: 0, nonManifoldEdges: 0, components: 1 });
    // The cap is the disc of the cut: radius² = 50² − 40² = 900 (less a little for the polygon).
    const capArea = capDiscArea(mesh);
    expect(capArea).toBeGreaterThan(0.95 * Math.PI * 900);
    expect(capArea).toBeLessThan(Math.PI * 900);
    const solid = toManifold(wasm, mesh);
    expect(solid.status()).toBe('NoError');
    solid.delete();
  });

  it('caps an open mesh cut too, leaving its other hole open', async () => {
    const wasm = await loadManifold();
    const sphere = toWorkMesh(icosphere(3));
    // Remove a triangle near the top (max y) so only the top stays open.
    const p = sphere.positions;
    let top = 0;
    for (let t = 0; t < sphere.indices.length / 3; t++) if (p[sphere.indices[t * 3]! * 3 + 1]! > p[sphere.indices[top * 3]! * 3 + 1]!) top = t;
    const indices = sphere.indices.filter((_, i) => Math.floor(i / 3) !== top);
    const { mesh } = flattenBottom({ ...sphere, indices }, 0.2, wasm);
    expect(qualityReport(mesh, 'm').boundaryEdges).toBe(3);
  });
});

function capDiscArea(mesh: { positions: Float32Array; indices: Uint32Array }): number {
  let area = 0;
  const p = mesh.positions;
  for (let t = 0; t < mesh.indices.length; t += 3) {
    const [a, b, c] = [mesh.indices[t]! * 3, mesh.indices[t + 1]! * 3, mesh.indices[t + 2]! * 3];
    if (p[a + 1] !== 0 || p[b + 1] !== 0 || p[c + 1] !== 0) continue;
    const ux = p[b]! - p[a]!, uz = p[b + 2]! - p[a + 2]!, vx = p[c]! - p[a]!, vz = p[c + 2]! - p[a + 2]!;
    area += Math.abs(ux * vz - uz * vx) / 2;
  }
  return area;
}
