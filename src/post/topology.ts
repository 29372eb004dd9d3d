/**
 * Edge and component structure of an indexed triangle mesh, built with counting sorts over typed
 * arrays (linear time, no string keys) so it stays fast at millions of triangles.
 */

/**
 * Undirected edges. Half-edge h is corner h % 3 of triangle ⌊h / 3⌋, from its vertex to the next
 * corner's. `edgeOf[h]` is its edge; the half-edges of edge e are
 * `halfEdges[offset[e] .. offset[e + 1])`, so `offset[e + 1] − offset[e]` triangles use it
 * (1 = boundary, 2 = manifold, more = non-manifold).
 */
export interface EdgeTable {
  edgeCount: number;
  edgeOf: Int32Array;
  offset: Int32Array;
  halfEdges: Int32Array;
  /** The edge's endpoints (lower vertex id first). */
  from: Uint32Array;
  to: Uint32Array;
}

/** Builds the undirected edge table of `indices` over `vertices` vertices. */
export function buildEdges(indices: Uint32Array, vertices: number): EdgeTable {
  const halfCount = indices.length - (indices.length % 3);
  // Bucket half-edges by their lower endpoint (counting sort), then match upper endpoints per bucket.
  const start = new Int32Array(vertices + 1);
  for (let h = 0; h < halfCount; h++) {
    const a = indices[h]!, b = indices[nextHalf(h)]!;
    start[(a < b ? a : b) + 1]!++;
  }
  for (let v = 0; v < vertices; v++) start[v + 1]! += start[v]!;
  const bucket = new Int32Array(halfCount);
  const cursor = start.slice(0, vertices);
  for (let h = 0; h < halfCount; h++) {
    const a = indices[h]!, b = indices[nextHalf(h)]!;
    bucket[cursor[a < b ? a : b]!++] = h;
  }
  const edgeOf = new Int32Array(halfCount).fill(-1);
  let edgeCount = 0;
  const from = new Uint32Array(halfCount);
  const to = new Uint32Array(halfCount);
  for (let v = 0; v < vertices; v++) {
    const end = start[v + 1]!;
    for (let i = start[v]!; i < end; i++) {
      const h = bucket[i]!;
      if (edgeOf[h] !== -1) continue;
      const upper = otherEnd(indices, h, v);
      const e = edgeCount++;
      edgeOf[h] = e;
      from[e] = v;
      to[e] = upper;
      for (let j = i + 1; j < end; j++) {
        const g = bucket[j]!;
        if (edgeOf[g] === -1 && otherEnd(indices, g, v) === upper) edgeOf[g] = e;
      }
    }
  }
  const offset = new Int32Array(edgeCount + 1);
  for (let h = 0; h < halfCount; h++) offset[edgeOf[h]! + 1]!++;
  for (let e = 0; e < edgeCount; e++) offset[e + 1]! += offset[e]!;
  const halfEdges = new Int32Array(halfCount);
  const fill = offset.slice(0, edgeCount);
  for (let h = 0; h < halfCount; h++) halfEdges[fill[edgeOf[h]!]!++] = h;
  return { edgeCount, edgeOf, offset, halfEdges, from: from.slice(0, edgeCount), to: to.slice(0, edgeCount) };
}

/** The half-edge after h in its triangle. */
export function nextHalf(h: number): number {
  return h % 3 === 2 ? h - 2 : h + 1;
}

function otherEnd(indices: Uint32Array, h: number, v: number): number {
  const a = indices[h]!;
  return a === v ? indices[nextHalf(h)]! : a;
}

/** How many triangles use edge e. */
export function edgeUse(edges: EdgeTable, e: number): number {
  return edges.offset[e + 1]! - edges.offset[e]!;
}

/** Boundary (used once) and non-manifold (used three times or more) edge counts. */
export function edgeStats(edges: EdgeTable): { boundary: number; nonManifold: number } {
  let boundary = 0;
  let nonManifold = 0;
  for (let e = 0; e < edges.edgeCount; e++) {
    const use = edgeUse(edges, e);
    if (use === 1) boundary++;
    else if (use > 2) nonManifold++;
  }
  return { boundary, nonManifold };
}

/** Disjoint sets over 0..n−1 in a typed array (path halving): `find` gives a set's root, `union` joins two sets. */
export function disjointSets(n: number): { find: (i: number) => number; union: (a: number, b: number) => void } {
  const parent = new Int32Array(n);
  for (let i = 0; i < n; i++) parent[i] = i;
  const find = (i: number): number => {
    while (parent[i] !== i) {
      const up = parent[parent[i]!]!;
      parent[i] = up;
      i = up;
    }
    return i;
  };
  const union = (a: number, b: number): void => {
    const ra = find(a), rb = find(b);
    if (ra !== rb) parent[rb] = ra;
  };
  return { find, union };
}

/** Connected components over shared vertices: a component id per triangle, ids 0..count−1 by first triangle. */
export function triangleComponents(indices: Uint32Array, vertices: number): { count: number; ofTriangle: Int32Array } {
  const { find, union } = disjointSets(vertices);
  const triangles = Math.floor(indices.length / 3);
  for (let t = 0; t < triangles; t++) {
    union(indices[t * 3]!, indices[t * 3 + 1]!);
    union(indices[t * 3]!, indices[t * 3 + 2]!);
  }
  const label = new Int32Array(vertices).fill(-1);
  const ofTriangle = new Int32Array(triangles);
  let count = 0;
  for (let t = 0; t < triangles; t++) {
    const root = find(indices[t * 3]!);
    if (label[root] === -1) label[root] = count++;
    ofTriangle[t] = label[root]!;
  }
  return { count, ofTriangle };
}
