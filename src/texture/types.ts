/** The contract of real textures (issue 16): the unwrap and bake produce it, the exporters and viewer read it. */
import type { ResultMesh } from '../shared/mesh';

/** Texture edge lengths the processing panel offers. */
export const TEXTURE_SIZES = [512, 1024, 2048] as const;
export type TextureSize = (typeof TEXTURE_SIZES)[number];

/** An RGBA8 image, sRGB, rows top to bottom (row 0 is v = 0 in glTF's UV convention). */
export interface TextureImage {
  width: number;
  height: number;
  /** width × height × 4 bytes; alpha 255 where a triangle covers the texel or dilation filled it. */
  rgba: Uint8Array;
}

/**
 * A mesh with one UV per vertex and a colour texture. Vertices are split along UV seams, so it has at
 * least as many vertices as the mesh it was unwrapped from. Its `colours` keep the vertex colours
 * (the "vertex colours" choice and the before/after view need them).
 */
export interface TexturedMesh extends ResultMesh {
  /** 2 floats per vertex in glTF's convention: u right, v down, 0..1 over the whole texture. */
  uvs: Float32Array;
  texture: TextureImage;
}

/**
 * Maps the processed mesh back to the unprocessed result's frame (glTF frame, metres):
 * source = processed × scale + offset. Processing only scales uniformly and translates.
 */
export interface MeshToSource {
  scale: number;
  offset: [number, number, number];
}

/** What a texture bake needs: the triplane the mesh came from and the processed mesh to texture. */
export interface BakeRequest {
  /** [1, 3, 40, 64, 64]: the GenerateResult's triplane or the history entry's copy. */
  triplane: Float32Array;
  /** The processed (decimated) mesh, in its processed frame and unit. */
  mesh: ResultMesh;
  /** Maps `mesh` back to the unprocessed result's frame. */
  toSource: MeshToSource;
  size: TextureSize;
  /** The generation's density threshold (default 25). */
  threshold: number;
}
