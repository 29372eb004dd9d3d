/** Reads a stored GLB back into the pipeline's mesh, so that reopening an entry needs no generation. */
import { WebIO } from '@gltf-transform/core';
import { AppError } from '../lib/errors';
import type { ResultMesh } from '../shared/mesh';

/** One linear channel (0..1) to sRGB: the inverse of `srgbToLinear` (IEC 61966-2-1). */
export function linearToSrgb(c: number): number {
  return c <= 0.0031308 ? c * 12.92 : 1.055 * Math.pow(c, 1 / 2.4) - 0.055;
}

/**
 * The first primitive of a GLB written by `meshToGlb`, as a ResultMesh: linear COLOR_0 back to sRGB,
 * indices as Uint32. Throws AppError 'history-corrupt' for bytes that are not such a GLB.
 */
export async function readGlbMesh(bytes: Uint8Array): Promise<ResultMesh> {
  const corrupt = (detail: string, cause?: unknown): AppError =>
    new AppError('history-corrupt', `The stored model cannot be read (${detail}); delete this history entry and generate it again.`, { cause });
  let primitive;
  try {
    const doc = await new WebIO().readBinary(bytes);
    primitive = doc.getRoot().listMeshes()[0]?.listPrimitives()[0];
  } catch (error) {
    throw corrupt('not a GLB file', error);
  }
  const positions = primitive?.getAttribute('POSITION')?.getArray();
  const normals = primitive?.getAttribute('NORMAL')?.getArray();
  const colours = primitive?.getAttribute('COLOR_0');
  const indices = primitive?.getIndices()?.getArray();
  if (!(positions instanceof Float32Array) || !(normals instanceof Float32Array) || !indices) throw corrupt('no mesh in the file');
  const srgb = new Float32Array(positions.length).fill(0.8);
  if (colours && colours.getElementSize() === 3) {
    const linear = colours.getArray()!;
    for (let i = 0; i < srgb.length; i++) srgb[i] = linearToSrgb(Number(linear[i]));
  }
  return { positions: new Float32Array(positions), normals: new Float32Array(normals), colours: srgb, indices: Uint32Array.from(indices) };
}
