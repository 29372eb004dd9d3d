import { deviceMemory, type GpuMemory } from './gpu-memory';
import { AppError } from '../lib/errors';

const MiB = 2 ** 20;

/**
 * The mesher's own budget, whatever the adapter offers: ORT shares the device (and may need larger
 * bindings for the encoder), so the mesher plans within these. Tests lower them through the options.
 */
export const MESHER_BUDGET = {
  /** Largest storage binding the mesher asks for. */
  maxBindingBytes: 128 * MiB,
  /** Largest buffer the mesher creates. */
  maxBufferBytes: 256 * MiB,
  /** Corner counts (8 B per corner) of one marching slab: the slab's largest buffer. */
  slabBytes: 16 * MiB,
  /**
   * Decoder points per queue submit: 32 768 × ~41.5 k multiply-adds (TripoSR's 120 → 64 ×9 → 4 MLP)
   * ≈ 1.4 G per submit, short enough for an operating system's GPU watchdog on weak GPUs.
   */
  maxPointsPerSubmit: 32_768,
} as const;

/** Limits a kernel host respects; tests lower them to force splitting. */
export interface KernelLimits {
  /** Largest storage binding, and largest buffer that gets bound, in bytes. */
  maxBindingBytes: number;
  /** Largest buffer of any kind, in bytes. */
  maxBufferBytes: number;
  maxWorkgroupsPerDimension: number;
  /** Byte budget of one marching slab's corner counts (at least one layer is always allowed). */
  slabBytes: number;
  /** Most decoder points in one queue submit (at least one coarse-to-fine block). */
  maxPointsPerSubmit: number;
}

/** The device's own limits, lowered to the mesher's budget and by any overrides. */
export function kernelLimits(device: GPUDevice, overrides: Partial<KernelLimits> = {}): KernelLimits {
  const maxBufferBytes = Math.min(device.limits.maxBufferSize, MESHER_BUDGET.maxBufferBytes, overrides.maxBufferBytes ?? Infinity);
  const maxBindingBytes = Math.min(
    device.limits.maxStorageBufferBindingSize,
    maxBufferBytes,
    MESHER_BUDGET.maxBindingBytes,
    overrides.maxBindingBytes ?? Infinity,
  );
  return {
    maxBindingBytes,
    maxBufferBytes,
    maxWorkgroupsPerDimension: Math.min(
      device.limits.maxComputeWorkgroupsPerDimension,
      overrides.maxWorkgroupsPerDimension ?? Infinity,
    ),
    slabBytes: Math.min(overrides.slabBytes ?? MESHER_BUDGET.slabBytes, maxBindingBytes),
    maxPointsPerSubmit: Math.max(1, overrides.maxPointsPerSubmit ?? MESHER_BUDGET.maxPointsPerSubmit),
  };
}

/**
 * Runs one stage of GPU work inside validation and out-of-memory error scopes, so a refused command
 * becomes a clear AppError instead of a silently wrong mesh; the scopes are popped whatever happens.
 */
export async function gpuStage<T>(device: GPUDevice, stage: string, run: () => Promise<T> | T): Promise<T> {
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  let result: T | undefined;
  let failure: unknown;
  let failed = false;
  try {
    result = await run();
  } catch (error) {
    failure = error;
    failed = true;
  }
  const validation = await device.popErrorScope().catch(() => null);
  const oom = await device.popErrorScope().catch(() => null);
  if (validation) {
    throw new AppError(
      'mesher-gpu-error',
      `The GPU refused the mesher's ${stage} work (${validation.message.split('\n')[0]}).`,
      { cause: validation },
    );
  }
  if (oom) throw new AppError('gpu-out-of-memory', 'The GPU ran out of memory at this resolution.', { cause: oom });
  if (failed) throw failure;
  return result as T;
}

/** Owns the GPU buffers of one operation, counts their bytes, and destroys them all at once. */
export class GpuScope {
  private readonly buffers: GPUBuffer[] = [];

  constructor(
    readonly device: GPUDevice,
    /** Where this scope's bytes are counted: the device's tracker unless a job brings its own. */
    readonly memory: GpuMemory = deviceMemory(device),
  ) {}

  /** A scope for a shorter-lived part of the same job, counted by the same tracker. */
  child(): GpuScope {
    return new GpuScope(this.device, this.memory);
  }

  /** A buffer of at least `size` bytes (rounded up to 4, at least 4). */
  buffer(size: number, usage: GPUBufferUsageFlags, label: string): GPUBuffer {
    return this.track(this.device.createBuffer({ size: Math.max(4, Math.ceil(size / 4) * 4), usage, label }));
  }

  /** A buffer holding `data`, created mapped so no staging copy is needed. */
  upload(data: ArrayBufferView, usage: GPUBufferUsageFlags, label: string): GPUBuffer {
    const size = Math.max(4, Math.ceil(data.byteLength / 4) * 4);
    const buffer = this.track(this.device.createBuffer({ size, usage, label, mappedAtCreation: true }));
    new Uint8Array(buffer.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    buffer.unmap();
    return buffer;
  }

  /** A uniform buffer holding `data`. */
  uniform(data: ArrayBufferView, label: string): GPUBuffer {
    return this.upload(data, GPUBufferUsage.UNIFORM, label);
  }

  /** Hands a buffer to the caller: the scope no longer destroys or counts it. */
  release(buffer: GPUBuffer): GPUBuffer {
    const i = this.buffers.indexOf(buffer);
    if (i >= 0) {
      this.buffers.splice(i, 1);
      this.memory.remove(buffer.size);
    }
    return buffer;
  }

  /** Destroys one buffer of this scope before the rest. */
  drop(buffer: GPUBuffer): void {
    this.release(buffer).destroy();
  }

  /** Destroys every buffer the scope still owns. */
  destroy(): void {
    for (const b of this.buffers.splice(0)) {
      this.memory.remove(b.size);
      b.destroy();
    }
  }

  private track(buffer: GPUBuffer): GPUBuffer {
    this.buffers.push(buffer);
    this.memory.add(buffer.size);
    return buffer;
  }
}

export { computePipeline, computePipelineAsync } from './pipeline-cache';

/** Bind group 0 of a pipeline from buffers by binding number. */
export function bindGroup(device: GPUDevice, pipeline: GPUComputePipeline, buffers: Record<number, GPUBuffer>, group = 0): GPUBindGroup {
  return device.createBindGroup({
    layout: pipeline.getBindGroupLayout(group),
    entries: Object.entries(buffers).map(([binding, buffer]) => ({ binding: Number(binding), resource: { buffer } })),
  });
}

/**
 * Encodes `workgroups` workgroups of a 1-D kernel, split into chunks whose dispatch shape stays
 * within maxWorkgroupsPerDimension; each chunk's first workgroup index goes to group 1 (dispatch.wgsl).
 */
export function dispatchLinear(
  pass: GPUComputePassEncoder,
  scope: GpuScope,
  pipeline: GPUComputePipeline,
  groups: GPUBindGroup[],
  workgroups: number,
  maxPerDim: number,
): void {
  const perChunk = maxPerDim ** 3;
  pass.setPipeline(pipeline);
  groups.forEach((g, i) => pass.setBindGroup(i === 0 ? 0 : i + 1, g));
  for (let base = 0; base < workgroups; base += perChunk) {
    const n = Math.min(perChunk, workgroups - base);
    const x = Math.min(n, maxPerDim);
    const y = Math.min(Math.ceil(n / x), maxPerDim);
    const z = Math.ceil(n / (x * y));
    const baseBuffer = scope.uniform(new Uint32Array([base, 0, 0, 0]), 'dispatch base');
    pass.setBindGroup(1, bindGroup(scope.device, pipeline, { 0: baseBuffer }, 1));
    pass.dispatchWorkgroups(x, y, z);
  }
}

/** Copies buffers to mappable staging buffers, submits, and returns their bytes once mapped. */
export async function readBuffers(
  device: GPUDevice,
  scope: GpuScope,
  encoder: GPUCommandEncoder,
  sources: { buffer: GPUBuffer; offset?: number; size: number }[],
): Promise<ArrayBuffer[]> {
  const staging = sources.map((s) => {
    const size = Math.max(4, Math.ceil(s.size / 4) * 4);
    const buffer = scope.buffer(size, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, 'readback');
    if (s.size > 0) encoder.copyBufferToBuffer(s.buffer, s.offset ?? 0, buffer, 0, size);
    return buffer;
  });
  device.queue.submit([encoder.finish()]);
  return Promise.all(
    staging.map(async (b, i) => {
      await b.mapAsync(GPUMapMode.READ);
      const bytes = b.getMappedRange().slice(0, sources[i]!.size);
      b.unmap();
      return bytes;
    }),
  );
}
