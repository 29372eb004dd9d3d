import { describe, expect, it } from 'vitest';
import { boundaryLoops, fillHoles } from '../../src/post/holes';
import { loadManifold, toManifold } from '../../src/post/manifold';
import { makePrintable } from '../../src/post/printable';
import { qualityReport } from '../../src/post/quality';
import { dropDuplicateTriangles, orientOutward } from '../../src/post/repair';
import { buildEdges, edgeStats } from '../../src/post/topology';
import { toWorkMesh, type WorkMesh } from '../../src/post/work-mesh';
import { box, boxCorners, BOX_TRIANGLES, colourAt, combine, icosphere, meshOf, signedVolume, withoutTriangles } from '../helpers/post-meshes';

const stats = (mesh: WorkMesh) => edgeStats(buildEdges(mesh.indices, mesh.positions.length / 3));

/** Every vertex's colour matches the colour the test meshes give its position, within `tolerance`. */
function coloursFollowPositions(mesh: WorkMesh, tolerance: number): boolean {
  for (let i = 0; i < mesh.positions.length; i++) {
    if (Math.abs(mesh.colours[i]! - colourAt(mesh.positions[i]!)) > tolerance) return false;
  }
  return true;
}

describe('hole filling', () => {
  // Triangles 2 and 3 are the whole z = max face: a square hole of 4 edges.
  const holed = withoutTriangles(box([0, 0, 0], [1, 1, 1]), [2, 3]);

  it('reports the hole exactly and fills it to a watertight box of exact volume', () => {
    const before = qualityReport(holed, 'm');
    expect(before.boundaryEdges).toBe(4);
    expect(before.watertight).toBe(false);
    expect(before.score).toBeLessThan(7);
    const { loops } = boundaryLoops(toWorkMesh(holed));
    expect(loops.length).toBe(1);
    expect(loops[0]!.length).toBe(4);
    const filled = fillHoles(toWorkMesh(holed));
    expect(filled).toMatchObject({ holes: 1, trianglesAdded: 4, unclosed: 0 });
    expect(stats(filled.mesh)).toEqual({ boundary: 0, nonManifold: 0 });
    expect(signedVolume(filled.mesh)).toBeCloseTo(1, 6);
    // The new centre vertex sits in the face and takes the mean of its loop's colours.
    const centre = filled.mesh.positions.length / 3 - 1;
    expect(Array.from(filled.mesh.positions.subarray(centre * 3))).toEqual([0.5, 0.5, 1]);
    expect(filled.mesh.colours[centre * 3]!).toBeCloseTo((colourAt(0) * 2 + colourAt(1) * 2) / 4, 6);
  });

  it('closes a triangular hole with one triangle and several holes at once', () => {
    const sphere = icosphere(2);
    const holed = withoutTriangles(sphere, [0, 50, 120]);
    const filled = fillHoles(toWorkMesh(holed));
    expect(filled.holes).toBe(3);
    expect(filled.trianglesAdded).toBe(3);
    expect(stats(filled.mesh)).toEqual({ boundary: 0, nonManifold: 0 });
    expect(signedVolume(filled.mesh)).toBeCloseTo(signedVolume(sphere), 6);
  });

  it('makes the holed box printable and says what it changed', async () => {
    const result = await makePrintable(toWorkMesh(holed));
    expect(result.ok).toBe(true);
    expect(result.fillMessage).toBe('Closed 1 hole (4 triangles added).');
    expect(stats(result.mesh)).toEqual({ boundary: 0, nonManifold: 0 });
    expect(signedVolume(result.mesh)).toBeCloseTo(1, 5);
    expect(qualityReport(result.mesh, 'm').watertight).toBe(true);
  });
});

describe('orientation', () => {
  it('turns a flipped triangle back and a fully inverted box outward', async () => {
    const flippedIndices = BOX_TRIANGLES.slice();
    [flippedIndices[7], flippedIndices[8]] = [flippedIndices[8]!, flippedIndices[7]!];
    const mesh = toWorkMesh(meshOf(boxCorners([0, 0, 0], [1, 1, 1]), flippedIndices));
    expect(signedVolume(mesh)).not.toBeCloseTo(1, 3);
    const oriented = orientOutward(mesh);
    expect(oriented.flipped).toBe(1);
    expect(oriented.conflicts).toBe(0);
    expect(signedVolume(oriented.mesh)).toBeCloseTo(1, 6);

    const inverted = toWorkMesh(meshOf(boxCorners([0, 0, 0], [1, 1, 1]), BOX_TRIANGLES.slice().reverse()));
    expect(signedVolume(inverted)).toBeCloseTo(-1, 6);
    const outward = orientOutward(inverted);
    expect(outward.flipped).toBe(12);
    expect(signedVolume(outward.mesh)).toBeCloseTo(1, 6);

    const printable = await makePrintable(mesh);
    expect(printable.ok).toBe(true);
    expect(printable.flipped).toBe(1);
    expect(printable.message).toMatch(/turned 1 triangle outward/i);
    expect(signedVolume(printable.mesh)).toBeCloseTo(1, 5);
  });
});

describe('non-manifold repair', () => {
  // Two unit boxes that share exactly one edge, (1,1,0)–(1,1,1), welded there: four triangles use it.
  const touching = () => combine(box([0, 0, 0], [1, 1, 1]), box([1, 1, 0], [2, 2, 1]));

  it('reports the shared edge exactly', () => {
    const report = qualityReport(touching(), 'm');
    expect(report.nonManifoldEdges).toBe(1);
    expect(report.boundaryEdges).toBe(0);
    expect(report.components).toBe(1);
    expect(report.watertight).toBe(false);
    expect(report.score).toBeLessThan(7);
    expect(report.issues.find((i) => i.code === 'non-manifold')?.fix).toBe('printable');
  });

  it('repairs it to strictly two triangles per edge, keeping colours', async () => {
    const result = await makePrintable(toWorkMesh(touching()));
    expect(result.ok).toBe(true);
    expect(result.droppedTriangles).toBe(4);
    expect(result.holes).toBe(2);
    // The boxes still touch at the edge's two ends; each box keeps its own copy of them.
    expect(result.splitVertices).toBe(2);
    expect(stats(result.mesh)).toEqual({ boundary: 0, nonManifold: 0 });
    const report = qualityReport(result.mesh, 'm');
    expect(report).toMatchObject({ watertight: true, nonManifoldEdges: 0, boundaryEdges: 0 });
    expect(report.volume).toBeGreaterThan(1.5);
    expect(report.volume).toBeLessThan(2);
    // Original vertices keep their colours; only the two fan centres take their loops' means.
    let matching = 0;
    const { positions, colours } = result.mesh;
    for (let v = 0; v < positions.length / 3; v++) {
      if ([0, 1, 2].every((a) => Math.abs(colours[v * 3 + a]! - colourAt(positions[v * 3 + a]!)) < 1e-6)) matching++;
    }
    expect(matching).toBeGreaterThanOrEqual(positions.length / 3 - 2);
  });

  it('repairs a fin (an edge of three triangles) that manifold-3d refuses into a solid it accepts', async () => {
    // A box plus one triangle standing on its edge (0,1,0)–(0,1,1).
    const fin = toWorkMesh(meshOf([...boxCorners([0, 0, 0], [1, 1, 1]), 0.5, 2, 0.5], [...BOX_TRIANGLES, 2, 6, 8]));
    const before = qualityReport(fin, 'm');
    expect(before).toMatchObject({ nonManifoldEdges: 1, boundaryEdges: 2, components: 1, watertight: false });
    const wasm = await loadManifold();
    expect(() => toManifold(wasm, fin)).toThrow(/manifold/i);
    const result = await makePrintable(fin);
    expect(result.ok).toBe(true);
    expect(result.droppedTriangles).toBe(3);
    expect(result.holes).toBe(1);
    const solid = toManifold(wasm, result.mesh);
    expect(solid.status()).toBe('NoError');
    const report = qualityReport(result.mesh, 'm');
    expect(report.watertight).toBe(true);
    expect(solid.volume()).toBeCloseTo(report.volume, 5);
    expect(report.volume).toBeGreaterThan(0.8);
    expect(report.volume).toBeLessThan(1);
    solid.delete();
  });

  it('removes a flap folded flat onto a box (two triangles over the same vertices) and keeps an exact copy once', () => {
    const corners = [...boxCorners([0, 0, 0], [1, 1, 1]), 0.5, 2, 0.5];
    const flap = toWorkMesh(meshOf(corners, [...BOX_TRIANGLES, 2, 6, 8, 2, 8, 6]));
    expect(stats(flap)).toEqual({ boundary: 0, nonManifold: 1 });
    const cleaned = dropDuplicateTriangles(flap);
    expect(cleaned.dropped).toBe(2);
    expect(stats(cleaned.mesh)).toEqual({ boundary: 0, nonManifold: 0 });
    expect(signedVolume(cleaned.mesh)).toBeCloseTo(1, 6);
    const copy = dropDuplicateTriangles(toWorkMesh(meshOf(corners, [...BOX_TRIANGLES, 0, 2, 3])));
    expect(copy.dropped).toBe(1);
    expect(copy.mesh.indices.length).toBe(36);
  });

  it('keeps the input and says why when the mesh cannot be made solid', async () => {
    const single = toWorkMesh(meshOf([0, 0, 0, 1, 0, 0, 0, 1, 0], [0, 1, 2]));
    const result = await makePrintable(single);
    expect(result.ok).toBe(false);
    expect(result.mesh).toBe(single);
    expect(result.message).toMatch(/no volume|refused/);
  });

  it('keeps colours exactly through repair of a sphere with holes', async () => {
    const holed = withoutTriangles(icosphere(3), [5, 6, 7, 300, 301]);
    const result = await makePrintable(toWorkMesh(holed));
    expect(result.ok).toBe(true);
    expect(qualityReport(result.mesh, 'm').watertight).toBe(true);
    expect(coloursFollowPositions(result.mesh, 0.2)).toBe(true);
  });
});
