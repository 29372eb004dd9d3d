/** Mesh comparisons without a test runner, so the benchmark page can use them too. */

/** Normals may differ by float rounding of the gradient's arithmetic order; positions and indices may not. */
export const NORMAL_TOLERANCE = 1e-5;

/** The largest per-component difference of two equally long arrays (Infinity when lengths differ). */
export function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Whether two meshes are identical: positions and indices bit for bit, normals within NORMAL_TOLERANCE. */
export function identicalMeshes(
  a: { positions: Float32Array; normals: Float32Array; indices: Uint32Array },
  b: { positions: Float32Array; normals: Float32Array; indices: Uint32Array },
): boolean {
  return maxAbsDifference(a.positions, b.positions) === 0 && maxAbsDifference(a.indices, b.indices) === 0 && maxAbsDifference(a.normals, b.normals) <= NORMAL_TOLERANCE;
}
