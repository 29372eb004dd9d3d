import { DEFAULT_BOUNDS } from '../gpu/constants';
import type { DecoderWeights } from '../gpu/decoder-weights';
import { densityWalkSteps } from '../gpu/reference/density-walk-cpu';
import { marchingCubesCpu } from '../gpu/reference/marching-cubes-cpu';
import { withTriplaneBound, type TriplaneMesh, type TriplaneMeshOptions } from '../gpu/reference/triplane-mesher-cpu';
import { throwIfAborted } from '../lib/errors';
import { BatchDecoder } from './batch-decoder';

/**
 * Decodes points [start, end) of `points` (xyz triples) into `density[start..end)` and
 * `colour[3·start..3·end)`; either output may be null. May be synchronous or return a promise.
 */
export interface PointDecoder {
  decodeInto(points: Float32Array, start: number, end: number, density: Float32Array | null, colour: Float32Array | null): void | Promise<void>;
}

export interface AsyncMeshOptions extends TriplaneMeshOptions {
  /** Cancels the job: the promise rejects with an AbortError at the next batch. */
  signal?: AbortSignal;
  /** Fraction of the job done, in [0, 1], non-decreasing; called at most once per batch. */
  onProgress?: (fractionDone: number) => void;
  /** The decoder to use; a `BatchDecoder` on `triplane` and `weights` when absent. */
  decoder?: PointDecoder;
  /** Points decoded between checks of the clock and the signal. */
  chunkPoints?: number;
  /** Work between two yields to the event loop, in ms: keeps the worker responsive to cancel. */
  sliceMs?: number;
}

export const ASYNC_MESH_DEFAULTS = { chunkPoints: 4096, sliceMs: 50 } satisfies Partial<AsyncMeshOptions>;

/** Share of the progress bar given to the colour pass (the walk gets the rest). */
const COLOUR_SHARE = 0.05;

/** A macrotask turn: lets the worker receive messages (a cancel) between slices of work. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * `meshTriplaneCpu` that yields to the event loop every `sliceMs`, stops with an AbortError when
 * `signal` aborts and reports progress: the CPU path's mesher, so a cancel keeps the worker (and its
 * loaded model). Same walk and marching cubes as the reference; only the decoder and the scheduling differ.
 *
 * @example
 * const mesh = await meshTriplaneCpuAsync(triplane, weights, { resolution: 128, threshold: 25, mode: 'coarse-to-fine', signal });
 */
export async function meshTriplaneCpuAsync(triplane: Float32Array, weights: DecoderWeights, options: AsyncMeshOptions): Promise<TriplaneMesh> {
  const opts = { ...ASYNC_MESH_DEFAULTS, ...options };
  const { signal, onProgress } = opts;
  const bounds = opts.bounds ?? DEFAULT_BOUNDS;
  const r = opts.resolution;
  throwIfAborted(signal);
  const decoder = opts.decoder ?? new BatchDecoder(triplane, weights);
  let sliceStart = performance.now();
  let reported = 0;
  const report = (fraction: number): void => {
    const f = Math.min(1, Math.max(reported, fraction));
    if (f > reported || fraction === 1) onProgress?.(f);
    reported = f;
  };
  /** Decodes every point in chunks, yielding when a slice is used up; `from`/`to` map progress. */
  const decodeAll = async (points: Float32Array, want: 'density' | 'colour', from: number, to: number): Promise<Float32Array> => {
    const n = points.length / 3;
    const out = new Float32Array(want === 'density' ? n : 3 * n);
    for (let start = 0; start < n; start += opts.chunkPoints) {
      const end = Math.min(n, start + opts.chunkPoints);
      await decoder.decodeInto(points, start, end, want === 'density' ? out : null, want === 'colour' ? out : null);
      throwIfAborted(signal);
      report(from + ((to - from) * end) / n);
      if (performance.now() - sliceStart >= opts.sliceMs) {
        await yieldToEventLoop();
        throwIfAborted(signal);
        sliceStart = performance.now();
      }
    }
    return out;
  };

  const t0 = performance.now();
  const walk = densityWalkSteps([r, r, r], bounds, opts.threshold, opts.mode, withTriplaneBound(triplane, weights, opts));
  const walkShare = 1 - COLOUR_SHARE;
  let step = walk.next();
  let first = true;
  while (!step.done) {
    // Coarse-to-fine asks twice (coarse lattice, then refined points); the coarse pass is ~1/k³ of the
    // dense work, so give it a small slice of the bar.
    const [from, to] = opts.mode === 'dense' ? [0, walkShare] : first ? [0, 0.1 * walkShare] : [0.1 * walkShare, walkShare];
    step = walk.next(await decodeAll(step.value, 'density', from, to));
    first = false;
  }
  const { field, evaluations, kind } = step.value;
  const t1 = performance.now();
  await yieldToEventLoop();
  throwIfAborted(signal);
  sliceStart = performance.now();
  const mesh = marchingCubesCpu(field, [r, r, r], opts.threshold, { bounds });
  const t2 = performance.now();
  const colours = await decodeAll(mesh.positions, 'colour', walkShare, 1);
  const t3 = performance.now();
  report(1);
  return {
    ...mesh,
    colours,
    stats: { evaluations, walk: kind, ms: { decode: t1 - t0, march: t2 - t1, colour: t3 - t2, readback: 0 } },
  };
}
