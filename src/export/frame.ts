/**
 * Axes and units for the formats. The mesh is in glTF's frame (Y up). Printing and CAD formats
 * (STL, 3MF, STEP, DXF) want Z up with the model standing on z = 0, because slicers drop a model on
 * the bed at z = 0 and CAD tools show +Z as up; GLB, OBJ, PLY and USDZ stay Y up.
 */

/**
 * glTF (x, y, z) → (x, −z, y), times `scale`: a rotation of +90° about X, so triangles keep their
 * winding (outward stays outward), the model's up becomes +Z and its front (+Z) faces −Y, the
 * front view of CAD tools.
 */
export function rotateToZUp(vectors: Float32Array, scale = 1): Float64Array {
  const out = new Float64Array(vectors.length);
  for (let i = 0; i + 2 < vectors.length; i += 3) {
    out[i] = vectors[i]! * scale;
    out[i + 1] = -vectors[i + 2]! * scale;
    out[i + 2] = vectors[i + 1]! * scale;
  }
  return out;
}

/** Z-up positions (see `rotateToZUp`) moved up or down so that the lowest point is at z = 0. */
export function zUpOnBed(positions: Float32Array, scale = 1): Float64Array {
  const out = rotateToZUp(positions, scale);
  let minZ = Infinity;
  for (let i = 2; i < out.length; i += 3) minZ = Math.min(minZ, out[i]!);
  if (Number.isFinite(minZ) && minZ !== 0) {
    for (let i = 2; i < out.length; i += 3) out[i]! -= minZ;
  }
  return out;
}

/** Positions times `scale`, in a new array (mesh buffers are never mutated). */
export function scaled(positions: Float32Array, scale: number): Float32Array<ArrayBuffer> {
  const out = new Float32Array(positions.length);
  for (let i = 0; i < positions.length; i++) out[i] = positions[i]! * scale;
  return out;
}

/** Unit normal of triangle (a, b, c) of `positions` (3 per vertex), or zeros when degenerate. */
export function faceNormal(
  positions: ArrayLike<number>,
  a: number,
  b: number,
  c: number,
): [number, number, number] {
  const ux = positions[b * 3]! - positions[a * 3]!;
  const uy = positions[b * 3 + 1]! - positions[a * 3 + 1]!;
  const uz = positions[b * 3 + 2]! - positions[a * 3 + 2]!;
  const vx = positions[c * 3]! - positions[a * 3]!;
  const vy = positions[c * 3 + 1]! - positions[a * 3 + 1]!;
  const vz = positions[c * 3 + 2]! - positions[a * 3 + 2]!;
  const nx = uy * vz - uz * vy;
  const ny = uz * vx - ux * vz;
  const nz = ux * vy - uy * vx;
  const length = Math.hypot(nx, ny, nz);
  return length > 0 && Number.isFinite(length) ? [nx / length, ny / length, nz / length] : [0, 0, 0];
}
