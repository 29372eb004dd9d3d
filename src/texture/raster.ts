/** Texels of a UV layout: which triangle covers each texel centre, and where on it. */

/** The covered texels of a texture, in row-major order of first cover. */
export interface UvRaster {
  size: number;
  /** Texel index (row × size + column) of each covered texel. */
  texels: Uint32Array;
  /** The triangle covering it. */
  triangles: Uint32Array;
  /** Barycentric weights of the triangle's 2nd and 3rd vertex at the texel centre (the 1st is 1 − both). */
  bary: Float32Array;
}

/**
 * Rasterises the UV triangles (uvs 0..1, v down; texel (col, row) has its centre at ((col + ½) / size,
 * (row + ½) / size)). A texel belongs to the first triangle whose closed interior holds its centre, so
 * a texel on an edge two triangles share is baked once.
 */
export function rasterizeUvs(uvs: Float32Array, indices: Uint32Array, size: number): UvRaster {
  const owner = new Int32Array(size * size).fill(-1);
  const baryAll = new Float32Array(2 * size * size);
  let covered = 0;
  for (let t = 0; t < indices.length / 3; t++) {
    const a = indices[3 * t]!, b = indices[3 * t + 1]!, c = indices[3 * t + 2]!;
    const ax = uvs[2 * a]! * size, ay = uvs[2 * a + 1]! * size;
    const bx = uvs[2 * b]! * size, by = uvs[2 * b + 1]! * size;
    const cx = uvs[2 * c]! * size, cy = uvs[2 * c + 1]! * size;
    const area = (bx - ax) * (cy - ay) - (cx - ax) * (by - ay);
    if (area === 0 || !Number.isFinite(area)) continue;
    const x0 = Math.max(0, Math.floor(Math.min(ax, bx, cx) - 0.5));
    const x1 = Math.min(size - 1, Math.ceil(Math.max(ax, bx, cx) - 0.5));
    const y0 = Math.max(0, Math.floor(Math.min(ay, by, cy) - 0.5));
    const y1 = Math.min(size - 1, Math.ceil(Math.max(ay, by, cy) - 0.5));
    for (let y = y0; y <= y1; y++) {
      const py = y + 0.5;
      for (let x = x0; x <= x1; x++) {
        const px = x + 0.5;
        // Barycentrics of b and c; a tiny negative slack keeps centres on shared edges covered.
        const wb = ((px - ax) * (cy - ay) - (cx - ax) * (py - ay)) / area;
        const wc = ((bx - ax) * (py - ay) - (px - ax) * (by - ay)) / area;
        if (wb < -1e-6 || wc < -1e-6 || wb + wc > 1 + 1e-6) continue;
        const texel = y * size + x;
        if (owner[texel] !== -1) continue;
        owner[texel] = t;
        baryAll[2 * texel] = wb;
        baryAll[2 * texel + 1] = wc;
        covered++;
      }
    }
  }
  const texels = new Uint32Array(covered);
  const triangles = new Uint32Array(covered);
  const bary = new Float32Array(2 * covered);
  let k = 0;
  for (let texel = 0; texel < owner.length; texel++) {
    if (owner[texel] === -1) continue;
    texels[k] = texel;
    triangles[k] = owner[texel]!;
    bary[2 * k] = baryAll[2 * texel]!;
    bary[2 * k + 1] = baryAll[2 * texel + 1]!;
    k++;
  }
  return { size, texels, triangles, bary };
}
