/**
 * How a texel's surface point moves onto the field's isosurface before its colour is read: density is
 * sampled at `2·searchSteps + 1` points along the normal within ±searchRadius, the sign change of
 * density − threshold nearest the point is bisected `bisections` times, and the colour is read at the
 * middle of the last bracket; without a sign change, at the point itself. The CPU (src/cpu/bake.ts) and
 * the GPU (src/gpu/bake.wgsl) follow these same steps.
 */
export interface ProjectOptions {
  /** Half the search segment, in TripoSR units: 0.03 is about 4 cells of a 256³ generation. */
  searchRadius: number;
  searchSteps: number;
  bisections: number;
}

export const PROJECT_DEFAULTS: ProjectOptions = { searchRadius: 0.03, searchSteps: 4, bisections: 6 };

/** Decoder evaluations per texel: the search samples, the bisections and the colour. */
export function evaluationsPerTexel(options: ProjectOptions): number {
  return 2 * options.searchSteps + 1 + options.bisections + 1;
}

/** Reports colours of texels, 3 sRGB floats per texel record (surface.ts); CPU or GPU. */
export type TexelColourer = (
  records: Float32Array,
  threshold: number,
  options: ProjectOptions,
  onProgress: (fraction: number) => void,
  signal?: AbortSignal,
) => Promise<Float32Array>;
