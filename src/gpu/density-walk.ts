import c2fCommonWgsl from './c2f-common.wgsl?raw';
import c2fFillWgsl from './c2f-fill.wgsl?raw';
import c2fGatherWgsl from './c2f-gather.wgsl?raw';
import { COARSE_TO_FINE_DEFAULTS, CoarseLattice, type CoarseToFineOptions } from './coarse-to-fine';
import { BUFFER_USAGE, type Bounds, type Dims } from './constants';
import { PointSource, pointJobParams, type GpuFieldEvaluator } from './field-evaluator';
import type { FieldSource } from './field-source';
import { bindGroup, computePipeline, dispatchLinear, GpuScope, kernelLimits, readBuffers, type KernelLimits } from './gpu-kit';
import { checkDims, fieldLength } from './mesh';
import { requireBound, type WalkMode } from './reference/density-walk-cpu';
import type { WalkBoundKind } from './walk-bound';

const { STORAGE, COPY_SRC } = BUFFER_USAGE;

/** Options of the GPU density walk. */
export interface DensityWalkOptions extends Partial<KernelLimits> {
  mode: WalkMode;
  coarseToFine?: Partial<CoarseToFineOptions>;
}

/** A density walk as a field source for marching: layers are evaluated on demand, evaluations counted. */
export interface WalkSource extends FieldSource {
  /** Points evaluated so far (coarse samples included). */
  readonly evaluations: number;
  /** Which criterion decided what to evaluate: 'dense' or the bound's kind. */
  readonly kind?: WalkBoundKind | 'dense';
}

/**
 * A walk source from a function that evaluates layers [first, end) into a fresh field buffer and
 * returns how many points it evaluated.
 */
function walkSource(
  dims: Dims,
  evaluated: number,
  fill: (first: number, end: number, field: GPUBuffer, slabScope: GpuScope) => Promise<number>,
): WalkSource {
  let evaluations = evaluated;
  return {
    dims,
    perSlabBinding: true,
    get evaluations() {
      return evaluations;
    },
    async layers(first, end, slabScope) {
      const count = (end - first) * dims[1] * dims[2];
      const field = slabScope.buffer(count * 4, STORAGE | COPY_SRC, 'field');
      evaluations += await fill(first, end, field, slabScope);
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

  if (options.mode === 'dense') {
    return walkSource(dims, 0, async (first, end, results, slabScope) => {
      const count = (end - first) * layer;
      const params = pointJobParams(slabScope, { dims, bounds, mode: PointSource.Range, count, first: first * layer, outBase: first * layer });
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      evaluator.encode(pass, slabScope, { params, points: dummy, results, maxPoints: count }, maxPerDim);
      pass.end();
      device.queue.submit([encoder.finish()]);
      await device.queue.onSubmittedWorkDone();
      return count;
    });
  }

  const opts = { ...COARSE_TO_FINE_DEFAULTS, ...options.coarseToFine };
  const bound = requireBound({ bound: evaluator.bound, ...opts });
  const lattice = new CoarseLattice(dims, opts.blockSize);
  const coarseIdx = lattice.coarsePointIndices();
  const listed = new Uint32Array(coarseIdx.length + 1);
  listed[0] = coarseIdx.length;
  listed.set(coarseIdx, 1);
  const coarseList = scope.upload(listed, STORAGE, 'coarse points');
  const coarseValues = scope.buffer(coarseIdx.length * 4, STORAGE | COPY_SRC, 'coarse values');
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  evaluator.encode(
    pass,
    scope,
    {
      params: pointJobParams(scope, { dims, bounds, mode: PointSource.List, count: coarseIdx.length, compactOut: true }),
      points: coarseList,
      results: coarseValues,
      maxPoints: coarseIdx.length,
    },
    maxPerDim,
  );
  pass.end();
  const [coarseBytes] = await readBuffers(device, scope, encoder, [{ buffer: coarseValues, size: coarseIdx.length * 4 }]);
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

  const source = walkSource(dims, coarseIdx.length, async (first, end, field, slabScope) => {
      const count = (end - first) * layer;
      // Refined blocks whose closed box and halo reach into layers [first, end).
      const blocks = Array.from(plan.refined).filter((id) => {
        const bx = Math.floor(id / blockYZ);
        return bx * k - 1 <= end - 1 && lattice.fineIndex(0, bx + 1) + 1 >= first;
      });
      const capacity = blocks.length * perBlock;
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      const fillParams = c2fParams(slabScope, first * layer, count, first, end, 0);
      dispatchLinear(pass, slabScope, fill, [bindGroup(device, fill, { 0: fillParams, 1: coarseValues, 2: field })], Math.ceil(count / 64), maxPerDim);
      let list: GPUBuffer | undefined;
      if (blocks.length) {
        list = slabScope.buffer((capacity + 1) * 4, STORAGE | COPY_SRC, 'refined points');
        const blockList = slabScope.upload(Uint32Array.from(blocks), STORAGE, 'refined blocks');
        const gatherParams = c2fParams(slabScope, first * layer, blocks.length, first, end, capacity);
        dispatchLinear(
          pass,
          slabScope,
          gather,
          [bindGroup(device, gather, { 0: gatherParams, 1: blockList, 2: flags, 3: list })],
          Math.ceil(capacity / 64),
          maxPerDim,
        );
        const params = pointJobParams(slabScope, { dims, bounds, mode: PointSource.List, count: capacity, outBase: first * layer });
        evaluator.encode(pass, slabScope, { params, points: list, results: field, maxPoints: capacity }, maxPerDim);
      }
      pass.end();
      if (list) {
        const [countBytes] = await readBuffers(device, slabScope, encoder, [{ buffer: list, size: 4 }]);
        return new Uint32Array(countBytes!)[0]!;
      }
      device.queue.submit([encoder.finish()]);
      await device.queue.onSubmittedWorkDone();
      return 0;
  });
  return Object.assign(source, { kind: plan.kind });
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
