/** Removing floaters: small disconnected pieces around the main object. */
import { triangleComponents } from './topology';
import { compactVertices, keepTriangles, vertexCount, type WorkMesh } from './work-mesh';

/** What {@link removeFloaters} did. */
export interface FloaterResult {
  mesh: WorkMesh;
  components: number;
  removedComponents: number;
  removedTriangles: number;
}

/**
 * Keeps the largest component and every component whose size is at least `keepShare` of the
 * largest's. A component's size is |Σ signed tetrahedron volume| taken about the component's own
 * centroid: the exact enclosed volume for a closed component (where the apex does not matter), and
 * for an open one the volume of the cone from its centroid over its surface, a proxy that is
 * still large for a big open shell and near zero for a flat scrap.
 */
export function removeFloaters(mesh: WorkMesh, keepShare: number): FloaterResult {
  const { count, ofTriangle } = triangleComponents(mesh.indices, vertexCount(mesh));
  const triangles = ofTriangle.length;
  if (count <= 1) return { mesh, components: count, removedComponents: 0, removedTriangles: 0 };
  const sizes = componentVolumes(mesh, ofTriangle, count);
  let largest = 0;
  for (let c = 1; c < count; c++) if (sizes[c]! > sizes[largest]!) largest = c;
  const threshold = sizes[largest]! * keepShare;
  const keepComponent = new Uint8Array(count);
  let removedComponents = 0;
  for (let c = 0; c < count; c++) {
    keepComponent[c] = c === largest || sizes[c]! >= threshold ? 1 : 0;
    if (!keepComponent[c]) removedComponents++;
  }
  const keep = new Uint8Array(triangles);
  let removedTriangles = 0;
  for (let t = 0; t < triangles; t++) {
    keep[t] = keepComponent[ofTriangle[t]!]!;
    if (!keep[t]) removedTriangles++;
  }
  if (removedTriangles === 0) return { mesh, components: count, removedComponents, removedTriangles };
  const kept = compactVertices({ ...mesh, indices: keepTriangles(mesh.indices, keep) });
  return { mesh: kept, components: count, removedComponents, removedTriangles };
}

/** |Signed volume| of each component about its own vertex centroid (signed when `signed`). */
export function componentVolumes(mesh: WorkMesh, ofTriangle: Int32Array, count: number, signed = false): Float64Array {
  const p = mesh.positions;
  const ix = mesh.indices;
  const centre = new Float64Array(count * 4);
  for (let t = 0; t < ofTriangle.length; t++) {
    const c = ofTriangle[t]! * 4;
    for (let k = 0; k < 3; k++) {
      const v = ix[t * 3 + k]! * 3;
      centre[c] = centre[c]! + p[v]!;
      centre[c + 1] = centre[c + 1]! + p[v + 1]!;
      centre[c + 2] = centre[c + 2]! + p[v + 2]!;
    }
    centre[c + 3] = centre[c + 3]! + 3;
  }
  const volume = new Float64Array(count);
  for (let t = 0; t < ofTriangle.length; t++) {
    const comp = ofTriangle[t]!;
    const c = comp * 4;
    const w = centre[c + 3]!;
    const ox = centre[c]! / w, oy = centre[c + 1]! / w, oz = centre[c + 2]! / w;
    const a = ix[t * 3]! * 3, b = ix[t * 3 + 1]! * 3, d = ix[t * 3 + 2]! * 3;
    const ax = p[a]! - ox, ay = p[a + 1]! - oy, az = p[a + 2]! - oz;
    const bx = p[b]! - ox, by = p[b + 1]! - oy, bz = p[b + 2]! - oz;
    const dx = p[d]! - ox, dy = p[d + 1]! - oy, dz = p[d + 2]! - oz;
    volume[comp] = volume[comp]! + (ax * (by * dz - bz * dy) + ay * (bz * dx - bx * dz) + az * (bx * dy - by * dx)) / 6;
  }
  if (!signed) for (let c = 0; c < count; c++) volume[c] = Math.abs(volume[c]!);
  return volume;
}
