import dispatchWgsl from './dispatch.wgsl?raw';
import { wgslConstants } from './wgsl-constants';

/** A kernel's pipeline-cache key, WGSL (without the prepended parts) and override constants. */
export interface KernelSource {
  key: string;
  code: string;
  constants?: Record<string, number>;
}

interface CachedPipeline {
  /** The module's source and constants, so a key reused for other code is caught, not served stale. */
  source: string;
  pipeline: GPUComputePipeline;
}

const pipelines = new WeakMap<GPUDevice, Map<string, CachedPipeline>>();
const pending = new WeakMap<GPUDevice, Map<string, Promise<GPUComputePipeline>>>();

function pipelineCache(device: GPUDevice): Map<string, CachedPipeline> {
  let cache = pipelines.get(device);
  if (!cache) pipelines.set(device, (cache = new Map()));
  return cache;
}

/** The full WGSL of a kernel (dispatch.wgsl and the generated constants prepended) and its identity. */
function pipelineSource(key: string, code: string, constants?: Record<string, number>) {
  const wgsl = dispatchWgsl + '\n' + wgslConstants() + code;
  const source = wgsl + '\n//' + JSON.stringify(constants ?? {});
  return {
    source,
    descriptor: (device: GPUDevice): GPUComputePipelineDescriptor => ({
      layout: 'auto',
      label: key,
      compute: { module: device.createShaderModule({ code: wgsl, label: key }), entryPoint: 'main', constants },
    }),
  };
}

/**
 * A compute pipeline for `code` (dispatch.wgsl and wgslConstants() prepended), cached per device and
 * key. Created synchronously unless warmPipelines (or computePipelineAsync) already built it.
 */
export function computePipeline(
  device: GPUDevice,
  key: string,
  code: string,
  constants?: Record<string, number>,
): GPUComputePipeline {
  const cache = pipelineCache(device);
  const { source, descriptor } = pipelineSource(key, code, constants);
  const hit = cache.get(key);
  if (hit?.source === source) return hit.pipeline;
  const pipeline = device.createComputePipeline(descriptor(device));
  cache.set(key, { source, pipeline });
  return pipeline;
}

/**
 * Builds a compute pipeline with createComputePipelineAsync into computePipeline's cache, so that
 * later synchronous requests for the same key and code build nothing. Rejects with an error naming
 * the kernel when the driver refuses it.
 */
export function computePipelineAsync(
  device: GPUDevice,
  key: string,
  code: string,
  constants?: Record<string, number>,
): Promise<GPUComputePipeline> {
  const cache = pipelineCache(device);
  const { source, descriptor } = pipelineSource(key, code, constants);
  const hit = cache.get(key);
  if (hit?.source === source) return Promise.resolve(hit.pipeline);
  let inFlight = pending.get(device);
  if (!inFlight) pending.set(device, (inFlight = new Map()));
  const id = key + '\n' + source;
  const running = inFlight.get(id);
  if (running) return running;
  const promise = device
    .createComputePipelineAsync(descriptor(device))
    .then(
      (pipeline) => {
        // A synchronous request may have built the same pipeline meanwhile; keep the first.
        const now = cache.get(key);
        if (now?.source === source) return now.pipeline;
        cache.set(key, { source, pipeline });
        return pipeline;
      },
      (cause: unknown) => {
        const detail = cause instanceof Error ? cause.message : String(cause);
        throw new Error(`The GPU could not build the compute kernel "${key}": ${detail}`, { cause });
      },
    )
    .finally(() => inFlight.delete(id));
  inFlight.set(id, promise);
  return promise;
}
