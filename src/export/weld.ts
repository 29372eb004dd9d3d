/**
 * Welding by position and the closed/open test. Formats that describe topology (3MF, STEP) need
 * one vertex per position: a mesh with split normals or colour seams repeats positions, and
 * written as is it would read as open along every seam.
 */

/** A mesh whose vertices are unique positions. */
export interface WeldedMesh {
  /** 3 per unique position. */
  positions: Float64Array;
  /** 3 per kept triangle, into `positions`. */
  indices: Uint32Array;
  /** For each kept triangle, its index in the input (to look up per-corner data such as colours). */
  sourceTriangle: Uint32Array;
  /** Triangles dropped because two of their corners welded into one. */
  collapsed: number;
}

/**
 * Merges vertices with exactly the same coordinates (−0 and 0 alike) and drops triangles that
 * collapse onto an edge or a point.
 */
export function weldByPosition(positions: ArrayLike<number>, indices: Uint32Array): WeldedMesh {
  const vertexCount = Math.floor(positions.length / 3);
  const remap = new Uint32Array(vertexCount);
  const unique = new Map<string, number>();
  const kept: number[] = [];
  for (let v = 0; v < vertexCount; v++) {
    // `+ 0` turns −0 into 0 so both weld.
    const key = `${positions[v * 3]! + 0},${positions[v * 3 + 1]! + 0},${positions[v * 3 + 2]! + 0}`;
    let id = unique.get(key);
    if (id === undefined) {
      id = unique.size;
      unique.set(key, id);
      kept.push(v);
    }
    remap[v] = id;
  }
  const out = new Float64Array(kept.length * 3);
  kept.forEach((v, i) => {
    out[i * 3] = positions[v * 3]!;
    out[i * 3 + 1] = positions[v * 3 + 1]!;
    out[i * 3 + 2] = positions[v * 3 + 2]!;
  });
  const triangleCount = indices.length / 3;
  const welded = new Uint32Array(indices.length);
  const sourceTriangle = new Uint32Array(triangleCount);
  let t = 0;
  for (let s = 0; s < triangleCount; s++) {
    const a = remap[indices[s * 3]!]!;
    const b = remap[indices[s * 3 + 1]!]!;
    const c = remap[indices[s * 3 + 2]!]!;
    if (a === b || b === c || c === a) continue;
    welded[t * 3] = a;
    welded[t * 3 + 1] = b;
    welded[t * 3 + 2] = c;
    sourceTriangle[t++] = s;
  }
  return {
    positions: out,
    indices: welded.slice(0, t * 3),
    sourceTriangle: sourceTriangle.slice(0, t),
    collapsed: triangleCount - t,
  };
}

/** Edges used by other than exactly two triangles (0 for a closed mesh). */
export function openEdgeCount(indices: Uint32Array, vertexCount: number): number {
  // Sorting a typed array of edge keys is several times faster than counting in a Map at 1M edges.
  const keys = new Float64Array(indices.length);
  for (let t = 0; t < indices.length; t += 3) {
    for (let k = 0; k < 3; k++) {
      const a = indices[t + k]!;
      const b = indices[t + ((k + 1) % 3)]!;
      keys[t + k] = a < b ? a * vertexCount + b : b * vertexCount + a;
    }
  }
  keys.sort();
  let open = 0;
  for (let i = 0; i < keys.length; ) {
    let j = i + 1;
    while (j < keys.length && keys[j] === keys[i]) j++;
    if (j - i !== 2) open++;
    i = j;
  }
  return open;
}

/** True when the welded mesh is closed: every edge joins exactly two triangles. */
export function isClosed(welded: WeldedMesh): boolean {
  return welded.indices.length > 0 && openEdgeCount(welded.indices, welded.positions.length / 3) === 0;
}
