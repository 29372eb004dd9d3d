/** The surface point and normal of each baked texel, in TripoSR's frame (what the decoder reads). */
import type { ResultMesh } from '../shared/mesh';
import type { UvRaster } from './raster';
import type { MeshToSource } from './types';

/** Floats per texel record: position then unit normal, TripoSR frame (point-job.wgsl's vertex records). */
export const RECORD_FLOATS = 6;

/**
 * Per covered texel: the point of its triangle at the texel centre and the interpolated normal (the
 * face normal where the vertex normals cancel), mapped processed → source (`toSource`) → TripoSR's
 * frame, the inverse of toGltfFrame: (x, y, z) = (Z, X, Y).
 */
export function surfaceRecords(mesh: ResultMesh, raster: UvRaster, toSource: MeshToSource): Float32Array {
  const { positions: P, normals: N, indices } = mesh;
  const n = raster.texels.length;
  const out = new Float32Array(RECORD_FLOATS * n);
  const { scale, offset } = toSource;
  const hasNormals = N.length === P.length;
  for (let k = 0; k < n; k++) {
    const t = raster.triangles[k]!;
    const a = 3 * indices[3 * t]!, b = 3 * indices[3 * t + 1]!, c = 3 * indices[3 * t + 2]!;
    const wb = raster.bary[2 * k]!, wc = raster.bary[2 * k + 1]!;
    const wa = 1 - wb - wc;
    const p = [0, 1, 2].map((i) => (wa * P[a + i]! + wb * P[b + i]! + wc * P[c + i]!) * scale + offset[i]!);
    let nv = hasNormals ? [0, 1, 2].map((i) => wa * N[a + i]! + wb * N[b + i]! + wc * N[c + i]!) : [0, 0, 0];
    let length = Math.hypot(nv[0]!, nv[1]!, nv[2]!);
    if (!(length > 1e-6)) {
      const e1 = [0, 1, 2].map((i) => P[b + i]! - P[a + i]!);
      const e2 = [0, 1, 2].map((i) => P[c + i]! - P[a + i]!);
      nv = [e1[1]! * e2[2]! - e1[2]! * e2[1]!, e1[2]! * e2[0]! - e1[0]! * e2[2]!, e1[0]! * e2[1]! - e1[1]! * e2[0]!];
      length = Math.hypot(nv[0]!, nv[1]!, nv[2]!) || 1;
    }
    const o = RECORD_FLOATS * k;
    out[o] = p[2]!;
    out[o + 1] = p[0]!;
    out[o + 2] = p[1]!;
    out[o + 3] = nv[2]! / length;
    out[o + 4] = nv[0]! / length;
    out[o + 5] = nv[1]! / length;
  }
  return out;
}
