/** The texture bake's colour search on the GPU: bake.wgsl around the existing WGSL triplane decoder. */
import { AppError, throwIfAborted } from '../lib/errors';
import { evaluationsPerTexel, type ProjectOptions, type TexelColourer } from '../texture/project';
import { RECORD_FLOATS } from '../texture/surface';
import bakeWgsl from './bake.wgsl?raw';
import { DEFAULT_BOUNDS, type Dims } from './constants';
import type { DecoderWeights } from './decoder-weights';
import { PointSource, pointJobParams, type GpuFieldEvaluator } from './field-evaluator';
import { bindGroup, computePipeline, dispatchLinear, GpuScope, gpuStage, kernelLimits, readBuffers, type KernelLimits } from './gpu-kit';
import { triplaneDecoder } from './triplane-decoder';

export interface GpuBakeOptions {
  /** Longest wait for one submit before the bake gives up (a hung driver otherwise hangs the worker). */
  submitTimeoutMs: number;
  /** Overrides of the kernel limits (tests lower maxPointsPerSubmit to force several batches). */
  limits?: Partial<KernelLimits>;
}

export const GPU_BAKE_DEFAULTS: GpuBakeOptions = { submitTimeoutMs: 60_000 };

/**
 * A TexelColourer on `device`: per batch of texels one submit runs the search samples, the bracket,
 * the bisections and the colour (every decoder evaluation through triplaneDecoder's kernels), inside
 * error scopes and a timeout; progress and cancel between batches. Decoder evaluations per submit stay
 * within the mesher's budget (MESHER_BUDGET.maxPointsPerSubmit).
 */
export function gpuTexelColourer(device: GPUDevice, triplane: GPUBuffer | Float32Array, weights: DecoderWeights, options: Partial<GpuBakeOptions> = {}): TexelColourer {
  const opts = { ...GPU_BAKE_DEFAULTS, ...options };
  return async (records, threshold, project, onProgress, signal) => {
    const scope = new GpuScope(device);
    try {
      const run = await gpuStage(device, 'texture bake setup', () => prepare(scope, triplane, weights, project, opts.limits));
      const n = records.length / RECORD_FLOATS;
      const colours = new Float32Array(3 * n);
      for (let first = 0; first < n; first += run.batch) {
        throwIfAborted(signal);
        const count = Math.min(run.batch, n - first);
        const batch = records.subarray(RECORD_FLOATS * first, RECORD_FLOATS * (first + count));
        const bytes = await gpuStage(device, 'texture bake', () => withTimeout(run.colour(batch, threshold), opts.submitTimeoutMs));
        colours.set(new Float32Array(bytes), 3 * first);
        onProgress((first + count) / n);
      }
      return colours;
    } finally {
      scope.destroy();
    }
  };
}

const STORAGE = 0x0080;
const COPY_SRC = 0x0004;
const COPY_DST = 0x0008;

/** Buffers and pipelines for batches of up to `batch` texels. */
function prepare(scope: GpuScope, triplane: GPUBuffer | Float32Array, weights: DecoderWeights, project: ProjectOptions, limitOverrides?: Partial<KernelLimits>) {
  const device = scope.device;
  const limits = kernelLimits(device, limitOverrides);
  const decoder = triplaneDecoder(scope, triplane, weights);
  const k = 2 * project.searchSteps + 1;
  const batch = Math.max(1, Math.floor(limits.maxPointsPerSubmit / evaluationsPerTexel(project)));
  const surface = scope.buffer(4 * RECORD_FLOATS * batch, STORAGE | COPY_DST, 'bake surface');
  const samples = scope.buffer(4 * RECORD_FLOATS * batch * k, STORAGE, 'bake samples');
  const density = scope.buffer(4 * batch * k, STORAGE, 'bake density');
  const state = scope.buffer(16 * batch, STORAGE, 'bake state');
  const colour = scope.buffer(12 * batch, STORAGE | COPY_SRC, 'bake colour');
  const interpolate = project.bisections === 0 ? 1 : 0;
  const phases = [0, 1, 2].map((phase) => computePipeline(device, `bake:${phase}:${interpolate}`, bakeWgsl, { phase, interpolate }));
  const maxPerDim = limits.maxWorkgroupsPerDimension;

  /** Colours of one batch of texel records: 3 floats per texel, as bytes. */
  async function colourBatch(records: Float32Array, threshold: number): Promise<ArrayBuffer> {
    const n = records.length / RECORD_FLOATS;
    const job = scope.child();
    try {
      device.queue.writeBuffer(surface, 0, records.buffer, records.byteOffset, records.byteLength);
      const packed = new ArrayBuffer(16);
      new Uint32Array(packed, 0, 2).set([n, project.searchSteps]);
      new Float32Array(packed, 8, 2).set([project.searchRadius / project.searchSteps, threshold]);
      const params = job.uniform(new Uint8Array(packed), 'bake params');
      const groups = phases.map((p) => bindGroup(device, p, { 0: params, 1: surface, 2: samples, 3: density, 4: state }));
      const pointJob = (count: number) => ({
        params: pointJobParams(job, { dims: [2, 2, 2] as Dims, bounds: DEFAULT_BOUNDS, mode: PointSource.Vertices, count, compactOut: true }),
        points: samples,
        results: density,
        maxPoints: count,
      });
      const evaluate = (pass: GPUComputePassEncoder, evaluator: GpuFieldEvaluator, count: number, results = density) =>
        evaluator.encode(pass, job, { ...pointJob(count), results }, maxPerDim);
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      dispatchLinear(pass, job, phases[0]!, [groups[0]!], Math.ceil((n * k) / 64), maxPerDim);
      evaluate(pass, decoder.density, n * k);
      dispatchLinear(pass, job, phases[1]!, [groups[1]!], Math.ceil(n / 64), maxPerDim);
      for (let b = 0; b < project.bisections; b++) {
        evaluate(pass, decoder.density, n);
        dispatchLinear(pass, job, phases[2]!, [groups[2]!], Math.ceil(n / 64), maxPerDim);
      }
      evaluate(pass, decoder.colour, n, colour);
      pass.end();
      const [bytes] = await readBuffers(device, job, encoder, [{ buffer: colour, size: 12 * n }]);
      return bytes!;
    } finally {
      job.destroy();
    }
  }
  return { batch, colour: colourBatch };
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AppError('mesher-gpu-error', 'The GPU did not finish the texture bake in time. Bake a smaller texture, or keep vertex colours.')), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
