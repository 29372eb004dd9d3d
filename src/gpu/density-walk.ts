import c2fCommonWgsl from './c2f-common.wgsl?raw';
import c2fFillWgsl from './c2f-fill.wgsl?raw';
import c2fGatherWgsl from './c2f-gather.wgsl?raw';
import { COARSE_TO_FINE_DEFAULTS, CoarseLattice, type CoarseToFineOptions } from './coarse-to-fine';
import { BUFFER_USAGE, type Bounds, type Dims } from './constants';
import { PointSource, pointJobParams, type GpuFieldEvaluator, type PointJob } from './field-evaluator';
import type { FieldSource } from './field-source';
import { bindGroup, computePipeline, dispatchLinear, GpuScope, gpuStage, kernelLimits, readBuffers, type KernelLimits } from './gpu-kit';
import { checkDims, fieldLength } from './mesh';
import { requireBound, type WalkMode } from './reference/density-walk-cpu';
import type { WalkBoundKind } from './walk-bound';
import { WalkProgress } from './walk-progress';
import { throwIfAborted } from '../lib/errors';

const { STORAGE, COPY_SRC, COPY_DST } = BUFFER_USAGE;

/** Options of the GPU density walk. */
export interface DensityWalkOptions extends Partial<KernelLimits> {
  mode: WalkMode;
  coarseToFine?: Partial<CoarseToFineOptions>;
  /** Checked between decoder submits: an aborted walk throws AbortError. */
  signal?: AbortSignal;
  /** Fraction (0..1) of the walk's planned evaluations done, after the coarse pass and every submit. */
  onProgress?: (fraction: number) => void;
}

/** A density walk as a field source for marching: layers are evaluated on demand, evaluations counted. */
export interface WalkSource extends FieldSource {
  /** Points evaluated so far (coarse samples included). */
  readonly evaluations: number;
  /** Which criterion decided what to evaluate: 'dense' or the bound's kind. */
  readonly kind?: WalkBoundKind | 'dense';
  /** Coarse-to-fine only: the share of blocks the bound refined. */
  readonly refinedShare?: number;
  /** Coarse-to-fine only: true when that share passed denseShare and every point was decoded. */
  readonly everyPoint?: boolean;
}

/** One slab's fill: layers [first, from) of `field` are carried from the previous slab, [from, end) are new. */
interface SlabFill {
  field: GPUBuffer;
  first: number;
  from: number;
  end: number;
  /** Encodes the copy of the carried layers; a fill must encode it before writing layers ≥ from. */
  carry: (encoder: GPUCommandEncoder) => void;
  /** Scratch for this fill only (parameters, point lists), destroyed when it returns. */
  work: GpuScope;
}

/**
 * A walk source that evaluates each point once: every slab buffer lives in `scope` until the next slab
 * has copied the layers both share (the marching halo), and a request within the last slab is served
 * from it. `fill` evaluates the new layers and returns how many points it evaluated.
 */
function walkSource(scope: GpuScope, dims: Dims, evaluated: number, fill: (slab: SlabFill) => Promise<number>): WalkSource {
  const layer = dims[1] * dims[2];
  let evaluations = evaluated;
  let held: { buffer: GPUBuffer; first: number; end: number } | undefined;
  return {
    dims,
    perSlabBinding: true,
    get evaluations() {
      return evaluations;
    },
    async layers(first, end) {
      if (held && first >= held.first && end <= held.end) {
        return { buffer: held.buffer, base: (first - held.first) * layer, first };
      }
      const prev = held && held.first <= first && first < held.end ? held : undefined;
      const from = prev ? Math.min(prev.end, end) : first;
      const field = scope.buffer((end - first) * layer * 4, STORAGE | COPY_SRC | COPY_DST, 'field slab');
      const carry = (encoder: GPUCommandEncoder): void => {
        if (prev && from > first) encoder.copyBufferToBuffer(prev.buffer, (first - prev.first) * layer * 4, field, 0, (from - first) * layer * 4);
      };
      const work = scope.child();
      try {
        evaluations += await fill({ field, first, from, end, carry, work });
      } catch (error) {
        scope.drop(field);
        throw error;
      } finally {
        work.destroy();
      }
      if (held) scope.drop(held.buffer);
      held = { buffer: field, first, end };
      return { buffer: field, base: 0, first };
    },
  };
}

/**
 * Prepares a walk over the lattice `dims` on `bounds`: in coarse-to-fine mode this evaluates the
 * coarse lattice and plans the refinement (one small readback). Buffers live in `scope`.
 */
export async function createWalk(
  scope: GpuScope,
  evaluator: GpuFieldEvaluator,
  dims: Dims,
  bounds: Bounds,
  iso: number,
  options: DensityWalkOptions,
): Promise<WalkSource> {
  checkDims(dims);
  const device = scope.device;
  const limits = kernelLimits(device, options);
  const maxPerDim = limits.maxWorkgroupsPerDimension;
  const layer = dims[1] * dims[2];
  const dummy = scope.buffer(4, STORAGE, 'no point list');
  /** One decoder submit of `job.count` points into `field`, waited for; its buffers live in a child of `work`. */
  const decodeSubmit = async (work: GpuScope, job: PointJob, points: (job: GpuScope) => GPUBuffer, field: GPUBuffer): Promise<void> => {
    const submit = work.child();
    try {
      await gpuStage(device, 'density', async () => {
        const params = pointJobParams(submit, job);
        const encoder = device.createCommandEncoder();
        const pass = encoder.beginComputePass();
        evaluator.encode(pass, submit, { params, points: points(submit), results: field, maxPoints: job.count }, maxPerDim);
        pass.end();
        device.queue.submit([encoder.finish()]);
        await device.queue.onSubmittedWorkDone();
      });
    } finally {
      submit.destroy();
    }
  };

  if (options.mode === 'dense') {
    const progress = new WalkProgress(new Float64Array(dims[0]).fill(layer), 0, options.onProgress);
    const dense = walkSource(scope, dims, 0, async ({ field, first, from, end, carry, work }) => {
      if (from > first) {
        await gpuStage(device, 'field copy', () => {
          const encoder = device.createCommandEncoder();
          carry(encoder);
          device.queue.submit([encoder.finish()]);
        });
      }
      const total = (end - from) * layer;
      for (let done = 0; done < total; ) {
        const count = Math.min(limits.maxPointsPerSubmit, total - done);
        await decodeSubmit(work, { dims, bounds, mode: PointSource.Range, count, first: from * layer + done, outBase: first * layer }, () => dummy, field);
        done += count;
        progress.layers(from, end, done / total);
        throwIfAborted(options.signal);
      }
      return total;
    });
    return Object.assign(dense, { kind: 'dense' as const });
  }

  const opts = { ...COARSE_TO_FINE_DEFAULTS, ...options.coarseToFine };
  const bound = requireBound({ bound: evaluator.bound, ...opts });
  const lattice = new CoarseLattice(dims, opts.blockSize);
  const coarseIdx = lattice.coarsePointIndices();
  const listed = new Uint32Array(coarseIdx.length + 1);
  listed[0] = coarseIdx.length;
  listed.set(coarseIdx, 1);
  // The coarse point list, parameters and readback live only through the coarse pass.
  const coarse = scope.child();
  const coarseValues = scope.buffer(coarseIdx.length * 4, STORAGE | COPY_SRC, 'coarse values');
  let coarseBytes: ArrayBuffer | undefined;
  try {
    const coarseList = coarse.upload(listed, STORAGE, 'coarse points');
    [coarseBytes] = await gpuStage(device, 'coarse pass', () => {
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      evaluator.encode(
        pass,
        coarse,
        {
          params: pointJobParams(coarse, { dims, bounds, mode: PointSource.List, count: coarseIdx.length, compactOut: true }),
          points: coarseList,
          results: coarseValues,
          maxPoints: coarseIdx.length,
        },
        maxPerDim,
      );
      pass.end();
      return readBuffers(device, coarse, encoder, [{ buffer: coarseValues, size: coarseIdx.length * 4 }]);
    });
  } finally {
    coarse.destroy();
  }
  throwIfAborted(options.signal);
  const plan = lattice.plan(new Float32Array(coarseBytes!), iso, bound, bounds);
  const flags = scope.upload(Uint32Array.from(plan.flags), STORAGE, 'block flags');
  const fill = computePipeline(device, 'c2f-fill', c2fCommonWgsl + c2fFillWgsl);
  const gather = computePipeline(device, 'c2f-gather', c2fCommonWgsl + c2fGatherWgsl);
  const k = opts.blockSize;
  // A refined block lists its closed box and the one-point halo around it (CoarseLattice's argument).
  const perBlock = (k + 3) ** 3;
  const blockYZ = lattice.blocks[1] * lattice.blocks[2];

  const c2fParams = (slabScope: GpuScope, first: number, count: number, xBegin: number, xEnd: number, capacity: number): GPUBuffer => {
    const u = new Uint32Array(20);
    u.set([...dims, k, ...lattice.blocks, first, ...lattice.coarse, count, xBegin, xEnd, capacity], 0);
    return slabScope.uniform(u, 'coarse-to-fine params');
  };

  // Past denseShare the walk decodes every point that is not a coarse sample (CoarseToFineOptions).
  const refinedShare = plan.refined.length / plan.flags.length;
  const everyPoint = refinedShare > opts.denseShare;
  // Planned work per x layer: every refined block's closed box and halo, (k + 3)² points per layer,
  // or every point of the layer that is not a coarse sample.
  const layerWeights = new Float64Array(dims[0]);
  if (everyPoint) {
    for (let x = 0; x < dims[0]; x++) layerWeights[x] = layer - (lattice.isCoarse(0, x) ? lattice.coarse[1] * lattice.coarse[2] : 0);
  } else {
    for (const id of plan.refined) {
      const bx = Math.floor(id / blockYZ);
      const last = Math.min(dims[0] - 1, lattice.fineIndex(0, bx + 1) + 1);
      for (let x = Math.max(0, bx * k - 1); x <= last; x++) layerWeights[x] = layerWeights[x]! + (k + 3) ** 2;
    }
  }
  const progress = new WalkProgress(layerWeights, coarseIdx.length, options.onProgress);
  progress.start();
  // Blocks per submit: within the submit budget and the binding limit, at least one.
  const blocksPerSubmit = Math.max(1, Math.min(Math.floor(limits.maxPointsPerSubmit / perBlock), Math.floor(limits.maxBindingBytes / 4 / perBlock) - 1));

  /** Decodes the points of layers [from, end) that are not coarse samples, in listed submits. */
  const decodeEveryPoint = async ({ field, first, from, end, work }: SlabFill): Promise<number> => {
    const indices = lattice.nonCoarseIndices(from, end);
    const list = new Uint32Array(Math.min(limits.maxPointsPerSubmit, indices.length) + 1);
    for (let done = 0; done < indices.length; ) {
      const count = Math.min(limits.maxPointsPerSubmit, indices.length - done);
      list[0] = count;
      list.set(indices.subarray(done, done + count), 1);
      const points = list.subarray(0, count + 1);
      await decodeSubmit(work, { dims, bounds, mode: PointSource.List, count, outBase: first * layer }, (job) => job.upload(points, STORAGE, 'lattice points'), field);
      done += count;
      progress.layers(from, end, done / indices.length);
      throwIfAborted(options.signal);
    }
    if (!indices.length) progress.layers(from, end, 1);
    return indices.length;
  };

  const source = walkSource(scope, dims, coarseIdx.length, async ({ field, first, from, end, carry, work }) => {
    const count = (end - first) * layer;
    // Interpolate every point of the slab, then restore the carried layers' exact values over them.
    await gpuStage(device, 'coarse-to-fine fill', () => {
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      const fillParams = c2fParams(work, first * layer, count, first, end, 0);
      dispatchLinear(pass, work, fill, [bindGroup(device, fill, { 0: fillParams, 1: coarseValues, 2: field })], Math.ceil(count / 64), maxPerDim);
      pass.end();
      carry(encoder);
      device.queue.submit([encoder.finish()]);
    });
    if (everyPoint) return decodeEveryPoint({ field, first, from, end, carry, work });
    // Refined blocks whose closed box or halo reaches into the new layers [from, end).
    const blocks = from < end ? Array.from(plan.refined).filter((id) => {
      const bx = Math.floor(id / blockYZ);
      return bx * k - 1 <= end - 1 && lattice.fineIndex(0, bx + 1) + 1 >= from;
    }) : [];
    if (!blocks.length) {
      progress.layers(from, end, 1);
      return 0;
    }
    const chunks = Math.ceil(blocks.length / blocksPerSubmit);
    const capacity = Math.min(blocks.length, blocksPerSubmit) * perBlock;
    // The point list lives only while this slab is decoded; each submit copies its count out.
    const list = work.buffer((capacity + 1) * 4, STORAGE | COPY_SRC | COPY_DST, 'refined points');
    const listed = work.buffer(chunks * 4, COPY_SRC | COPY_DST, 'refined counts');
    for (let c = 0; c < chunks; c++) {
      const chunk = blocks.slice(c * blocksPerSubmit, (c + 1) * blocksPerSubmit);
      const job = work.child();
      try {
        await gpuStage(device, 'coarse-to-fine decode', async () => {
          const room = chunk.length * perBlock;
          const encoder = device.createCommandEncoder();
          encoder.clearBuffer(list, 0, 4);
          const pass = encoder.beginComputePass();
          const blockList = job.upload(Uint32Array.from(chunk), STORAGE, 'refined blocks');
          const gatherParams = c2fParams(job, first * layer, chunk.length, from, end, room);
          dispatchLinear(pass, job, gather, [bindGroup(device, gather, { 0: gatherParams, 1: blockList, 2: flags, 3: list })], Math.ceil(room / 64), maxPerDim);
          const params = pointJobParams(job, { dims, bounds, mode: PointSource.List, count: room, outBase: first * layer });
          evaluator.encode(pass, job, { params, points: list, results: field, maxPoints: room }, maxPerDim);
          pass.end();
          encoder.copyBufferToBuffer(list, 0, listed, c * 4, 4);
          device.queue.submit([encoder.finish()]);
          await device.queue.onSubmittedWorkDone();
        });
      } finally {
        job.destroy();
      }
      progress.layers(from, end, (c + 1) / chunks);
      throwIfAborted(options.signal);
    }
    const [countBytes] = await gpuStage(device, 'coarse-to-fine readback', () =>
      readBuffers(device, work, device.createCommandEncoder(), [{ buffer: listed, size: chunks * 4 }]),
    );
    return new Uint32Array(countBytes!).reduce((a, b) => a + b, 0);
  });
  return Object.assign(source, { kind: plan.kind, refinedShare, everyPoint });
}

/**
 * Evaluates a field on the lattice `dims` over `bounds` on the GPU, densely or coarse-to-fine, into
 * one buffer the caller owns (it must fit one storage binding), and counts the evaluations.
 */
export async function densityWalk(
  device: GPUDevice,
  evaluator: GpuFieldEvaluator,
  dims: Dims,
  bounds: Bounds,
  iso: number,
  options: DensityWalkOptions,
): Promise<{ field: GPUBuffer; evaluations: number }> {
  const limits = kernelLimits(device, options);
  if (fieldLength(dims) * 4 > limits.maxBindingBytes) {
    throw new RangeError(`A ${dims.join('×')} field does not fit one storage binding on this device.`);
  }
  const scope = new GpuScope(device);
  try {
    const walk = await createWalk(scope, evaluator, dims, bounds, iso, options);
    const { buffer } = await walk.layers(0, dims[0], scope);
    return { field: scope.release(buffer), evaluations: walk.evaluations };
  } finally {
    scope.destroy();
  }
}
