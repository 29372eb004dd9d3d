import { DEFAULT_BOUNDS, type Bounds, type Dims } from './constants';
import type { CoarseToFineOptions } from './coarse-to-fine';
import type { DecoderWeights } from './decoder-weights';
import { createWalk } from './density-walk';
import { PointSource, pointJobParams } from './field-evaluator';
import { wholeBufferSource } from './field-source';
import { GpuScope, kernelLimits, type KernelLimits } from './gpu-kit';
import { marchSlabs } from './marching-cubes';
import { finishNormals } from './mesh';
import type { TriplaneMesh } from './reference/triplane-mesher-cpu';
import { triplaneDecoder } from './triplane-decoder';
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
  /** Called once the density field is decoded, before marching (for per-stage progress). */
  onFieldReady?: (decodeMs: number) => void;
}

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
): Promise<TriplaneMesh> {
  const r = options.resolution;
  if (!Number.isInteger(r) || r < 2) throw new RangeError(`Resolution must be a whole number ≥ 2, got ${r}.`);
  const dims: Dims = [r, r, r];
  const bounds = options.bounds ?? DEFAULT_BOUNDS;
  const limits = kernelLimits(device, options);
  const scope = new GpuScope(device);
  try {
    const t0 = performance.now();
    const decoder = triplaneDecoder(scope, triplane, weights);
    const walk = await createWalk(scope, decoder.density, dims, bounds, options.threshold, options);
    let source = walk as Parameters<typeof marchSlabs>[1];
    // When the whole field fits one binding, evaluate it once; otherwise slab by slab (halo layers
    // are then evaluated by both neighbours, and counted).
    if (r * r * r * 4 <= limits.maxBindingBytes) {
      const { buffer } = await walk.layers(0, r, scope);
      source = wholeBufferSource(dims, buffer);
    }
    const decodeMs = performance.now() - t0;
    throwIfAborted(options.signal);
    options.onFieldReady?.(decodeMs);
    const { mesh, extra, timings } = await marchSlabs(device, source, options.threshold, { bounds }, limits, (encoder, vertices, count, slabScope) => {
      const colours = slabScope.buffer(count * 12, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, 'vertex colours');
      const params = pointJobParams(slabScope, { dims, bounds, mode: PointSource.Vertices, count });
      const pass = encoder.beginComputePass();
      decoder.colour.encode(pass, slabScope, { params, points: vertices, results: colours, maxPoints: count }, limits.maxWorkgroupsPerDimension);
      pass.end();
      return { buffer: colours, floatsPerVertex: 3 };
    });
    throwIfAborted(options.signal);
    finishNormals(mesh);
    return {
      ...mesh,
      colours: extra,
      stats: {
        evaluations: walk.evaluations,
        ms: { decode: decodeMs + timings.field, march: timings.march, colour: timings.hook, readback: timings.readback },
      },
    };
  } finally {
    scope.destroy();
  }
}
