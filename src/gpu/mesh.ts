import type { Bounds, Dims } from './constants';

/** An indexed triangle mesh: 3 floats per vertex position and normal, 3 indices per triangle. */
export interface IndexedMesh {
  positions: Float32Array;
  normals: Float32Array;
  indices: Uint32Array;
}

/** Options shared by the GPU marching cubes and its CPU reference. */
export interface MarchingCubesOptions {
  /** World box of the lattice; without it positions are in grid units (0..n−1). */
  bounds?: Bounds;
  /** Treat the lattice as surrounded by one outside layer, so a shape cut by the box is closed. */
  pad?: boolean;
}

/** Number of elements a field of these dimensions holds. */
export function fieldLength(dims: Dims): number {
  return dims[0] * dims[1] * dims[2];
}

/** Throws unless dims are whole numbers ≥ 2 and the field holds exactly that many values. */
export function checkDims(dims: Dims, length?: number): void {
  if (!dims.every((n) => Number.isInteger(n) && n >= 2)) {
    throw new RangeError(`Field dimensions must be whole numbers of at least 2, got ${dims.join('×')}.`);
  }
  if (length !== undefined && length !== fieldLength(dims)) {
    throw new RangeError(
      `Field holds ${length} values but ${dims.join('×')} needs ${fieldLength(dims)}.`,
    );
  }
}

/** Grid-to-world mapping per axis: world = origin + grid * spacing. */
export function gridToWorld(dims: Dims, bounds?: Bounds): { origin: Dims; spacing: Dims } {
  if (!bounds) return { origin: [0, 0, 0], spacing: [1, 1, 1] };
  const spacing = dims.map((n, a) => (bounds[1][a]! - bounds[0][a]!) / (n - 1)) as Dims;
  return { origin: [...bounds[0]] as Dims, spacing };
}

/**
 * Replaces zero normals (the field's gradient vanished there) by the normalised sum of the adjacent
 * triangles' area-weighted face normals, and by +Y where that is zero too: glTF rejects non-unit
 * normals. Runs in place; the GPU and CPU paths both finish with it.
 */
export function finishNormals(mesh: IndexedMesh): IndexedMesh {
  const { positions: p, normals: n, indices } = mesh;
  const vertexCount = n.length / 3;
  let missing = false;
  for (let v = 0; v < vertexCount && !missing; v++) {
    missing = n[3 * v] === 0 && n[3 * v + 1] === 0 && n[3 * v + 2] === 0;
  }
  if (!missing) return mesh;
  const zero = new Uint8Array(vertexCount);
  for (let v = 0; v < vertexCount; v++) {
    zero[v] = n[3 * v] === 0 && n[3 * v + 1] === 0 && n[3 * v + 2] === 0 ? 1 : 0;
  }
  const sum = new Float64Array(vertexCount * 3);
  for (let t = 0; t < indices.length; t += 3) {
    const a = indices[t]!;
    const b = indices[t + 1]!;
    const c = indices[t + 2]!;
    if (!zero[a] && !zero[b] && !zero[c]) continue;
    const ux = p[3 * b]! - p[3 * a]!;
    const uy = p[3 * b + 1]! - p[3 * a + 1]!;
    const uz = p[3 * b + 2]! - p[3 * a + 2]!;
    const vx = p[3 * c]! - p[3 * a]!;
    const vy = p[3 * c + 1]! - p[3 * a + 1]!;
    const vz = p[3 * c + 2]! - p[3 * a + 2]!;
    const fx = uy * vz - uz * vy;
    const fy = uz * vx - ux * vz;
    const fz = ux * vy - uy * vx;
    for (const v of [a, b, c]) {
      if (!zero[v]) continue;
      sum[3 * v] = sum[3 * v]! + fx;
      sum[3 * v + 1] = sum[3 * v + 1]! + fy;
      sum[3 * v + 2] = sum[3 * v + 2]! + fz;
    }
  }
  for (let v = 0; v < vertexCount; v++) {
    if (!zero[v]) continue;
    const len = Math.hypot(sum[3 * v]!, sum[3 * v + 1]!, sum[3 * v + 2]!);
    if (len > 0) {
      n[3 * v] = sum[3 * v]! / len;
      n[3 * v + 1] = sum[3 * v + 1]! / len;
      n[3 * v + 2] = sum[3 * v + 2]! / len;
    } else {
      n[3 * v + 1] = 1;
    }
  }
  return mesh;
}
