/** Sizes and conventions shared by the WGSL kernels, their hosts and the CPU reference. */

/** TripoSR's triplane: 3 planes of 40 channels on a 64×64 grid ([3, 40, 64, 64]). */
export const TRIPLANE_PLANES = 3;
export const TRIPLANE_CHANNELS = 40;
export const TRIPLANE_SIZE = 64;
/** Decoder input width: the three planes' channels concatenated. */
export const DECODER_FEATURES = TRIPLANE_PLANES * TRIPLANE_CHANNELS;
/** Hidden width of the NeRF MLP; the GPU kernel is built for exactly this width. */
export const DECODER_HIDDEN = 64;
/** The MLP's output: raw density and three colour logits. */
export const DECODER_OUTPUTS = 4;

/** Half the side of the box the triplane spans (TripoSR's `radius`); q = p / radius. */
export const TRIPLANE_RADIUS = 0.87;

/** A box in world units: [min xyz, max xyz]. */
export type Bounds = [[number, number, number], [number, number, number]];
export type Dims = [number, number, number];

/** The reference lattice's box: ±0.87 on every axis. */
export const DEFAULT_BOUNDS: Bounds = [
  [-TRIPLANE_RADIUS, -TRIPLANE_RADIUS, -TRIPLANE_RADIUS],
  [TRIPLANE_RADIUS, TRIPLANE_RADIUS, TRIPLANE_RADIUS],
];

/** Density clamp before exp so that float32 never overflows (exp(80) ≈ 5.5e34). */
export const MAX_DENSITY_LOGIT = 80;

/** Points per workgroup tile in the triplane decoder kernel. */
export const DECODE_TILE = 32;

/** Marks a triangle index that refers to a vertex owned by the next slab (fixed up on the CPU). */
export const NEXT_SLAB_FLAG = 0x80000000;

/** Lattice point i of n on [lo, hi]: the reference's linspace. */
export function latticeCoord(lo: number, hi: number, n: number, i: number): number {
  return n > 1 ? lo + ((hi - lo) * i) / (n - 1) : lo;
}

/**
 * GPUBufferUsage flags by value (https://www.w3.org/TR/webgpu/#buffer-usage). The globals do not
 * exist in browsers without WebGPU or on insecure pages, so module-level code uses these instead: a
 * module that reads a missing global while loading would take the CPU path down with it.
 */
export const BUFFER_USAGE = {
  MAP_READ: 0x0001,
  MAP_WRITE: 0x0002,
  COPY_SRC: 0x0004,
  COPY_DST: 0x0008,
  UNIFORM: 0x0040,
  STORAGE: 0x0080,
} as const;

/** Elements one workgroup of the prefix-sum kernel scans (two per invocation). */
export const SCAN_BLOCK = 512;
