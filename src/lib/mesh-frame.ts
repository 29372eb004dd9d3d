/** Mesh orientation and extent: TripoSR's frame to glTF's, and axis-aligned bounds. */

/** Axis-aligned bounds of a mesh. */
export interface MeshBounds {
  min: [number, number, number];
  max: [number, number, number];
}

/**
 * Rotates positions and normals, in place, from TripoSR's frame (x, y, z) to glTF's Y-up frame:
 * (X, Y, Z) = (y, z, x). TripoSR's input view is view 0 of `get_spherical_cameras` (tsr/utils.py,
 * "x back, y right, z up"): the camera sits on +x looking at the origin, image right is +y and
 * image up is +z (`get_ray_directions` maps columns to +right and rows to −up). glTF viewers
 * (three.js, <model-viewer>) look from +Z with +X right and +Y up, so this cyclic permutation
 * puts the photo's side in front of the default camera, unmirrored. It has determinant +1 (a
 * rotation, not a reflection), so triangle winding, and with it which side is outside, is kept.
 */
export function toGltfFrame(positions: Float32Array, normals: Float32Array): void {
  rotate(positions);
  rotate(normals);
}

function rotate(v: Float32Array): void {
  for (let i = 0; i + 2 < v.length; i += 3) {
    const x = v[i]!;
    const y = v[i + 1]!;
    const z = v[i + 2]!;
    v[i] = y;
    v[i + 1] = z;
    v[i + 2] = x;
  }
}

/** Axis-aligned bounds of `positions` (3 floats per vertex); all zeros for an empty mesh. */
export function meshBounds(positions: Float32Array): MeshBounds {
  if (positions.length < 3) return { min: [0, 0, 0], max: [0, 0, 0] };
  const min: [number, number, number] = [Infinity, Infinity, Infinity];
  const max: [number, number, number] = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i + 2 < positions.length; i += 3) {
    for (let a = 0; a < 3; a++) {
      const value = positions[i + a]!;
      if (value < min[a]!) min[a] = value;
      if (value > max[a]!) max[a] = value;
    }
  }
  return { min, max };
}
