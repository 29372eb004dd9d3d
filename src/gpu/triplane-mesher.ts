import { BUFFER_USAGE, DEFAULT_BOUNDS, type Bounds, type Dims } from './constants';
import type { CoarseToFineOptions } from './coarse-to-fine';
import type { DecoderWeights } from './decoder-weights';
import { createWalk } from './density-walk';
import { PointSource, pointJobParams, type GpuFieldEvaluator } from './field-evaluator';
import { GpuScope, kernelLimits, type KernelLimits } from './gpu-kit';
import { deviceMemory, GpuMemory } from './gpu-memory';
import { marchSlabs, type VertexHook } from './marching-cubes';
import { finishNormals } from './mesh';
import { withTriplaneBound, type TriplaneMesh } from './reference/triplane-mesher-cpu';
import { readTriplane, triplaneDecoder } from './triplane-decoder';
import { throwIfAborted } from '../lib/errors';

/** Options of meshTriplane beyond the public ones: the walk's tuning and forced limits for tests. */
export interface TriplaneMesherOptions extends Partial<KernelLimits> {
  resolution: number;
  threshold: number;
  bounds?: Bounds;
  mode: 'dense' | 'coarse-to-fine';
  coarseToFine?: Partial<CoarseToFineOptions>;
  /** Checked between stages: an aborted job throws AbortError and frees its GPU buffers. */
  signal?: AbortSignal;
  /**
   * Called once the walk has evaluated its last layer (the field is filled slab by slab as marching
   * reaches it, so earlier slabs are already marched), with the milliseconds since the start.
   */
  onFieldReady?: (decodeMs: number) => void;
  /** Fraction (0..1) of the density walk's planned decoder work done; 1 once the last layer is evaluated. */
  onProgress?: (fraction: number) => void;
  /**
   * The triplane's CPU copy, for the coarse-to-fine bound (triplaneWalkBound reads its texels); a
   * GPUBuffer triplane without it is read back once (2 MB).
   */
  planes?: Float32Array;
}

/** What meshTriplane returns: the mesh, its colours and stats (peak live mesher bytes and refined block share included). */
export type GpuTriplaneMesh = TriplaneMesh & { stats: TriplaneMesh['stats'] & { peakBytes: number; refinedShare?: number } };

/**
 * Meshes a TripoSR triplane on the GPU: decodes density on an R³ lattice (dense or coarse-to-fine),
 * marches it at `threshold`, and decodes a colour at every vertex. The density field never leaves the
 * GPU. Layout [3, 40, 64, 64] = plane, channel, row, column; output in TripoSR's own frame; colours
 * sRGB 0..1, 3 per vertex. A GPUBuffer triplane stays owned by the caller.
 *
 * @example
 * const mesh = await meshTriplane(device, triplane, weights, { resolution: 256, threshold: 25, mode: 'coarse-to-fine' });
 */
export async function meshTriplane(
  device: GPUDevice,
  triplane: GPUBuffer | Float32Array,
  weights: DecoderWeights,
  options: TriplaneMesherOptions,
): Promise<GpuTriplaneMesh> {
  let coarseToFine = options.coarseToFine;
  if (options.mode === 'coarse-to-fine' && !coarseToFine?.bound) {
    const planes = triplane instanceof Float32Array ? triplane : (options.planes ?? (await readTriplane(device, triplane)));
    coarseToFine = withTriplaneBound(planes, weights, options);
  }
  return meshField(device, (scope) => triplaneDecoder(scope, triplane, weights), { ...options, coarseToFine });
}

/**
 * meshTriplane for any density evaluator (and an optional colour one): the triplane decoder, or an
 * analytic field in tests and benchmarks. Without a colour evaluator colours are empty.
 */
export async function meshField(
  device: GPUDevice,
  evaluators: (scope: GpuScope) => { density: GpuFieldEvaluator; colour?: GpuFieldEvaluator },
  options: TriplaneMesherOptions,
): Promise<GpuTriplaneMesh> {
  const r = options.resolution;
  if (!Number.isInteger(r) || r < 2) throw new RangeError(`Resolution must be a whole number ≥ 2, got ${r}.`);
  const dims: Dims = [r, r, r];
  const bounds = options.bounds ?? DEFAULT_BOUNDS;
  const limits = kernelLimits(device, options);
  const memory = new GpuMemory(deviceMemory(device));
  const scope = new GpuScope(device, memory);
  try {
    const t0 = performance.now();
    const decoder = evaluators(scope);
    let fieldReady = false;
    const onProgress = (fraction: number): void => {
      options.onProgress?.(fraction);
      if (fraction === 1 && !fieldReady) {
        fieldReady = true;
        options.onFieldReady?.(performance.now() - t0);
      }
    };
    // The walk fills each marching slab's layers as it is reached: the whole field never exists.
    const walk = await createWalk(scope, decoder.density, dims, bounds, options.threshold, { ...options, onProgress });
    const decodeMs = performance.now() - t0;
    throwIfAborted(options.signal);
    const colour = decoder.colour;
    const hook: VertexHook | undefined = colour && ((vertices, count, slabScope) => colourVertices(colour, vertices, count, slabScope, dims, bounds, limits, options.signal));
    const { mesh, extra, timings } = await marchSlabs(scope, walk, options.threshold, { bounds }, limits, hook, options.signal);
    throwIfAborted(options.signal);
    finishNormals(mesh);
    return {
      ...mesh,
      colours: extra,
      stats: {
        evaluations: walk.evaluations,
        walk: walk.kind,
        ...(walk.refinedShare !== undefined && { refinedShare: walk.refinedShare }),
        peakBytes: memory.peak,
        ms: { decode: decodeMs + timings.field, march: timings.march, colour: timings.hook, readback: timings.readback },
      },
    };
  } finally {
    scope.destroy();
  }
}

/**
 * Decodes sRGB colours of `count` vertex records in submits of at most maxPointsPerSubmit vertices
 * (the kernel reads records and writes colours from index 0, so each chunk goes through a copy).
 */
async function colourVertices(
  colour: GpuFieldEvaluator,
  vertices: GPUBuffer,
  count: number,
  scope: GpuScope,
  dims: Dims,
  bounds: Bounds,
  limits: KernelLimits,
  signal: AbortSignal | undefined,
): Promise<{ buffer: GPUBuffer; floatsPerVertex: number }> {
  const { STORAGE, COPY_SRC, COPY_DST } = BUFFER_USAGE;
  const device = scope.device;
  const colours = scope.buffer(count * 12, STORAGE | COPY_SRC | COPY_DST, 'vertex colours');
  const chunk = Math.min(count, limits.maxPointsPerSubmit);
  const whole = chunk === count;
  const records = whole ? vertices : scope.buffer(chunk * 24, STORAGE | COPY_DST, 'vertex chunk');
  const results = whole ? colours : scope.buffer(chunk * 12, STORAGE | COPY_SRC, 'colour chunk');
  for (let start = 0; start < count; start += chunk) {
    const n = Math.min(chunk, count - start);
    const job = scope.child();
    try {
      const params = pointJobParams(job, { dims, bounds, mode: PointSource.Vertices, count: n });
      const encoder = device.createCommandEncoder();
      if (!whole) encoder.copyBufferToBuffer(vertices, start * 24, records, 0, n * 24);
      const pass = encoder.beginComputePass();
      colour.encode(pass, job, { params, points: records, results, maxPoints: n }, limits.maxWorkgroupsPerDimension);
      pass.end();
      if (!whole) encoder.copyBufferToBuffer(results, 0, colours, start * 12, n * 12);
      device.queue.submit([encoder.finish()]);
      await device.queue.onSubmittedWorkDone();
    } finally {
      job.destroy();
    }
    throwIfAborted(signal);
  }
  if (!whole) {
    scope.drop(records);
    scope.drop(results);
  }
  return { buffer: colours, floatsPerVertex: 3 };
}
