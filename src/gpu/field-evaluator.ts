import { latticeCoord, type Bounds, type Dims } from './constants';
import { bindGroup, computePipeline, dispatchLinear, type GpuScope } from './gpu-kit';
import pointJobWgsl from './point-job.wgsl?raw';
import { declaredWalkBound, type RawScale, type WalkBound } from './walk-bound';

/** How a point job picks its points (point-job.wgsl). */
export const PointSource = { Range: 0, List: 1, Vertices: 2 } as const;
export type PointSource = (typeof PointSource)[keyof typeof PointSource];

/** A point job's buffers: its uniform, its point list (or vertex records) and its results. */
export interface PointJobBuffers {
  params: GPUBuffer;
  points: GPUBuffer;
  results: GPUBuffer;
  /** Upper bound of the points visited (the list's capacity for lists). */
  maxPoints: number;
}

/** Fields the density walk can evaluate on the GPU: the triplane decoder, or analytic fields in tests. */
export interface GpuFieldEvaluator {
  /** Encodes the evaluation of every point of the job into its results. */
  encode(pass: GPUComputePassEncoder, scope: GpuScope, job: PointJobBuffers, maxPerDim: number): void;
  /** How fast the field can change: what lets the walk go coarse-to-fine (walk-bound.ts). */
  readonly bound?: WalkBound;
}

/** An analytic field's declared Lipschitz bound: |raw(p) − raw(q)| ≤ slope·|p − q| (world units). */
export interface DeclaredSlope {
  slope: number;
  /** How the stored value relates to raw; the identity when absent. */
  scale?: RawScale;
}

/** Which points a field evaluator visits and where it stores them (packed by pointJobParams). */
export interface PointJob {
  dims: Dims;
  bounds: Bounds;
  mode: PointSource;
  count: number;
  first?: number;
  outBase?: number;
  compactOut?: boolean;
}

/** Packs a PointJob uniform (layout in point-job.wgsl). */
export function pointJobParams(scope: GpuScope, job: PointJob): GPUBuffer {
  const data = new ArrayBuffer(64);
  const u = new Uint32Array(data);
  const f = new Float32Array(data);
  u.set(job.dims, 0);
  u[3] = job.mode;
  f.set(job.bounds[0], 4);
  u[7] = job.count;
  f.set(job.dims.map((n, a) => latticeCoord(job.bounds[0][a]!, job.bounds[1][a]!, n, 1) - job.bounds[0][a]!), 8);
  u[11] = job.first ?? 0;
  u[12] = job.outBase ?? 0;
  u[13] = job.compactOut ? 1 : 0;
  return scope.uniform(u, 'point job');
}

/**
 * An evaluator for an analytic field written in WGSL as `fn field(p: vec3<f32>) -> f32` (world units);
 * with a declared slope it can be walked coarse-to-fine.
 *
 * @example
 * const sphere = analyticEvaluator(device, 'fn field(p: vec3<f32>) -> f32 { return 0.5 - length(p); }', { slope: 1 });
 */
export function analyticEvaluator(device: GPUDevice, fieldWgsl: string, declared?: DeclaredSlope): GpuFieldEvaluator {
  const code = `${pointJobWgsl}\n${fieldWgsl}\n
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let id = linearWorkgroup(wid, nwg) * 64u + lid;
  if (id >= jobCount()) {
    return;
  }
  jobStore(id, field(jobPosition(id)));
}`;
  const pipeline = computePipeline(device, `analytic:${fieldWgsl}`, code);
  return {
    bound: declared && declaredWalkBound(declared.slope, declared.scale),
    encode(pass, scope, job, maxPerDim) {
      const group = bindGroup(device, pipeline, { 0: job.params, 1: job.points, 2: job.results });
      dispatchLinear(pass, scope, pipeline, [group], Math.ceil(job.maxPoints / 64), maxPerDim);
    },
  };
}
