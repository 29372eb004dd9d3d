import { DEFAULT_BOUNDS, type Bounds } from '../constants';
import type { DecoderWeights } from '../decoder-weights';
import { marchingCubesCpu } from './marching-cubes-cpu';
import { densityWalkCpu, type WalkMode, type WalkResult } from './density-walk-cpu';
import { triplaneWalkBound } from '../triplane-walk-bound';
import { decodePointsCpu } from './triplane-decoder-cpu';
import type { CoarseToFineOptions } from '../coarse-to-fine';

export interface TriplaneMeshOptions {
  resolution: number;
  threshold: number;
  bounds?: Bounds;
  mode: WalkMode;
  coarseToFine?: Partial<CoarseToFineOptions>;
}

export interface TriplaneMesh {
  positions: Float32Array;
  normals: Float32Array;
  colours: Float32Array;
  indices: Uint32Array;
  /** `walk`: which criterion chose the evaluated points ('dense', or the walk bound's kind). */
  stats: { evaluations: number; walk?: WalkResult['kind']; ms: Record<'decode' | 'march' | 'colour' | 'readback', number> };
}

/** The walk options with the decoder's bound (triplaneWalkBound) unless the caller gave one. */
export function withTriplaneBound(triplane: Float32Array, weights: DecoderWeights, options: Pick<TriplaneMeshOptions, 'mode' | 'coarseToFine'>): Partial<CoarseToFineOptions> {
  if (options.mode === 'dense' || options.coarseToFine?.bound) return { ...options.coarseToFine };
  return { ...options.coarseToFine, bound: triplaneWalkBound(triplane, weights) };
}

/** `meshTriplane` on the CPU: the oracle for the GPU mesher and the fallback without WebGPU. */
export function meshTriplaneCpu(triplane: Float32Array, weights: DecoderWeights, options: TriplaneMeshOptions): TriplaneMesh {
  const bounds = options.bounds ?? DEFAULT_BOUNDS;
  const r = options.resolution;
  const t0 = performance.now();
  const { field, evaluations, kind } = densityWalkCpu(
    (points) => decodePointsCpu(triplane, weights, points, { density: true }).density,
    [r, r, r],
    bounds,
    options.threshold,
    options.mode,
    withTriplaneBound(triplane, weights, options),
  );
  const t1 = performance.now();
  const mesh = marchingCubesCpu(field, [r, r, r], options.threshold, { bounds });
  const t2 = performance.now();
  const { colour } = decodePointsCpu(triplane, weights, mesh.positions, { colour: true });
  const t3 = performance.now();
  return {
    ...mesh,
    colours: colour,
    stats: { evaluations, walk: kind, ms: { decode: t1 - t0, march: t2 - t1, colour: t3 - t2, readback: 0 } },
  };
}
