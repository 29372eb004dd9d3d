/** The texture bake: unwrap, rasterise the UV layout, colour every covered texel, dilate. */
import { throwIfAborted } from '../lib/errors';
import { dilate, type DilateOptions } from './dilate';
import { PROJECT_DEFAULTS, type ProjectOptions, type TexelColourer } from './project';
import { rasterizeUvs } from './raster';
import { surfaceRecords } from './surface';
import type { BakeRequest, TexturedMesh } from './types';
import { unwrapMesh, type UnwrappedMesh } from './unwrap';

export interface BakeTextureOptions {
  onProgress?: (step: 'unwrap' | 'bake', fraction: number) => void;
  signal?: AbortSignal;
  project?: Partial<ProjectOptions>;
  dilate?: Partial<DilateOptions>;
}

/** A bake request whose size may be any edge (tests bake at 256²); the app offers TEXTURE_SIZES. */
export type BakeJob = Omit<BakeRequest, 'size'> & { size: number };

/** What a bake produced; `unwrapped` and `texels` are for tests and the benchmark. */
export interface BakeOutcome {
  mesh: TexturedMesh;
  unwrapped: UnwrappedMesh;
  /** Texels a triangle covers (the rest were filled by dilation). */
  texels: number;
  ms: { unwrap: number; bake: number };
}

/** Unwraps `request.mesh` and bakes the triplane's colour into a `request.size`² texture with `colourer`. */
export async function bakeTexture(request: BakeJob, colourer: TexelColourer, options: BakeTextureOptions = {}): Promise<BakeOutcome> {
  const { onProgress, signal } = options;
  const size = request.size;
  onProgress?.('unwrap', 0);
  const started = performance.now();
  const unwrapped = await unwrapMesh(request.mesh, {
    size,
    signal,
    onProgress: (fraction) => onProgress?.('unwrap', fraction),
  });
  throwIfAborted(signal);
  const unwrapMs = performance.now() - started;
  onProgress?.('bake', 0);
  const raster = rasterizeUvs(unwrapped.uvs, unwrapped.indices, size);
  const records = surfaceRecords(unwrapped, raster, request.toSource);
  const project = { ...PROJECT_DEFAULTS, ...options.project };
  const colours = await colourer(records, request.threshold, project, (fraction) => onProgress?.('bake', 0.95 * fraction), signal);
  throwIfAborted(signal);
  const rgba = new Uint8Array(4 * size * size);
  for (let k = 0; k < raster.texels.length; k++) {
    const o = 4 * raster.texels[k]!;
    for (let c = 0; c < 3; c++) rgba[o + c] = Math.round(Math.min(1, Math.max(0, colours[3 * k + c]!)) * 255);
    rgba[o + 3] = 255;
  }
  dilate(rgba, size, size, options.dilate);
  onProgress?.('bake', 1);
  const { positions, normals, colours: vertexColours, indices, uvs } = unwrapped;
  const mesh: TexturedMesh = { positions, normals, colours: vertexColours, indices, uvs, texture: { width: size, height: size, rgba } };
  return { mesh, unwrapped, texels: raster.texels.length, ms: { unwrap: unwrapMs, bake: performance.now() - started - unwrapMs } };
}
