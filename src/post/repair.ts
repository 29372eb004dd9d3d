/** Topology repair: non-manifold edges and vertices, and consistent outward orientation. */
import { buildEdges, disjointSets, edgeUse, nextHalf, triangleComponents, type EdgeTable } from './topology';
import { componentVolumes } from './cleanup';
import { compactVertices, keepTriangles, vertexCount, type WorkMesh } from './work-mesh';

/**
 * Removes triangles over the same three vertices: an exact copy loses one, and a pair of opposite
 * windings (a flap folded flat onto itself, which meshoptimizer's collapses can leave on an edge
 * of the surface) loses both, which leaves the surface around it closed.
 */
export function dropDuplicateTriangles(mesh: WorkMesh, edges: EdgeTable = buildEdges(mesh.indices, vertexCount(mesh))): { mesh: WorkMesh; dropped: number } {
  const ix = mesh.indices;
  const triangles = ix.length / 3;
  const keep = new Uint8Array(triangles).fill(1);
  let dropped = 0;
  for (let e = 0; e < edges.edgeCount; e++) {
    const begin = edges.offset[e]!, end = edges.offset[e + 1]!;
    if (end - begin < 2) continue;
    for (let i = begin; i < end; i++) {
      const t = Math.floor(edges.halfEdges[i]! / 3);
      if (!keep[t]) continue;
      for (let j = i + 1; j < end; j++) {
        const u = Math.floor(edges.halfEdges[j]! / 3);
        if (!keep[u] || u === t || !sameVertices(ix, t, u)) continue;
        keep[u] = 0;
        dropped++;
        if (!sameWinding(ix, t, u)) {
          keep[t] = 0;
          dropped++;
          break;
        }
      }
    }
  }
  if (dropped === 0) return { mesh, dropped };
  return { mesh: compactVertices({ ...mesh, indices: keepTriangles(ix, keep) }), dropped };
}

function sameVertices(ix: Uint32Array, t: number, u: number): boolean {
  const a = ix[t * 3]!, b = ix[t * 3 + 1]!, c = ix[t * 3 + 2]!;
  for (let k = 0; k < 3; k++) {
    const v = ix[u * 3 + k]!;
    if (v !== a && v !== b && v !== c) return false;
  }
  return true;
}

function sameWinding(ix: Uint32Array, t: number, u: number): boolean {
  const a = ix[t * 3]!, b = ix[t * 3 + 1]!;
  for (let k = 0; k < 3; k++) if (ix[u * 3 + k] === a) return ix[u * 3 + ((k + 1) % 3)] === b;
  return false;
}

/** Drops every triangle on an edge that three or more triangles share; the holes left are filled later. */
export function dropNonManifoldEdges(mesh: WorkMesh, edges: EdgeTable): { mesh: WorkMesh; dropped: number } {
  const triangles = mesh.indices.length / 3;
  const keep = new Uint8Array(triangles).fill(1);
  let dropped = 0;
  for (let e = 0; e < edges.edgeCount; e++) {
    if (edgeUse(edges, e) <= 2) continue;
    for (let i = edges.offset[e]!; i < edges.offset[e + 1]!; i++) {
      const t = Math.floor(edges.halfEdges[i]! / 3);
      if (keep[t]) {
        keep[t] = 0;
        dropped++;
      }
    }
  }
  if (dropped === 0) return { mesh, dropped };
  return { mesh: compactVertices({ ...mesh, indices: keepTriangles(mesh.indices, keep) }), dropped };
}

/**
 * Gives each fan of triangles around a vertex its own copy of the vertex (same position and
 * colour), so that no vertex joins two surfaces that touch only there ("bow-tie" vertices). Fans
 * are corners joined across edges two triangles share.
 */
export function splitNonManifoldVertices(mesh: WorkMesh, edges: EdgeTable): { mesh: WorkMesh; split: number } {
  const ix = mesh.indices;
  const corners = ix.length;
  const { find, union } = disjointSets(corners);
  for (let e = 0; e < edges.edgeCount; e++) {
    if (edgeUse(edges, e) !== 2) continue;
    const h1 = edges.halfEdges[edges.offset[e]!]!;
    const h2 = edges.halfEdges[edges.offset[e]! + 1]!;
    // Corner h is at vertex ix[h]; the other end of half-edge h is corner nextHalf(h).
    const a1 = h1, b1 = nextHalf(h1);
    if (ix[h2] === ix[a1]) {
      union(a1, h2);
      union(b1, nextHalf(h2));
    } else {
      union(a1, nextHalf(h2));
      union(b1, h2);
    }
  }
  const n = vertexCount(mesh);
  const rootOfVertex = new Int32Array(n).fill(-1);
  const copyOfRoot = new Int32Array(corners).fill(-1);
  const extra: number[] = [];
  const indices = ix.slice();
  for (let c = 0; c < corners; c++) {
    const v = ix[c]!;
    const root = find(c);
    if (rootOfVertex[v] === -1) rootOfVertex[v] = root;
    if (rootOfVertex[v] === root) continue;
    if (copyOfRoot[root] === -1) {
      copyOfRoot[root] = n + extra.length;
      extra.push(v);
    }
    indices[c] = copyOfRoot[root]!;
  }
  if (extra.length === 0) return { mesh, split: 0 };
  const positions = new Float32Array((n + extra.length) * 3);
  const colours = new Float32Array((n + extra.length) * 3);
  positions.set(mesh.positions);
  colours.set(mesh.colours);
  extra.forEach((v, i) => {
    positions.set(mesh.positions.subarray(v * 3, v * 3 + 3), (n + i) * 3);
    colours.set(mesh.colours.subarray(v * 3, v * 3 + 3), (n + i) * 3);
  });
  return { mesh: { positions, colours, indices }, split: extra.length };
}

/** What {@link orientOutward} did. */
export interface OrientResult {
  mesh: WorkMesh;
  /** Triangles whose winding was reversed. */
  flipped: number;
  /** Edges where neighbours still disagree (a non-orientable surface such as a Möbius strip). */
  conflicts: number;
}

/**
 * Makes neighbouring triangles agree (a breadth-first walk over edges two triangles share, flipping
 * a neighbour whose shared edge runs the same way), then reverses every component whose volume
 * about its centroid is negative, so the surface faces outward. Inner shells of a hollow solid
 * would be turned outward too; marching cubes does not make them, and cleanup drops small ones.
 */
export function orientOutward(mesh: WorkMesh, edges: EdgeTable = buildEdges(mesh.indices, vertexCount(mesh))): OrientResult {
  const ix = mesh.indices;
  const triangles = ix.length / 3;
  const flip = new Int8Array(triangles).fill(-1);
  const queue = new Int32Array(triangles);
  let conflicts = 0;
  for (let seed = 0; seed < triangles; seed++) {
    if (flip[seed] !== -1) continue;
    flip[seed] = 0;
    let head = 0;
    let tail = 0;
    queue[tail++] = seed;
    while (head < tail) {
      const t = queue[head++]!;
      for (let k = 0; k < 3; k++) {
        const h = t * 3 + k;
        const e = edges.edgeOf[h]!;
        if (edgeUse(edges, e) !== 2) continue;
        const first = edges.halfEdges[edges.offset[e]!]!;
        const g = first === h ? edges.halfEdges[edges.offset[e]! + 1]! : first;
        const u = Math.floor(g / 3);
        // Agreeing neighbours traverse the shared edge in opposite directions.
        const sameDirection = ix[h] === ix[g];
        const wanted = (flip[t]! ^ (sameDirection ? 1 : 0)) as 0 | 1;
        if (flip[u] === -1) {
          flip[u] = wanted;
          queue[tail++] = u;
        } else if (flip[u] !== wanted) conflicts++;
      }
    }
  }
  const indices = ix.slice();
  for (let t = 0; t < triangles; t++) if (flip[t] === 1) swapWinding(indices, t);
  const oriented: WorkMesh = { ...mesh, indices };
  const { count, ofTriangle } = triangleComponents(indices, vertexCount(mesh));
  const volumes = signedComponentVolumes(oriented, ofTriangle, count);
  let flipped = 0;
  for (let t = 0; t < triangles; t++) {
    if (volumes[ofTriangle[t]!]! < 0) swapWinding(indices, t);
    if ((flip[t] === 1) !== (volumes[ofTriangle[t]!]! < 0)) flipped++;
  }
  return { mesh: oriented, flipped, conflicts: Math.ceil(conflicts / 2) };
}

function swapWinding(indices: Uint32Array, t: number): void {
  const b = indices[t * 3 + 1]!;
  indices[t * 3 + 1] = indices[t * 3 + 2]!;
  indices[t * 3 + 2] = b;
}

/** Signed volume per component about its centroid (componentVolumes without the absolute value). */
function signedComponentVolumes(mesh: WorkMesh, ofTriangle: Int32Array, count: number): Float64Array {
  return componentVolumes(mesh, ofTriangle, count, true);
}
