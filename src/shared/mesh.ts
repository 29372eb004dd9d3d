/**
 * The pipeline's result, in glTF's frame (Y up, metres, right-handed; TripoSR's (x, y, z) becomes
 * (y, z, x): the photo's side faces +Z). Colours are sRGB 0..1 as TripoSR decodes them; the viewer and every exporter turn
 * them linear with `srgbToLinear` (src/lib/colour.ts) where the format wants linear.
 */
export interface ResultMesh {
  /** 3 floats per vertex. */
  positions: Float32Array;
  /** 3 floats per vertex, unit length. */
  normals: Float32Array;
  /** 3 floats per vertex, sRGB 0..1. */
  colours: Float32Array;
  /** 3 per triangle, counter-clockwise seen from outside. */
  indices: Uint32Array;
}
