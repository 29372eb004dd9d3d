/** A textured mesh with known answers for the textured exporters' and viewer's tests. */
import type { TextureImage, TexturedMesh } from '../../src/texture/types';
import { colouredCube, sideColour } from './export-fixtures';

/** Texels per side of one face's cell in `texturedCube`'s atlas (3 × 2 cells). */
export const CELL = 16;

/**
 * `colouredCube` with each side in its own cell of a 48 × 32 atlas: the cell holds the side's colour
 * in a checker of full and half brightness (so the image is not flat), a 2-texel margin of it
 * around the UVs, and the rest of the image black with alpha 0 (no island there).
 */
export function texturedCube(): TexturedMesh {
  const cube = colouredCube();
  const width = 3 * CELL;
  const height = 2 * CELL;
  const rgba = new Uint8Array(width * height * 4);
  const uvs = new Float32Array((cube.positions.length / 3) * 2);
  for (let face = 0; face < 6; face++) {
    const axis = face >> 1;
    const sign = face % 2 === 0 ? 1 : -1;
    const colour = sideColour(axis, sign);
    const x0 = (face % 3) * CELL;
    const y0 = Math.floor(face / 3) * CELL;
    for (let y = y0; y < y0 + CELL; y++) {
      for (let x = x0; x < x0 + CELL; x++) {
        const bright = ((x >> 2) + (y >> 2)) % 2 === 0 ? 1 : 0.5;
        const o = (y * width + x) * 4;
        for (let k = 0; k < 3; k++) rgba[o + k] = Math.round(colour[k]! * 255 * bright);
        rgba[o + 3] = 255;
      }
    }
    // colouredCube's corners go (−1, −1), (1, −1), (1, 1), (−1, 1) in the side's own axes.
    const corners = [[0, 0], [1, 0], [1, 1], [0, 1]] as const;
    corners.forEach(([a, b], corner) => {
      const v = face * 4 + corner;
      uvs[v * 2] = (x0 + 2 + a * (CELL - 4)) / width;
      uvs[v * 2 + 1] = (y0 + 2 + b * (CELL - 4)) / height;
    });
  }
  return { ...cube, uvs, texture: { width, height, rgba } };
}

/** The RGB of `image` at glTF UV (u, v), nearest texel. */
export function texelAt(image: Pick<TextureImage, 'width' | 'height'> & { rgba?: Uint8Array }, u: number, v: number, data = image.rgba!, channels = 4): [number, number, number] {
  const x = Math.min(image.width - 1, Math.floor(u * image.width));
  const y = Math.min(image.height - 1, Math.floor(v * image.height));
  const o = (y * image.width + x) * channels;
  return [data[o]!, data[o + 1]!, data[o + 2]!];
}
