/** The texture as the exporters write it: a PNG, and the test that tells a textured mesh apart. */
import { encode } from 'fast-png';
import type { ResultMesh } from '../shared/mesh';
import type { TextureImage, TexturedMesh } from '../texture/types';

/** True when `mesh` carries UVs and a texture (a bake's result), so textured formats write them. */
export function isTextured(mesh: ResultMesh): mesh is TexturedMesh {
  const candidate = mesh as Partial<TexturedMesh>;
  return candidate.uvs instanceof Float32Array && candidate.texture !== undefined;
}

/**
 * Encodes `image` as an 8-bit RGB PNG. Alpha is dropped: every format here reads the texture as
 * opaque colour, and texels outside the islands (alpha 0) would otherwise show as holes in viewers
 * that honour PNG alpha when mip-mapping.
 */
export function texturePng(image: TextureImage): Uint8Array<ArrayBuffer> {
  const { width, height, rgba } = image;
  if (rgba.length !== width * height * 4) {
    throw new Error(`texturePng: ${rgba.length} bytes do not make a ${width} × ${height} RGBA image.`);
  }
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0, o = 0; i < rgba.length; i += 4, o += 3) {
    rgb[o] = rgba[i]!;
    rgb[o + 1] = rgba[i + 1]!;
    rgb[o + 2] = rgba[i + 2]!;
  }
  // fast-png returns a fresh array on its own ArrayBuffer; its type only says ArrayBufferLike.
  return encode({ width, height, data: rgb, channels: 3, depth: 8 }) as Uint8Array<ArrayBuffer>;
}

/** Throws when the UVs do not match the vertices: a bug upstream, not something the user can fix. */
export function checkTextured(mesh: TexturedMesh): void {
  const vertexCount = mesh.positions.length / 3;
  if (mesh.uvs.length !== vertexCount * 2) {
    throw new Error(`export: ${mesh.uvs.length / 2} UVs for ${vertexCount} vertices.`);
  }
  for (let i = 0; i < mesh.uvs.length; i++) {
    if (!Number.isFinite(mesh.uvs[i]!)) throw new Error(`export: UV ${i >> 1} is not a number.`);
  }
}
