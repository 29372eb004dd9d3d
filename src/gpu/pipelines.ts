import c2fCommonWgsl from './c2f-common.wgsl?raw';
import c2fFillWgsl from './c2f-fill.wgsl?raw';
import c2fGatherWgsl from './c2f-gather.wgsl?raw';
import type { DecoderWeights } from './decoder-weights';
import classifyWgsl from './mc-classify.wgsl?raw';
import mcCommonWgsl from './mc-common.wgsl?raw';
import trianglesWgsl from './mc-triangles.wgsl?raw';
import verticesWgsl from './mc-vertices.wgsl?raw';
import { computePipelineAsync, type KernelSource } from './pipeline-cache';
import pointJobWgsl from './point-job.wgsl?raw';
import scanAddWgsl from './scan-add.wgsl?raw';
import scanBlocksWgsl from './scan-blocks.wgsl?raw';
import { decodeKernel } from './triplane-decoder';
import featuresWgsl from './triplane-features.wgsl?raw';
import sampleWgsl from './triplane-sample.wgsl?raw';

/**
 * The mesher's fixed kernels, keyed and assembled exactly as their hosts request them
 * (marching-cubes.ts, scan.ts, density-walk.ts, ort-mesher.ts): the pipeline cache serves a warmed
 * pipeline only for the same key and the same code, so a host that drifts builds its own again.
 */
export const MESHER_KERNELS: readonly KernelSource[] = [
  { key: 'mc-classify', code: mcCommonWgsl + classifyWgsl },
  { key: 'mc-vertices', code: mcCommonWgsl + verticesWgsl },
  { key: 'mc-triangles', code: mcCommonWgsl + trianglesWgsl },
  { key: 'scan-blocks', code: scanBlocksWgsl },
  { key: 'scan-add', code: scanAddWgsl },
  { key: 'c2f-fill', code: c2fCommonWgsl + c2fFillWgsl },
  { key: 'c2f-gather', code: c2fCommonWgsl + c2fGatherWgsl },
  { key: 'triplane-features', code: pointJobWgsl + featuresWgsl + sampleWgsl },
];

/** Options of warmPipelines. */
export interface WarmPipelinesOptions {
  /** The decoder whose density and colour kernels to build (their override constants depend on it). */
  weights: DecoderWeights | null;
}

export const WARM_PIPELINES_DEFAULTS: WarmPipelinesOptions = { weights: null };

/** Every kernel a mesh needs: the fixed ones, plus the decode kernels of `weights` when given. */
export function mesherKernels(weights: DecoderWeights | null): KernelSource[] {
  return [...MESHER_KERNELS, ...(weights ? [decodeKernel(weights, false), decodeKernel(weights, true)] : [])];
}

/**
 * Builds every mesher pipeline with createComputePipelineAsync, in parallel, into the cache that
 * computePipeline reads, so the first mesh compiles nothing on the worker's thread. Call it while
 * the model loads; it rejects (naming the kernel) when the driver refuses one.
 *
 * @example
 * await warmPipelines(device, { weights });
 */
export async function warmPipelines(device: GPUDevice, options: Partial<WarmPipelinesOptions> = {}): Promise<void> {
  const { weights } = { ...WARM_PIPELINES_DEFAULTS, ...options };
  await Promise.all(mesherKernels(weights).map((k) => computePipelineAsync(device, k.key, k.code, k.constants)));
}
