/**
 * How a texel's surface point moves onto the field's isosurface before its colour is read: density is
 * sampled at `2·searchSteps + 1` points along the normal within ±searchRadius and the sign change of
 * density − threshold nearest the point is taken. With `bisections` 0 (the default) the colour is read
 * where the raw logit (ln density) crosses ln threshold by linear interpolation between the two samples:
 * the logit is smooth at the scale of a few cells, so this lands as close as several bisections would,
 * at a sixth of their cost. Otherwise the bracket is bisected that many times and the colour read at its
 * middle. Without a sign change, at the point itself. The CPU (src/cpu/bake.ts) and the GPU
 * (src/gpu/bake.wgsl) follow these same steps.
 */
export interface ProjectOptions {
  /** Half the search segment, in TripoSR units: 0.03 is about 4 cells of a 256³ generation. */
  searchRadius: number;
  searchSteps: number;
  /** 0: interpolate the crossing in the first bracket; n > 0: bisect it n times. */
  bisections: number;
}

// 6 decoder evaluations per texel (was 16 with 4 steps and 6 bisections: same tolerances in the tests).
export const PROJECT_DEFAULTS: ProjectOptions = { searchRadius: 0.03, searchSteps: 2, bisections: 0 };

/** The density below which ln(density) is taken as this floor (an exp that underflowed to 0). */
const DENSITY_FLOOR = 1e-30;

/** Where ln(density) crosses ln(threshold) between t = lo (density a) and t = hi (density b), which bracket it. */
export function crossing(lo: number, hi: number, a: number, b: number, threshold: number): number {
  const la = Math.log(Math.max(a, DENSITY_FLOOR));
  const lb = Math.log(Math.max(b, DENSITY_FLOOR));
  const f = la === lb ? 0.5 : (Math.log(threshold) - la) / (lb - la);
  return lo + (hi - lo) * Math.min(1, Math.max(0, f));
}

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
