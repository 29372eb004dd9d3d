/** Real-world size, bottom-centre pivot and a flat bottom to stand on a print bed. */
import type { ManifoldToplevel } from 'manifold-3d';
import type { PostSettings } from './types';
import { boundaryLoops } from './holes';
import { buildEdges } from './topology';
import { compactVertices, usedBounds, vertexCount, type WorkMesh } from './work-mesh';

/**
 * Scales uniformly so that `size.dimension` ('height' = Y extent, 'longest' = longest side of the
 * bounding box) measures `size.value`, and moves the pivot to the bottom centre: min y = 0, x and
 * z centred. The coordinates are then in `size.unit`. Returns the factor applied.
 */
export function placeAndScale(mesh: WorkMesh, size: PostSettings['size']): { mesh: WorkMesh; factor: number } {
  const { min, max } = usedBounds(mesh);
  const extent = [max[0] - min[0], max[1] - min[1], max[2] - min[2]];
  const measured = size.dimension === 'height' ? extent[1]! : Math.max(...extent);
  const factor = measured > 0 ? size.value / measured : 1;
  const centre = [(min[0] + max[0]) / 2, min[1], (min[2] + max[2]) / 2];
  const positions = new Float32Array(mesh.positions.length);
  for (let i = 0; i < positions.length; i++) positions[i] = (mesh.positions[i]! - centre[i % 3]!) * factor;
  return { mesh: { ...mesh, positions }, factor };
}

const SNAP_SHARE = 1e-3;

/** What {@link flattenBottom} did. */
export interface FlattenResult {
  mesh: WorkMesh;
  /** Height of the cut above the old bottom, in the mesh's units. */
  cutHeight: number;
  capTriangles: number;
}

/**
 * Cuts away everything below `share × height` above the bottom and caps the cut: triangles are
 * clipped against the plane (new vertices on crossing edges are shared, colours interpolated), and
 * every boundary loop that now lies in the plane is triangulated in 2-D with manifold-3d's
 * `triangulate` (concave outlines and holes handled), facing down. A closed mesh stays closed; the
 * cap's vertices sit exactly on the plane. The result is moved so its bottom is y = 0 again.
 */
export function flattenBottom(mesh: WorkMesh, share: number, wasm: ManifoldToplevel): FlattenResult {
  const { min, max } = usedBounds(mesh);
  const cutHeight = share * (max[1] - min[1]);
  // The plane must be a float32 value, or cut vertices (stored as float32) would not lie exactly on it.
  const y0 = Math.fround(min[1] + cutHeight);
  // Vertices within 0.1 % of the height of the plane move onto it, so the cut leaves no slivers.
  const snap = SNAP_SHARE * (max[1] - min[1]);
  const snapped = mesh.positions.slice();
  for (let v = 1; v < snapped.length; v += 3) if (Math.abs(snapped[v]! - y0) <= snap) snapped[v] = y0;
  const clipped = clipBelow({ ...mesh, positions: snapped }, y0);
  const capped = capPlane(clipped, y0, wasm);
  const positions = capped.mesh.positions;
  for (let v = 1; v < positions.length; v += 3) positions[v] = positions[v]! - y0;
  return { mesh: capped.mesh, cutHeight, capTriangles: capped.added };
}

/** Keeps the part of every triangle with y ≥ y0 (Sutherland–Hodgman against one plane). */
function clipBelow(mesh: WorkMesh, y0: number): WorkMesh {
  const ix = mesh.indices;
  const p = mesh.positions;
  const n = vertexCount(mesh);
  const edges = buildEdges(ix, n);
  const cutVertex = new Int32Array(edges.edgeCount).fill(-1);
  const newPositions: number[] = [];
  const newColours: number[] = [];
  const out: number[] = [];
  const inside = (v: number) => p[v * 3 + 1]! >= y0;
  const polygon: number[] = [];
  for (let t = 0; t < ix.length / 3; t++) {
    const a = ix[t * 3]!, b = ix[t * 3 + 1]!, c = ix[t * 3 + 2]!;
    const ia = inside(a), ib = inside(b), ic = inside(c);
    if (ia && ib && ic) {
      out.push(a, b, c);
      continue;
    }
    if (!ia && !ib && !ic) continue;
    polygon.length = 0;
    for (let k = 0; k < 3; k++) {
      const u = ix[t * 3 + k]!, w = ix[t * 3 + ((k + 1) % 3)]!;
      if (inside(u)) push(polygon, u);
      if (inside(u) !== inside(w)) {
        const e = edges.edgeOf[t * 3 + k]!;
        const inner = inside(u) ? u : w;
        // An inside end already on the plane is the crossing itself: no sliver vertex next to it.
        if (p[inner * 3 + 1] === y0) push(polygon, inner);
        else {
          if (cutVertex[e] === -1) cutVertex[e] = n + addCut(u, w);
          push(polygon, cutVertex[e]!);
        }
      }
    }
    if (polygon.length > 1 && polygon[0] === polygon[polygon.length - 1]) polygon.pop();
    for (let i = 1; i + 1 < polygon.length; i++) out.push(polygon[0]!, polygon[i]!, polygon[i + 1]!);
  }
  function addCut(u: number, w: number): number {
    const yu = p[u * 3 + 1]!, yw = p[w * 3 + 1]!;
    const s = (y0 - yu) / (yw - yu);
    for (let a = 0; a < 3; a++) {
      newPositions.push(a === 1 ? y0 : p[u * 3 + a]! + s * (p[w * 3 + a]! - p[u * 3 + a]!));
      newColours.push(mesh.colours[u * 3 + a]! + s * (mesh.colours[w * 3 + a]! - mesh.colours[u * 3 + a]!));
    }
    return newPositions.length / 3 - 1;
  }
  const positions = new Float32Array(p.length + newPositions.length);
  positions.set(p);
  positions.set(newPositions, p.length);
  const colours = new Float32Array(positions.length);
  colours.set(mesh.colours);
  colours.set(newColours, p.length);
  return compactVertices({ positions, colours, indices: Uint32Array.from(out) });
}

function push(polygon: number[], v: number): void {
  if (polygon[polygon.length - 1] !== v) polygon.push(v);
}

/** Triangulates the boundary loops lying in y = y0, facing −y. */
function capPlane(mesh: WorkMesh, y0: number, wasm: ManifoldToplevel): { mesh: WorkMesh; added: number } {
  const p = mesh.positions;
  const { loops } = boundaryLoops(mesh);
  const flat = loops.filter((loop) => loop.every((v) => p[v * 3 + 1] === y0));
  if (flat.length === 0) return { mesh, added: 0 };
  // A cap runs against its loop. Seen from below (normal −y), (x, z) is a right-handed frame, so
  // the reversed loops are counter-clockwise outlines and clockwise holes, as triangulate expects.
  const points: number[] = [];
  const polygons = flat.map((loop) => {
    const reversed = Array.from(loop).reverse();
    points.push(...reversed);
    return reversed.map((v) => [p[v * 3]!, p[v * 3 + 2]!] as [number, number]);
  });
  let triangles: number[];
  try {
    triangles = wasm.triangulate(polygons, -1, false).flat().map((i) => points[i]!);
  } catch {
    triangles = [];
    for (const polygon of flat) {
      // Fall back to a fan: right for convex outlines, which most cuts through a body are.
      const loop = Array.from(polygon).reverse();
      for (let i = 1; i + 1 < loop.length; i++) triangles.push(loop[0]!, loop[i]!, loop[i + 1]!);
    }
  }
  const indices = new Uint32Array(mesh.indices.length + triangles.length);
  indices.set(mesh.indices);
  indices.set(triangles, mesh.indices.length);
  return { mesh: { ...mesh, indices }, added: triangles.length / 3 };
}
